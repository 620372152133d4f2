"""Reading what a warehouse holds: row counts, a schema summary for prompts, the data's date
span and the distinct values of a column (cached: the data is read-only).

A mixin of :class:`~atomwork.tools.warehouse.connection.Warehouse`, kept apart from the
connection and SQL handling.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING, Any, Literal

from atomwork.errors import PermissionDenied
from atomwork.policy import Access
from atomwork.table import Table

__all__ = ["WarehouseCatalog"]


class WarehouseCatalog:
    """Introspection on top of ``fetch``/``scalar``/``tables``/``columns`` of the warehouse."""

    access: Access | None
    _date_range: tuple[date, date] | Literal[False] | None
    _distinct: dict[tuple[str, str], list[str]]

    if TYPE_CHECKING:

        def fetch(self, sql: str, params: Sequence[Any] | None = None) -> Table: ...
        def scalar(self, sql: str, params: Sequence[Any] | None = None) -> Any: ...
        def tables(self) -> list[str]: ...
        def has_table(self, name: str) -> bool: ...
        def table_name(self, name: str) -> str: ...
        def columns(self, table: str) -> list[tuple[str, str]]: ...

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
            if self.access is not None and str(column).lower() in self.access.masked_columns(name):
                continue
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
        access = self.access
        if access is not None and (
            access.table_refusal(table) is not None or column.lower() in access.masked_columns(table)
        ):
            raise PermissionDenied(f"the values of {table}.{column} are not permitted for this user")
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
