"""The live values that ground a plan: distinct column values, table names and the data's span.

The planner and validation see only a :class:`Choices`, never the warehouse; build one with
:func:`warehouse_choices`, or from plain values.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date
from typing import Any, Protocol

from atomwork.table import Table
from atomwork.tools.base import ChoiceSource
from atomwork.tools.warehouse.periods import period_choices


class WarehouseLike(Protocol):
    """What :func:`warehouse_choices` reads; :class:`atomwork.tools.warehouse.Warehouse` has it."""

    def fetch(self, sql: str, params: Sequence[Any] | None = None) -> Table: ...

    def tables(self) -> list[str]: ...

    def date_range(self) -> tuple[date, date] | None: ...


ColumnValues = Callable[[str, str], Sequence[str]] | Mapping[tuple[str, str], Sequence[str]]
"""``(table, column) -> distinct values``, as a function or a mapping."""


class Choices:
    """The live values that ground a plan: distinct column values, table names, the data span.

    The planner and :func:`validate_plan` see only this object, never the warehouse; build it
    with :func:`warehouse_choices`, or from plain values (tests, other data sources)::

        Choices({("region", "r_name"): ["ASIA", "EUROPE"]}, tables=["orders"], span=(d1, d2))

    Column lookups are cached; a column with more than ``max_values`` distinct values, or one
    that cannot be read, is not enumerated (the argument stays a bounded free string).
    """

    def __init__(
        self,
        column_values: ColumnValues | None = None,
        *,
        tables: Sequence[str] = (),
        span: tuple[date, date] | None = None,
        max_values: int = 60,
    ) -> None:
        self._lookup = column_values
        self.tables = list(tables)
        self.span = span
        self.max_values = max_values
        self._cache: dict[tuple[str, str], list[str]] = {}

    def values(self, source: ChoiceSource) -> list[str]:
        """The allowed values for ``source`` (empty: not enumerable here)."""
        if source.kind == "period":
            return self.periods()
        if source.kind == "table":
            return list(self.tables)
        if source.kind != "column" or self._lookup is None:
            return []  # output columns come from the tools' metadata, not from the warehouse
        key = (source.table, source.column)
        if key not in self._cache:
            try:
                raw = self._lookup[key] if isinstance(self._lookup, Mapping) else self._lookup(*key)
                found = [str(v) for v in raw if v is not None and str(v).strip()]
            except Exception:  # a missing table or column only means "not enumerable"
                found = []
            self._cache[key] = found if len(found) <= self.max_values else []
        return list(self._cache[key])

    def periods(self) -> list[str]:
        return period_choices(*self.span) if self.span is not None else []


def warehouse_choices(warehouse: WarehouseLike, *, max_values: int = 60) -> Choices:
    """:class:`Choices` read from a warehouse (``SELECT DISTINCT`` per declared column, cached)."""

    def distinct(table: str, column: str) -> list[str]:
        quoted_table = ".".join(_quote(part) for part in table.split("."))
        rows = warehouse.fetch(
            f"SELECT DISTINCT {_quote(column)} FROM {quoted_table} WHERE {_quote(column)} IS NOT NULL "
            f"ORDER BY 1 LIMIT {max_values + 1}"
        ).rows
        return [str(r[0]) for r in rows]

    return Choices(distinct, tables=warehouse.tables(), span=warehouse.date_range(), max_values=max_values)


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
