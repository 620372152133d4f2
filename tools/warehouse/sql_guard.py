"""The warehouse's safety rules: the read-only SQL check, offline extension loading, and the
one error type for everything the warehouse refuses.
"""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
from pydantic import BaseModel, ConfigDict

from atomwork.errors import ToolError

__all__ = [
    "ALLOWED_TABLE_FUNCTIONS",
    "SAFE_CONFIG",
    "ParsedSelect",
    "WarehouseError",
    "first_line",
    "load_extension",
    "parse_select",
    "sql_string",
    "validate_select",
]

ALLOWED_TABLE_FUNCTIONS = frozenset({"range", "generate_series", "unnest"})
"""The only table functions a user's query may call. An allow-list, not a block-list: the SQLite
scanner's ``sqlite_scan``/``sqlite_attach``/``sqlite_query`` ignore ``enable_external_access`` (they
read any file on the host, and ``sqlite_query`` runs out of reach of the statement timeout), and
extensions add more such functions with every release."""

SAFE_CONFIG: dict[str, Any] = {
    # Never reach for extensions.duckdb.org: every extension comes from a PyPI package.
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
}


class WarehouseError(ToolError):
    """The warehouse cannot be opened or refused a query; the message is meant for a human."""


def sql_string(text: str) -> str:
    """A SQL string literal (for the few statements that take no parameters: LOAD, ATTACH)."""
    return "'" + text.replace("'", "''") + "'"


def extension_file(name: str) -> Path | None:
    """The extension binary shipped by the ``duckdb-extension-<name>`` PyPI package, if installed.

    Those packages put ``<name>.duckdb_extension`` under ``duckdb_extension_<name>/extensions/v<ver>/``,
    built for that exact DuckDB version."""
    spec = importlib.util.find_spec(f"duckdb_extension_{name}")
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        candidate = Path(location) / "extensions" / f"v{duckdb.__version__}" / f"{name}.duckdb_extension"
        if candidate.is_file():
            return candidate
    return None


def load_extension(con: duckdb.DuckDBPyConnection, name: str) -> None:
    """Load a DuckDB extension offline, from its PyPI package (or an already installed copy)."""
    path = extension_file(name)
    package = f"duckdb-extension-{name.replace('_', '-')}=={duckdb.__version__}"
    try:
        if path is not None:
            con.execute(f"LOAD {sql_string(str(path))}")
        else:
            con.execute(f"LOAD {name}")
    except duckdb.Error as exc:
        raise WarehouseError(
            f"the DuckDB {name!r} extension could not be loaded offline; install it with "
            f"`pip install '{package}'` ({exc})"
        ) from exc


class ParsedSelect(BaseModel):
    """A user's single read-only SELECT, as DuckDB's own parser sees it."""

    model_config = ConfigDict(frozen=True)

    text: str
    """The statement, stripped."""
    tables: tuple[str, ...]
    """Every table it names in a FROM or JOIN (``schema.table`` when qualified), CTE names included."""
    ctes: frozenset[str]
    """Names its WITH clauses define (lowercased)."""


def validate_select(sql: str, con: duckdb.DuckDBPyConnection | None = None) -> str:
    """Return the single read-only ``SELECT`` in ``sql`` (without a trailing ``;``) or raise.

    See :func:`parse_select` for what is checked."""
    return parse_select(sql, con).text


def parse_select(sql: str, con: duckdb.DuckDBPyConnection | None = None) -> ParsedSelect:
    """Check ``sql`` with DuckDB's own parser and return what it reads, or raise WarehouseError.

    Exactly one statement, of type SELECT, that DuckDB can serialize as a plain query (which rules
    out PRAGMA, rewritten by the parser into a SELECT), calling no table function outside
    :data:`ALLOWED_TABLE_FUNCTIONS`.
    """
    refusal = "only read-only SELECT queries are allowed (one statement; WITH ... SELECT is fine)"
    if not isinstance(sql, str) or not sql.strip():
        raise WarehouseError(f"empty SQL: {refusal}")
    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as exc:
        raise WarehouseError(f"could not parse the SQL: {first_line(exc)}") from exc
    if len(statements) != 1:
        raise WarehouseError(f"{refusal}; got {len(statements)} statements")
    statement = statements[0]
    if statement.type != duckdb.StatementType.SELECT:
        raise WarehouseError(f"{refusal}; got {statement.type.name}")
    # The parser rewrites PRAGMA into a SELECT (and ``statement.query`` shows the rewrite), so also
    # ask DuckDB to serialize the original text: only plain queries can be serialized.
    text = sql.strip()
    scratch = con if con is not None else duckdb.connect(":memory:", config=SAFE_CONFIG)
    try:
        row = scratch.execute("SELECT json_serialize_sql(?)::VARCHAR", [text]).fetchone()
    except duckdb.Error as exc:
        raise WarehouseError(f"could not parse the SQL: {first_line(exc)}") from exc
    finally:
        if con is None:
            scratch.close()
    parsed: dict[str, Any] = json.loads(str(row[0])) if row is not None else {"error": True}
    serialized = parsed.get("statements")
    if parsed.get("error") or not isinstance(serialized, list) or len(serialized) != 1:
        raise WarehouseError(f"{refusal}; this statement is not a plain query")
    tables: list[str] = []
    ctes: set[str] = set()
    for node in _nodes(serialized[0]):
        kind = node.get("type")
        if kind == "TABLE_FUNCTION":
            function = node.get("function") or {}
            name = str(function.get("function_name", "")).lower()
            if name not in ALLOWED_TABLE_FUNCTIONS or function.get("schema") or function.get("catalog"):
                raise WarehouseError(
                    f"the table function {name or '?'}() is not allowed in a query; allowed: "
                    f"{', '.join(sorted(ALLOWED_TABLE_FUNCTIONS))}"
                )
        elif kind == "BASE_TABLE":
            parts = [str(node.get(k) or "") for k in ("catalog_name", "schema_name", "table_name")]
            tables.append(".".join(p for p in parts if p))
        cte_map = node.get("cte_map")
        if isinstance(cte_map, dict):
            ctes.update(str(entry.get("key", "")).lower() for entry in cte_map.get("map") or [])
    return ParsedSelect(text=text, tables=tuple(tables), ctes=frozenset(ctes))


def _nodes(tree: Any) -> Iterator[dict[str, Any]]:
    """Every JSON object in a serialized statement, depth first (subqueries and CTEs included)."""
    stack = [tree]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            yield item
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
