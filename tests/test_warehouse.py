"""The embedded warehouse: seeding, read-only enforcement, user files, introspection, periods."""

from __future__ import annotations

import sqlite3
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

import duckdb
import pytest

from atomwork.errors import ToolError
from atomwork.tools.warehouse import Warehouse, WarehouseError, build_demo_warehouse, validate_select
from atomwork.tools.warehouse import seed as warehouse_module
from atomwork.tools.warehouse.periods import resolve_period

SEEDED = {"employees", "expenses", "budgets", "support_tickets", "campaigns"}
TPCH = {"customer", "lineitem", "nation", "orders", "part", "partsupp", "region", "supplier"}
REFUSAL = "only read-only SELECT queries are allowed"


# --------------------------------------------------------------------------- the demo warehouse


def test_default_warehouse_is_built_under_atomwork_home(warehouse: Warehouse, atomwork_home: Path) -> None:
    assert warehouse.path == atomwork_home / "warehouse.duckdb"
    assert warehouse.is_demo and warehouse.kind == "duckdb"
    assert set(warehouse.tables()) >= SEEDED | TPCH
    assert warehouse.date_range() == (date(1992, 1, 1), date(1998, 8, 2))
    assert warehouse.info()["scale"] == "0.01"
    assert warehouse.row_count("orders") == 15000  # TPC-H at scale factor 0.01
    # the atomic build leaves nothing half-written behind
    assert [p.name for p in atomwork_home.iterdir() if p.name.startswith(".")] == []


def test_seeded_tables_join_to_tpch_regions_and_span_its_dates(warehouse: Warehouse) -> None:
    regions = set(warehouse.regions())
    assert regions == {"AFRICA", "AMERICA", "ASIA", "EUROPE", "MIDDLE EAST"}
    for table in ("employees", "expenses", "budgets", "support_tickets", "campaigns"):
        assert set(warehouse.query(f"SELECT DISTINCT region FROM {table}").column("region")) == regions
    lo, hi = warehouse.query("SELECT min(month), max(month) FROM expenses").rows[0]
    assert lo == "1992-01-01" and hi == "1998-07-01"
    lo, hi = warehouse.query("SELECT min(opened_at)::DATE, max(opened_at)::DATE FROM support_tickets").rows[0]
    assert "1992-06-01" <= lo < "1992-07-01" and "1998-07-01" <= hi <= "1998-08-02"  # helpdesk from 1992-06
    # every ticket's customer exists and lives in the ticket's region
    mismatched = warehouse.query(
        "SELECT count(*) FROM support_tickets t JOIN customer ON t.customer_key = c_custkey "
        "JOIN nation ON c_nationkey = n_nationkey JOIN region ON n_regionkey = r_regionkey "
        "WHERE r_name <> t.region"
    ).rows[0][0]
    assert mismatched == 0
    assert (
        warehouse.query("SELECT count(*) FROM employees WHERE termination_date < hire_date").rows[0][0] == 0
    )
    assert warehouse.query("SELECT count(*) FROM support_tickets WHERE closed_at < opened_at").rows[0][0] == 0
    assert warehouse.query("SELECT count(*) FROM campaigns WHERE conversions > leads").rows[0][0] == 0


def test_reopening_reuses_the_built_file(warehouse: Warehouse) -> None:
    before = warehouse.path.stat().st_mtime_ns
    with Warehouse.open() as again:
        assert again.row_count("employees") == warehouse.row_count("employees")
    assert warehouse.path.stat().st_mtime_ns == before


def test_build_is_deterministic(warehouse: Warehouse, tmp_path: Path) -> None:
    copy = build_demo_warehouse(tmp_path / "copy.duckdb")
    with Warehouse.open(copy) as other:
        for table in sorted(SEEDED | {"orders", "lineitem"}):
            sql = f"SELECT count(*), sum(hash(t::VARCHAR)) FROM {table} t"
            assert other.query(sql).rows == warehouse.query(sql).rows, table


def test_failed_build_leaves_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(con: duckdb.DuckDBPyConnection, *, scale: float, seed: int) -> None:
        con.execute("CREATE TABLE half_built (x INT)")
        raise RuntimeError("crash in the middle of seeding")

    monkeypatch.setattr(warehouse_module, "_seed", boom)
    target = tmp_path / "warehouse.duckdb"
    with pytest.raises(RuntimeError):
        build_demo_warehouse(target)
    assert list(tmp_path.iterdir()) == []


