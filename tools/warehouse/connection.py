"""The embedded, read-only data warehouse: one DuckDB or SQLite file behind a thread-safe facade.

By default the seeded demo warehouse under ``$ATOMWORK_HOME`` (see :mod:`.seed`); a user's own
DuckDB or SQLite file can be opened instead. Every connection is read-only, external file access
is disabled, and user SQL must be a single ``SELECT`` (see :mod:`.sql_guard`).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

import duckdb

from atomwork.deadline import current_deadline
from atomwork.errors import PermissionDenied
from atomwork.home import atomwork_home
from atomwork.limits import clip_value
from atomwork.policy import Access
from atomwork.table import Table
from atomwork.tools.warehouse.catalog import WarehouseCatalog
from atomwork.tools.warehouse.limits import QueryLimits
from atomwork.tools.warehouse.results import QueryResult, plain_value
from atomwork.tools.warehouse.seed import SCHEMA_VERSION, build_demo_warehouse
from atomwork.tools.warehouse.sql_access import govern_select
from atomwork.tools.warehouse.sql_guard import (
    SAFE_CONFIG,
    WarehouseError,
    first_line,
    load_extension,
    parse_select,
    sql_string,
)

__all__ = ["DEFAULT_ROW_LIMIT", "DEFAULT_TIMEOUT_S", "QueryResult", "Warehouse", "default_warehouse_path"]

DEFAULT_ROW_LIMIT = 200
DEFAULT_TIMEOUT_S = 30.0
_SQLITE_MAGIC = b"SQLite format 3\x00"
_USER_DB_ALIAS = "userdb"


def default_warehouse_path() -> Path:
    return atomwork_home() / "warehouse.duckdb"


class _Connection:
    """The DuckDB connection a warehouse and its governed views share."""

    def __init__(self, con: duckdb.DuckDBPyConnection, limits: QueryLimits | None = None) -> None:
        self.con = con
        self.limits = limits if limits is not None else QueryLimits()
        self.lock = threading.Lock()
        self.closed = False


# --------------------------------------------------------------------------- the warehouse


class Warehouse(WarehouseCatalog):
    """A read-only view of one database. Safe to share between threads (a cursor per call).

    :meth:`governed` gives the same database as one user may see it (see :mod:`.sql_access`)."""

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection | _Connection,
        *,
        path: Path,
        kind: Literal["duckdb", "sqlite"],
        is_demo: bool = False,
        database: str | None = None,
        access: Access | None = None,
    ) -> None:
        self._shared = con if isinstance(con, _Connection) else _Connection(con)
        self.path = path
        self.kind = kind
        self.is_demo = is_demo
        self._database = database
        self.access = access
        """Whose view this is: tables they may not read are hidden, masked columns read as NULL."""
        self._tables: list[str] | None = None
        self._date_range: tuple[date, date] | Literal[False] | None = False
        self._distinct: dict[tuple[str, str], list[str]] = {}

    # ---- opening

    @classmethod
    def open(
        cls, path: str | Path | None = None, *, scale: float = 0.01, limits: QueryLimits | None = None
    ) -> Warehouse:
        """Open the demo warehouse (``path=None``; built if missing) or a user's DuckDB/SQLite file.
        ``limits``: memory, rows and value length of its statements (default: from the environment)."""
        limits = limits if limits is not None else QueryLimits.from_env()
        if path is None:
            target = default_warehouse_path()
            if target.exists():
                try:
                    warehouse = cls._open_duckdb(target, is_demo=True, limits=limits)
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
            return cls._open_duckdb(target, is_demo=True, limits=limits)
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
            return cls._open_sqlite(target, limits)
        if len(header) >= 12 and header[8:12] == b"DUCK":
            return cls._open_duckdb(target, is_demo=False, limits=limits)
        raise WarehouseError(f"{target} is neither a DuckDB nor a SQLite database file")

    @classmethod
    def _open_duckdb(cls, path: Path, *, is_demo: bool, limits: QueryLimits) -> Warehouse:
        config = {
            **SAFE_CONFIG,
            "memory_limit": limits.memory_limit,
            "enable_external_access": False,
            "lock_configuration": True,
        }
        try:
            con = duckdb.connect(str(path), read_only=True, config=config)
        except duckdb.Error as exc:
            raise WarehouseError(f"cannot open DuckDB file {path}: {first_line(exc)}") from exc
        return cls(_Connection(con, limits), path=path, kind="duckdb", is_demo=is_demo)

    @classmethod
    def _open_sqlite(cls, path: Path, limits: QueryLimits) -> Warehouse:
        try:
            con = duckdb.connect(":memory:", config={**SAFE_CONFIG, "memory_limit": limits.memory_limit})
        except duckdb.Error as exc:
            raise WarehouseError(f"cannot open SQLite file {path}: {first_line(exc)}") from exc
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
        return cls(_Connection(con, limits), path=path, kind="sqlite", database=_USER_DB_ALIAS)

    def governed(self, access: Access) -> Warehouse:
        """This database as ``access``'s user may see it (sharing the connection; closing either
        closes both)."""
        return Warehouse(
            self._shared,
            path=self.path,
            kind=self.kind,
            is_demo=self.is_demo,
            database=self._database,
            access=access,
        )

    def close(self) -> None:
        with self._shared.lock:
            if not self._shared.closed:
                self._shared.closed = True
                self._shared.con.close()

    def __enter__(self) -> Warehouse:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        governed = f", user={self.access.user!r}" if self.access is not None else ""
        return f"Warehouse({str(self.path)!r}, kind={self.kind!r}, demo={self.is_demo}{governed})"

    # ---- low-level access

    @contextmanager
    def _cursor(self) -> Iterator[duckdb.DuckDBPyConnection]:
        with self._shared.lock:
            if self._shared.closed:
                raise WarehouseError("the warehouse is closed")
            cur = self._shared.con.cursor()
        try:
            if self._database is not None:
                cur.execute(f"USE {self._database}")
            yield cur
        finally:
            cur.close()

    def _run(
        self,
        sql: str,
        params: Sequence[Any] | None = None,
        *,
        limit: int | None,
        timeout: float,
        masked: tuple[str, ...] = (),
    ) -> QueryResult:
        limits = self._shared.limits
        # The statement timeout, or less when the calling tool's deadline comes first.
        budget = timeout if timeout > 0 else math.inf
        deadline = current_deadline()
        by_deadline = deadline is not None and deadline.remaining() < budget
        if deadline is not None:
            budget = min(budget, deadline.remaining())
        if budget <= 0:
            raise WarehouseError("the tool's time limit ran out before the query could start")
        cap = limits.max_rows if limit is None else min(limit, limits.max_rows)
        with self._cursor() as cur:
            timer = threading.Timer(budget, cur.interrupt) if budget != math.inf else None
            if timer is not None:
                timer.daemon = True
                timer.start()
            try:
                cur.execute(sql, list(params) if params is not None else None)
                columns = [d[0] for d in (cur.description or [])]
                raw = cur.fetchmany(cap + 1)
            except duckdb.InterruptException as exc:
                if by_deadline and deadline is not None:
                    raise WarehouseError(
                        f"the query was stopped at the tool's time limit of {deadline.seconds:g}s"
                    ) from exc
                raise WarehouseError(f"the query ran longer than {timeout:g}s and was stopped") from exc
            except duckdb.Error as exc:
                raise WarehouseError(f"query failed: {first_line(exc)}") from exc
            finally:
                if timer is not None:
                    timer.cancel()
        if limit is None and len(raw) > cap:
            raise WarehouseError(f"the query returned more than {cap:,} rows; aggregate or filter it")
        truncated = len(raw) > cap
        rows = [
            [clip_value(plain_value(v), limits.max_cell_chars) for v in row]
            for row in (raw[:cap] if truncated else raw)
        ]
        return QueryResult(
            Table(columns=columns, rows=rows), truncated, cap if limit is not None else len(rows), masked
        )

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
        """The user's SELECT, checked (see :func:`.sql_guard.parse_select`); a governed view also
        checks its tables against the user's access (:class:`PermissionDenied`)."""
        return self._checked(sql)[0]

    def _checked(self, sql: str) -> tuple[str, str, tuple[str, ...]]:
        """``(the SQL as written, the SQL to run, the masked columns it reads)``."""
        with self._cursor() as cur:
            parsed = parse_select(sql, cur)
        if self.access is None:
            return parsed.text, parsed.text, ()
        governed = govern_select(parsed, self.access, self._base_columns)
        if governed.sql != parsed.text:
            with self._cursor() as cur:
                parse_select(governed.sql, cur)  # the rewrite is held to the same rules
        return parsed.text, governed.sql, governed.masked

    def _base_columns(self, name: str) -> list[tuple[str, str]] | None:
        """Every column of a table, masked or not (None for an unknown table)."""
        found = self._resolve(name, self._all_tables)
        return self._read_columns(found) if found is not None else None

    def run_query(
        self, sql: str, limit: int = DEFAULT_ROW_LIMIT, *, timeout: float = DEFAULT_TIMEOUT_S
    ) -> QueryResult:
        """Validate and run a user's read-only SELECT; at most ``limit`` rows come back."""
        if limit < 1:
            raise WarehouseError("limit must be at least 1")
        _, run, masked = self._checked(sql)
        return self._run(run, None, limit=limit, timeout=timeout, masked=masked)

    def explain(self, sql: str) -> None:
        """Plan a user's SELECT without running it: binder errors name the bad table or column."""
        _, run, _ = self._checked(sql)
        self._run(f"EXPLAIN {run}", None, limit=None, timeout=DEFAULT_TIMEOUT_S)

    def query(self, sql: str, limit: int = DEFAULT_ROW_LIMIT) -> Table:
        """Validate and run a user's read-only SELECT; see :meth:`run_query` for the truncation flag."""
        return self.run_query(sql, limit).table

    # ---- introspection

    @cached_property
    def _all_tables(self) -> list[str]:
        table = self.fetch(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_catalog = current_database() "
            "AND table_schema NOT IN ('information_schema', 'pg_catalog') "
            "ORDER BY table_schema <> 'main', table_schema, table_name"
        )
        return [name if schema == "main" else f"{schema}.{name}" for schema, name in table.rows]

    def tables(self) -> list[str]:
        """Tables and views of the warehouse (``schema.table`` outside the ``main`` schema); a
        governed view lists only those its user may read."""
        if self._tables is None:
            access = self.access
            self._tables = [t for t in self._all_tables if access is None or access.table_refusal(t) is None]
        return list(self._tables)

    def has_table(self, name: str) -> bool:
        return self._resolve_table(name) is not None

    def _resolve_table(self, name: str) -> str | None:
        return self._resolve(name, self.tables())

    @staticmethod
    def _resolve(name: str, known: list[str]) -> str | None:
        if name in known:
            return name
        lowered = {t.lower(): t for t in known}
        return lowered.get(name.strip().lower())

    def table_name(self, name: str) -> str:
        """The exact name of a known table (case-insensitive), or a WarehouseError listing the tables
        (a :class:`PermissionDenied` for one the user may not read)."""
        found = self._resolve_table(name)
        if found is None:
            hidden = self._resolve(name, self._all_tables) if self.access is not None else None
            if hidden is not None and self.access is not None:
                reason = self.access.table_refusal(hidden)
                raise PermissionDenied(reason or f"table {hidden!r} is not permitted")
            raise WarehouseError(
                f"unknown table {name!r}; known tables: {', '.join(self.tables()) or '(none)'}"
            )
        return found

    def columns(self, table: str) -> list[tuple[str, str]]:
        """Columns and types of a table; a governed view leaves out the columns masked for its user."""
        name = self.table_name(table)
        hidden = self.access.masked_columns(name) if self.access is not None else frozenset()
        return [(c, t) for c, t in self._read_columns(name) if c.lower() not in hidden]

    def _read_columns(self, name: str) -> list[tuple[str, str]]:
        schema, _, bare = name.rpartition(".")
        result = self.fetch(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_catalog = current_database() AND table_schema = ? AND table_name = ? "
            "ORDER BY ordinal_position",
            [schema or "main", bare],
        )
        return [(str(c), str(t)) for c, t in result.rows]
