"""Build the seeded demo warehouse: TPC-H (from DuckDB's ``tpch`` extension, loaded offline from
the ``duckdb-extension-tpch`` PyPI package) plus the generated HR, finance, support and marketing
tables of :mod:`.demo_data`, written to a temporary file and renamed into place.
"""

from __future__ import annotations

import csv
import os
import random
import tempfile
import uuid
from datetime import date
from pathlib import Path
from typing import Any

import duckdb

from atomwork.tools.warehouse.demo_data import (
    budget_rows,
    campaign_rows,
    employee_rows,
    expense_rows,
    month_end,
    month_starts,
    plant_sales_anomalies,
    ticket_rows,
)
from atomwork.tools.warehouse.sql_guard import SAFE_CONFIG, WarehouseError, load_extension

__all__ = ["SCHEMA_VERSION", "SEED", "build_demo_warehouse"]

SCHEMA_VERSION = "1"
"""Bumped whenever the seeded tables change; an older default warehouse is rebuilt."""
SEED = 20240917


def build_demo_warehouse(path: str | Path, *, scale: float = 0.01, seed: int = SEED) -> Path:
    """Build the seeded demo warehouse at ``path``: into a temp file first, then an atomic rename."""
    if not 0 < scale <= 10:
        raise WarehouseError(f"scale must be in (0, 10], got {scale}")
    target = Path(path).expanduser()
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        con = duckdb.connect(str(tmp), config=SAFE_CONFIG)
        try:
            _seed(con, scale=scale, seed=seed)
            con.execute("CHECKPOINT")
        finally:
            con.close()
        os.replace(tmp, target)
    finally:
        for leftover in (tmp, tmp.with_name(tmp.name + ".wal")):
            leftover.unlink(missing_ok=True)
    return target


def _load_csv(
    con: duckdb.DuckDBPyConnection, folder: Path, table: str, columns: dict[str, str], rows: list[list[Any]]
) -> None:
    path = folder / f"{table}.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(columns)
        writer.writerows([["" if v is None else v for v in row] for row in rows])
    spec = "{" + ", ".join(f"'{name}': '{dtype}'" for name, dtype in columns.items()) + "}"
    con.execute(
        f"CREATE TABLE {table} AS SELECT * FROM read_csv(?, header = true, columns = {spec}, nullstr = '')",
        [str(path)],
    )


def _seed(con: duckdb.DuckDBPyConnection, *, scale: float, seed: int) -> None:
    rng = random.Random(seed)
    load_extension(con, "tpch")
    con.execute("CALL dbgen(sf = ?)", [scale])
    first, last = con.execute("SELECT min(o_orderdate), max(o_orderdate) FROM orders").fetchone() or (
        None,
        None,
    )
    assert isinstance(first, date) and isinstance(last, date)
    regions = [r[0] for r in con.execute("SELECT r_name FROM region ORDER BY r_name").fetchall()]
    months = month_starts(first, last)
    full_months = [m for m in months if month_end(m) <= last]
    # Pre-anomaly average monthly revenue per region and year: the basis of the budgets.
    base_revenue = {
        (r, int(y)): float(v)
        for r, y, v in con.execute(
            "SELECT r_name, year(o_orderdate), sum(l_extendedprice * (1 - l_discount)) "
            "/ count(DISTINCT date_trunc('month', o_orderdate)) "
            "FROM lineitem JOIN orders ON l_orderkey = o_orderkey JOIN customer ON o_custkey = c_custkey "
            "JOIN nation ON c_nationkey = n_nationkey JOIN region ON n_regionkey = r_regionkey "
            "WHERE o_orderdate <= ? GROUP BY ALL",
            [month_end(full_months[-1])],
        ).fetchall()
    }
    plant_sales_anomalies(con, rng, regions)
    employees = employee_rows(rng, regions, full_months)
    campaigns = campaign_rows(rng, regions, months, last)
    expenses = expense_rows(rng, regions, full_months, employees, campaigns)
    budgets = budget_rows(rng, regions, first, base_revenue, expenses)
    tickets = ticket_rows(con, rng, regions, months, last)
    with tempfile.TemporaryDirectory(prefix="atomwork-seed-") as folder:
        where = Path(folder)
        _load_csv(
            con,
            where,
            "employees",
            {
                "employee_id": "INTEGER",
                "name": "VARCHAR",
                "department": "VARCHAR",
                "region": "VARCHAR",
                "hire_date": "DATE",
                "termination_date": "DATE",
                "salary": "DOUBLE",
            },
            employees,
        )
        _load_csv(
            con,
            where,
            "campaigns",
            {
                "campaign_id": "INTEGER",
                "name": "VARCHAR",
                "channel": "VARCHAR",
                "region": "VARCHAR",
                "start_date": "DATE",
                "end_date": "DATE",
                "spend": "DOUBLE",
                "leads": "INTEGER",
                "conversions": "INTEGER",
            },
            campaigns,
        )
        _load_csv(
            con,
            where,
            "expenses",
            {
                "month": "DATE",
                "region": "VARCHAR",
                "department": "VARCHAR",
                "category": "VARCHAR",
                "amount": "DOUBLE",
            },
            expenses,
        )
        _load_csv(
            con,
            where,
            "budgets",
            {"month": "DATE", "region": "VARCHAR", "revenue_budget": "DOUBLE", "expense_budget": "DOUBLE"},
            budgets,
        )
        _load_csv(
            con,
            where,
            "support_tickets",
            {
                "ticket_id": "INTEGER",
                "opened_at": "TIMESTAMP",
                "closed_at": "TIMESTAMP",
                "region": "VARCHAR",
                "customer_key": "INTEGER",
                "category": "VARCHAR",
                "priority": "VARCHAR",
                "csat": "INTEGER",
            },
            tickets,
        )
    con.execute("CREATE TABLE warehouse_info (key VARCHAR, value VARCHAR)")
    con.executemany(
        "INSERT INTO warehouse_info VALUES (?, ?)",
        [
            ["schema_version", SCHEMA_VERSION],
            ["scale", repr(float(scale))],
            ["seed", str(seed)],
            ["duckdb_version", duckdb.__version__],
        ],
    )