def test_default_warehouse_is_rebuilt_for_another_scale(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ATOMWORK_HOME", str(tmp_path))
    with Warehouse.open(scale=0.002) as small:
        small_orders = small.row_count("orders")
        assert small.info()["scale"] == "0.002"
    with Warehouse.open(scale=0.004) as larger:
        assert larger.info()["scale"] == "0.004"
        assert larger.row_count("orders") > small_orders
    with pytest.raises(WarehouseError, match="scale"):
        build_demo_warehouse(tmp_path / "x.duckdb", scale=0)


# --------------------------------------------------------------------------- read-only enforcement


@pytest.mark.parametrize(
    "sql",
    [
        "INSERT INTO region VALUES (9, 'ATLANTIS', 'sunk')",
        "UPDATE region SET r_name = 'X'",
        "DELETE FROM region",
        "DROP TABLE region",
        "CREATE TABLE t AS SELECT 1",
        "SELECT 1; DROP TABLE region",
        "SELECT 1; SELECT 2",
        "COPY region TO '/tmp/atomwork_region.csv'",
        "ATTACH '/tmp/atomwork_other.duckdb' AS other",
        "DETACH warehouse",
        "PRAGMA version",
        "PRAGMA table_info('region')",
        "SET threads = 1",
        "CALL dbgen(sf = 0.01)",
        "INSTALL httpfs",
        "LOAD tpch",
        "EXPORT DATABASE '/tmp/atomwork_export'",
        "EXPLAIN SELECT 1",
        "",
    ],
)
def test_only_single_selects_are_allowed(warehouse: Warehouse, sql: str) -> None:
    with pytest.raises(WarehouseError) as info:
        warehouse.query(sql)
    assert isinstance(info.value, ToolError)
    assert REFUSAL in str(info.value) or "empty" in str(info.value)
    assert warehouse.row_count("region") == 5


def test_unparseable_sql_is_a_clear_error(warehouse: Warehouse) -> None:
    with pytest.raises(WarehouseError, match="could not parse"):
        warehouse.query("SELEC r_name FROM region")


def test_selects_and_ctes_run(warehouse: Warehouse) -> None:
    assert warehouse.query("SELECT count(*) AS n FROM region;").records() == [{"n": 5}]
    table = warehouse.query(
        "WITH r AS (SELECT r_name FROM region) SELECT r_name FROM r WHERE r_name LIKE 'A%' ORDER BY 1"
    )
    assert table.columns == ["r_name"] and table.rows == [["AFRICA"], ["AMERICA"], ["ASIA"]]
    assert validate_select("  SELECT 1 ; ") == "SELECT 1 ;"


def test_external_file_access_is_disabled(warehouse: Warehouse, tmp_path: Path) -> None:
    secret = tmp_path / "secret.csv"
    secret.write_text("a\n1\n")
    # A user's query may call no file-reading table function at all (the allow-list) ...
    with pytest.raises(WarehouseError, match=r"table function read_csv\(\) is not allowed"):
        warehouse.query(f"SELECT * FROM read_csv('{secret}')")
    # ... and the connection itself refuses file access even to atomwork's own SQL.
    with pytest.raises(WarehouseError, match=r"(?i)disabled|permission"):
        warehouse.fetch(f"SELECT * FROM read_csv('{secret}')")


def test_the_connection_itself_is_read_only(warehouse: Warehouse) -> None:
    # fetch() skips validation (it is for atomwork's own SQL); the connection still refuses writes.
    with pytest.raises(WarehouseError, match=r"(?i)read-only|read only"):
        warehouse.fetch("INSERT INTO region VALUES (9, 'ATLANTIS', 'sunk')")
    assert warehouse.row_count("region") == 5


def test_row_limit_truncates_with_a_note(warehouse: Warehouse) -> None:
    assert len(warehouse.query("SELECT * FROM lineitem").rows) == 200
    result = warehouse.run_query("SELECT l_orderkey FROM lineitem ORDER BY 1", limit=7)
    assert result.truncated and len(result.table.rows) == 7 and "first 7 rows" in result.note
    exact = warehouse.run_query("SELECT * FROM region", limit=5)
    assert not exact.truncated and exact.note == "" and len(exact.table.rows) == 5


def test_values_are_json_friendly(warehouse: Warehouse) -> None:
    row = warehouse.query(
        "SELECT o_orderdate, o_totalprice, o_orderkey, o_orderstatus FROM orders ORDER BY o_orderkey LIMIT 1"
    ).rows[0]
    assert isinstance(row[0], str) and len(row[0]) == 10
    assert isinstance(row[1], float) and isinstance(row[2], int) and isinstance(row[3], str)


def test_parallel_queries_from_threads(warehouse: Warehouse) -> None:
    expected = warehouse.query("SELECT count(*) FROM lineitem WHERE l_suppkey = 1").rows[0][0]

    def count(_: int) -> int:
        return int(warehouse.query("SELECT count(*) FROM lineitem WHERE l_suppkey = 1").rows[0][0])

    with ThreadPoolExecutor(max_workers=8) as pool:
        assert list(pool.map(count, range(32))) == [expected] * 32


# --------------------------------------------------------------------------- introspection


def test_schema_introspection(warehouse: Warehouse) -> None:
    assert warehouse.describe("ORDERS").records()[:2] == [
        {"column": "o_orderkey", "type": "BIGINT"},
        {"column": "o_custkey", "type": "BIGINT"},
    ]
    summary = warehouse.schema_summary()
    assert "orders [15,000 rows]: o_orderkey BIGINT" in summary
    assert "employees" in summary and "termination_date DATE" in summary
    assert "1992-01-01 to 1998-08-02" in summary


def test_unknown_table(warehouse: Warehouse) -> None:
    with pytest.raises(WarehouseError, match=r"unknown table 'invoices'.*orders"):
        warehouse.describe("invoices")
    with pytest.raises(WarehouseError, match=r"(?i)invoices"):
        warehouse.query("SELECT * FROM invoices")


# --------------------------------------------------------------------------- a user's own files


def test_users_duckdb_file(tmp_path: Path) -> None:
    path = tmp_path / "company.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE invoices (id INT, customer VARCHAR, amount DECIMAL(10,2), issued DATE)")
    con.execute(
        "INSERT INTO invoices VALUES (1, 'Acme', 120.50, '2024-01-03'), (2, 'Bolt', 80, '2024-02-01')"
    )
    con.execute("CREATE SCHEMA crm; CREATE TABLE crm.contacts (name VARCHAR)")
    con.close()
    with Warehouse.open(path) as wh:
        assert not wh.is_demo and wh.kind == "duckdb"
        assert wh.tables() == ["invoices", "crm.contacts"]
        assert wh.query("SELECT sum(amount) AS total FROM invoices").records() == [{"total": 200.5}]
        assert wh.describe("invoices").column("column") == ["id", "customer", "amount", "issued"]
        assert wh.describe("crm.contacts").rows == [["name", "VARCHAR"]]
        assert wh.date_range() is None
        with pytest.raises(WarehouseError, match=REFUSAL):
            wh.query("DELETE FROM invoices")
        with pytest.raises(WarehouseError):
            wh.fetch("DELETE FROM invoices")
    assert duckdb.connect(str(path)).execute("SELECT count(*) FROM invoices").fetchone() == (2,)


