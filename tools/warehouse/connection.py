"""The embedded, read-only data warehouse: one DuckDB or SQLite file behind a thread-safe facade.

By default the seeded demo warehouse under ``$ATOMWORK_HOME`` (see :mod:`.seed`); a user's own
DuckDB or SQLite file can be opened instead. Every connection is read-only, external file access
is disabled, and user SQL must be a single ``SELECT`` (see :mod:`.sql_guard`).
"""

from __future__ import annotations

import math
import threading
from collections import defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

import duckdb

from atomwork.home import atomwork_home
from atomwork.table import Table
from atomwork.tools.warehouse.seed import SCHEMA_VERSION, build_demo_warehouse
from atomwork.tools.warehouse.sql_guard import (
    SAFE_CONFIG,
    WarehouseError,
    first_line,
    load_extension,
    sql_string,
    validate_select,
)

__all__ = ["DEFAULT_ROW_LIMIT", "DEFAULT_TIMEOUT_S", "QueryResult", "Warehouse", "default_warehouse_path"]

DEFAULT_ROW_LIMIT = 200
DEFAULT_TIMEOUT_S = 30.0
_SQLITE_MAGIC = b"SQLite format 3\x00"
_USER_DB_ALIAS = "userdb"


def default_warehouse_path() -> Path:
    return atomwork_home() / "warehouse.duckdb"


def _plain(value: Any) -> Any:
    """A JSON-compatible version of a database value."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return None if math.isnan(value) else round(value, 4)
    if isinstance(value, Decimal):
        return round(float(value), 4)
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return round(value.total_seconds() / 3600, 4)
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return str(value)


@dataclass(frozen=True)
class QueryResult:
    table: Table
    truncated: bool
    limit: int

    @property
    def note(self) -> str:
        if self.truncated:
            return f"showing the first {self.limit} rows; the result has more (add filters or aggregate)"
        return ""


# --------------------------------------------------------------------------- the warehouse


class Warehouse:
    """A read-only view of one database. Safe to share between threads (a cursor per call)."""

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        *,
        path: Path,
        kind: Literal["duckdb", "sqlite"],
        is_demo: bool = False,
        database: str | None = None,
    ) -> None:
        self._con = con
        self.path = path
        self.kind = kind
        self.is_demo = is_demo
        self._database = database
        self._lock = threading.Lock()
        self._closed = False
        self._tables: list[str] | None = None
        self._date_range: tuple[date, date] | Literal[False] | None = False
        self._distinct: dict[tuple[str, str], list[str]] = {}

    # ---- opening

    @classmethod
    def open(cls, path: str | Path | None = None, *, scale: float = 0.01) -> Warehouse:
        """Open the demo warehouse (``path=None``; built if missing) or a user's DuckDB/SQLite file."""
        if path is None:
            target = default_warehouse_path()
            if target.exists():
                try:
                    warehouse = cls._open_duckdb(target, is_demo=True)
                except WarehouseError:
                    pass  # unreadable (e.g. an interrupted older build): rebuild it below
                else:
                    info = warehouse.info()
                    if info.get("schema_version") == SCHEMA_VERSION and info.get("scale") == repr(
                        float(scale)
                    ):
                        return warehouse
                    warehouse.close()
            build_demo_warehouse(target, scale=scale)
            return cls._open_duckdb(target, is_demo=True)
        target = Path(path).expanduser()
        if not target.exists():
            raise WarehouseError(f"warehouse file not found: {target}")
        if not target.is_file():
            raise WarehouseError(f"warehouse path is not a file: {target}")
        try:
            with target.open("rb") as fh:
                header = fh.read(16)
        except OSError as exc:
            raise WarehouseError(f"cannot read warehouse file {target}: {exc.strerror or exc}") from exc
        if header.startswith(_SQLITE_MAGIC):
            return cls._open_sqlite(target)
        if len(header) >= 12 and header[8:12] == b"DUCK":
            return cls._open_duckdb(target, is_demo=False)
        raise WarehouseError(f"{target} is neither a DuckDB nor a SQLite database file")

    @classmethod
    def _open_duckdb(cls, path: Path, *, is_demo: bool) -> Warehouse:
        config = {**SAFE_CONFIG, "enable_external_access": False, "lock_configuration": True}
        try:
            con = duckdb.connect(str(path), read_only=True, config=config)
        except duckdb.Error as exc:
            raise WarehouseError(f"cannot open DuckDB file {path}: {first_line(exc)}") from exc
        return cls(con, path=path, kind="duckdb", is_demo=is_demo)

    @classmethod
    def _open_sqlite(cls, path: Path) -> Warehouse:
        con = duckdb.connect(":memory:", config=SAFE_CONFIG)
        try:
            load_extension(con, "sqlite_scanner")
            con.execute(f"ATTACH {sql_string(str(path))} AS {_USER_DB_ALIAS} (TYPE sqlite, READ_ONLY)")
            con.execute(f"USE {_USER_DB_ALIAS}")
            # Probe the file now so a corrupt one fails here, not on the first query.
            con.execute("SELECT count(*) FROM information_schema.tables").fetchone()
            con.execute("SET enable_external_access = false")
            con.execute("SET lock_configuration = true")
        except WarehouseError:
            con.close()
            raise
        except duckdb.Error as exc:
            con.close()
            raise WarehouseError(f"cannot open SQLite file {path}: {first_line(exc)}") from exc
        return cls(con, path=path, kind="sqlite", database=_USER_DB_ALIAS)

    def close(self) -> None:
        with self._lock:
            if not self._closed:
                self._closed = True
                self._con.close()

    def __enter__(self) -> Warehouse:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Warehouse({str(self.path)!r}, kind={self.kind!r}, demo={self.is_demo})"

    # ---- low-level access

    @contextmanager
    def _cursor(self) -> Iterator[duckdb.DuckDBPyConnection]:
        with self._lock:
            if self._closed:
                raise WarehouseError("the warehouse is closed")
            cur = self._con.cursor()
        try:
            if self._database is not None:
                cur.execute(f"USE {self._database}")
            yield cur
        finally:
            cur.close()

    def _run(
        self, sql: str, params: Sequence[Any] | None = None, *, limit: int | None, timeout: float
    ) -> QueryResult:
        with self._cursor() as cur:
            timer = threading.Timer(timeout, cur.interrupt) if timeout > 0 else None
            if timer is not None:
                timer.daemon = True
                timer.start()
            try:
                cur.execute(sql, list(params) if params is not None else None)
                columns = [d[0] for d in (cur.description or [])]
                raw = cur.fetchmany(limit + 1) if limit is not None else cur.fetchall()
            except duckdb.InterruptException as exc:
                raise WarehouseError(f"the query ran longer than {timeout:g}s and was stopped") from exc
            except duckdb.Error as exc:
                raise WarehouseError(f"query failed: {first_line(exc)}") from exc
            finally:
                if timer is not None:
                    timer.cancel()
        truncated = limit is not None and len(raw) > limit
        rows = [[_plain(v) for v in row] for row in (raw[:limit] if truncated else raw)]
        return QueryResult(Table(columns=columns, rows=rows), truncated, limit or len(rows))

    def fetch(
        self, sql: str, params: Sequence[Any] | None = None, *, timeout: float = DEFAULT_TIMEOUT_S
    ) -> Table:
        """Run trusted, parameterized SQL written by atomwork's own tools (on the read-only connection)."""
        return self._run(sql, params, limit=None, timeout=timeout).table

    def scalar(self, sql: str, params: Sequence[Any] | None = None) -> Any:
        table = self.fetch(sql, params)
        return table.rows[0][0] if table.rows else None

    # ---- user SQL

    def validate(self, sql: str) -> str:
        with self._cursor() as cur:
            return validate_select(sql, cur)

    def run_query(
        self, sql: str, limit: int = DEFAULT_ROW_LIMIT, *, timeout: float = DEFAULT_TIMEOUT_S
    ) -> QueryResult:
        """Validate and run a user's read-only SELECT; at most ``limit`` rows come back."""
        if limit < 1:
            raise WarehouseError("limit must be at least 1")
        text = self.validate(sql)
        return self._run(text, None, limit=limit, timeout=timeout)

    def explain(self, sql: str) -> None:
        """Plan a user's SELECT without running it: binder errors name the bad table or column."""
        text = self.validate(sql)
        self._run(f"EXPLAIN {text}", None, limit=None, timeout=DEFAULT_TIMEOUT_S)

    def query(self, sql: str, limit: int = DEFAULT_ROW_LIMIT) -> Table:
        """Validate and run a user's read-only SELECT; see :meth:`run_query` for the truncation flag."""
        return self.run_query(sql, limit).table

    # ---- introspection

    def tables(self) -> list[str]:
        """Tables and views of the warehouse (``schema.table`` outside the ``main`` schema)."""
        if self._tables is None:
            table = self.fetch(
                "SELECT table_schema, table_name FROM information_schema.tables "
                "WHERE table_catalog = current_database() "
                "AND table_schema NOT IN ('information_schema', 'pg_catalog') "
                "ORDER BY table_schema <> 'main', table_schema, table_name"
            )
            self._tables = [name if schema == "main" else f"{schema}.{name}" for schema, name in table.rows]
        return list(self._tables)

    def has_table(self, name: str) -> bool:
        return self._resolve_table(name) is not None

    def _resolve_table(self, name: str) -> str | None:
        known = self.tables()
        if name in known:
            return name
        lowered = {t.lower(): t for t in known}
        return lowered.get(name.strip().lower())

    def table_name(self, name: str) -> str:
        """The exact name of a known table (case-insensitive), or a WarehouseError listing the tables."""
        found = self._resolve_table(name)
        if found is None:
            raise WarehouseError(
                f"unknown table {name!r}; known tables: {', '.join(self.tables()) or '(none)'}"
            )
        return found

    def columns(self, table: str) -> list[tuple[str, str]]:
        name = self.table_name(table)
        schema, _, bare = name.rpartition(".")
        result = self.fetch(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_catalog = current_database() AND table_schema = ? AND table_name = ? "
            "ORDER BY ordinal_position",
            [schema or "main", bare],
        )
        return [(str(c), str(t)) for c, t in result.rows]

    def describe(self, table: str) -> Table:
        """Columns and types of one table."""
        return Table(columns=["column", "type"], rows=[[c, t] for c, t in self.columns(table)])

    def row_count(self, table: str) -> int:
        name = self.table_name(table)
        quoted = ".".join('"' + part.replace('"', '""') + '"' for part in name.split("."))
        return int(self.scalar(f"SELECT count(*) FROM {quoted}") or 0)

    def schema_summary(self, *, with_counts: bool = True) -> str:
        """Compact text of every table and its columns, for a prompt."""
        rows = self.fetch(
            "SELECT table_schema, table_name, column_name, data_type FROM information_schema.columns "
            "WHERE table_catalog = current_database() "
            "AND table_schema NOT IN ('information_schema', 'pg_catalog') "
            "ORDER BY table_schema, table_name, ordinal_position"
        ).rows
        by_table: dict[str, list[str]] = defaultdict(list)
        for schema, table, column, dtype in rows:
            name = table if schema == "main" else f"{schema}.{table}"
            by_table[name].append(f"{column} {_short_type(str(dtype))}")
        lines = []
        for name in self.tables():
            count = f" [{self.row_count(name):,} rows]" if with_counts else ""
            lines.append(f"{name}{count}: {', '.join(by_table.get(name, []))}")
        span = self.date_range()
        if span is not None:
            lines.append(f"(orders span {span[0]} to {span[1]})")
        return "\n".join(lines)

    def date_range(self) -> tuple[date, date] | None:
        """First and last order date when the TPC-H ``orders`` table exists, else None."""
        if self._date_range is False:
            span: tuple[date, date] | None = None
            if self.has_table("orders") and "o_orderdate" in {c for c, _ in self.columns("orders")}:
                row = self.fetch("SELECT min(o_orderdate), max(o_orderdate) FROM orders").rows[0]
                if row[0] is not None and row[1] is not None:
                    span = (date.fromisoformat(str(row[0])[:10]), date.fromisoformat(str(row[1])[:10]))
            self._date_range = span
        return self._date_range

    def distinct(self, table: str, column: str) -> list[str]:
        """The sorted distinct non-null values of ``table.column`` as text (read once: the data is
        read-only)."""
        key = (table, column)
        if key not in self._distinct:
            rows = self.fetch(
                f'SELECT DISTINCT "{column}" FROM "{table}" WHERE "{column}" IS NOT NULL ORDER BY 1'
            ).rows
            self._distinct[key] = [str(r[0]) for r in rows]
        return list(self._distinct[key])

    def regions(self) -> list[str]:
        if not self.has_table("region"):
            return []
        return [str(r[0]) for r in self.fetch("SELECT r_name FROM region ORDER BY r_name").rows]

    def info(self) -> dict[str, str]:
        """The demo warehouse's build information (empty for a user's own file)."""
        if not self.has_table("warehouse_info"):
            return {}
        return {str(k): str(v) for k, v in self.fetch("SELECT key, value FROM warehouse_info").rows}


def _short_type(dtype: str) -> str:
    return {"INTEGER": "INT", "VARCHAR": "TEXT", "TIMESTAMP": "TS"}.get(dtype, dtype)