@pytest.mark.parametrize("suffix", [".sqlite", ".db", ".data"])
def test_users_sqlite_file(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"shop{suffix}"
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE sales (id INTEGER, region TEXT, amount REAL)")
    con.executemany("INSERT INTO sales VALUES (?, ?, ?)", [(1, "north", 10.0), (2, "south", 32.5)])
    con.commit()
    con.close()
    with Warehouse.open(path) as wh:
        assert wh.kind == "sqlite"
        assert wh.tables() == ["sales"]
        assert wh.query("SELECT region, amount FROM sales ORDER BY amount DESC").rows == [
            ["south", 32.5],
            ["north", 10.0],
        ]
        assert wh.describe("sales").column("column") == ["id", "region", "amount"]
        assert "sales [2 rows]: id BIGINT, region TEXT, amount DOUBLE" in wh.schema_summary()
        with pytest.raises(WarehouseError, match=REFUSAL):
            wh.query("INSERT INTO sales VALUES (3, 'east', 1)")
        with pytest.raises(WarehouseError, match=r"(?i)read-only"):
            wh.fetch("INSERT INTO sales VALUES (3, 'east', 1)")
        with ThreadPoolExecutor(max_workers=4) as pool:
            counts = list(pool.map(lambda _: wh.query("SELECT count(*) FROM sales").rows[0][0], range(8)))
        assert counts == [2] * 8
    check = sqlite3.connect(path)
    assert check.execute("SELECT count(*) FROM sales").fetchone() == (2,)
    check.close()


def test_missing_and_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(WarehouseError, match="not found"):
        Warehouse.open(tmp_path / "nope.duckdb")
    with pytest.raises(WarehouseError, match="not a file"):
        Warehouse.open(tmp_path)
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not a database at all")
    with pytest.raises(WarehouseError, match="neither a DuckDB nor a SQLite"):
        Warehouse.open(junk)
    broken = tmp_path / "broken.sqlite"
    broken.write_bytes(b"SQLite format 3\x00" + b"\x00" * 50)
    with pytest.raises(WarehouseError, match="SQLite"):
        Warehouse.open(broken)


def test_closed_warehouse_refuses_queries(tmp_path: Path) -> None:
    path = tmp_path / "tiny.duckdb"
    duckdb.connect(str(path)).execute("CREATE TABLE t AS SELECT 1 AS x").close()
    wh = Warehouse.open(path)
    wh.close()
    wh.close()  # idempotent
    with pytest.raises(WarehouseError, match="closed"):
        wh.query("SELECT * FROM t")


# --------------------------------------------------------------------------- periods

TODAY = date(1998, 8, 2)


@pytest.mark.parametrize(
    ("text", "start", "end", "label"),
    [
        ("1997", date(1997, 1, 1), date(1997, 12, 31), "1997"),
        ("1998-Q2", date(1998, 4, 1), date(1998, 6, 30), "1998-Q2"),
        ("Q2 1998", date(1998, 4, 1), date(1998, 6, 30), "1998-Q2"),
        ("1998 q2", date(1998, 4, 1), date(1998, 6, 30), "1998-Q2"),
        ("1996-Q4", date(1996, 10, 1), date(1996, 12, 31), "1996-Q4"),
        ("1998-02", date(1998, 2, 1), date(1998, 2, 28), "1998-02"),
        ("1996-02", date(1996, 2, 1), date(1996, 2, 29), "1996-02"),
        ("March 1997", date(1997, 3, 1), date(1997, 3, 31), "1997-03"),
        ("1997-H2", date(1997, 7, 1), date(1997, 12, 31), "1997-H2"),
        ("last_quarter", date(1998, 4, 1), date(1998, 6, 30), "1998-Q2"),
        ("Last Quarter", date(1998, 4, 1), date(1998, 6, 30), "1998-Q2"),
        ("last_month", date(1998, 7, 1), date(1998, 7, 31), "1998-07"),
        ("last_year", date(1997, 1, 1), date(1997, 12, 31), "1997"),
        ("this_quarter", date(1998, 7, 1), date(1998, 9, 30), "1998-Q3 (to date)"),
        ("last_90_days", date(1998, 5, 5), date(1998, 8, 2), "last 90 days (1998-05-05 to 1998-08-02)"),
        ("1997-01-01..1997-03-15", date(1997, 1, 1), date(1997, 3, 15), "1997-01-01 to 1997-03-15"),
        ("1996 to 1997-Q1", date(1996, 1, 1), date(1997, 3, 31), "1996 to 1997-Q1"),
        ("ALL", date(1992, 1, 1), TODAY, "all data (1992-01-01 to 1998-08-02)"),
    ],
)
def test_resolve_period(text: str, start: date, end: date, label: str) -> None:
    assert resolve_period(text, TODAY, earliest=date(1992, 1, 1)) == (start, end, label)


def test_last_quarter_in_the_first_quarter_wraps_the_year() -> None:
    assert resolve_period("last_quarter", date(1998, 2, 10))[:2] == (date(1997, 10, 1), date(1997, 12, 31))
    assert resolve_period("last_month", date(1998, 1, 10))[:2] == (date(1997, 12, 1), date(1997, 12, 31))


@pytest.mark.parametrize("text", ["", "   ", "soon", "1998-Q5", "1998-13", "Q2", "1998-02-30", "1998..1997"])
def test_junk_periods_are_tool_errors(text: str) -> None:
    with pytest.raises(ToolError, match="period"):
        resolve_period(text, TODAY)


def test_runaway_queries_are_stopped(warehouse: Warehouse) -> None:
    with pytest.raises(WarehouseError, match="longer than"):
        warehouse.run_query("SELECT count(*) FROM lineitem a, lineitem b, lineitem c", timeout=0.3)
    assert warehouse.query("SELECT 1 AS one").rows == [[1]]  # the warehouse still works afterwards
