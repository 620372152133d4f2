"""What the demo enterprise's tools share: the argument types (period, region), the TPC-H sales
join, and :class:`DemoData`, the warehouse seen through its date span (periods clipped to the data,
partial months marked, names spelled as the data spells them)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from pydantic import Field

from atomwork.errors import ToolError
from atomwork.table import Table
from atomwork.tool_result import ToolResult
from atomwork.tools.base import ChoiceSource
from atomwork.tools.format import PARTIAL, money, num
from atomwork.tools.warehouse import Warehouse
from atomwork.tools.warehouse.periods import PERIOD_HELP, resolve_period

__all__ = [
    "PERIOD",
    "PERIOD_DESC",
    "REGION",
    "REVENUE",
    "SALES_JOIN",
    "TPCH",
    "DemoData",
    "Period",
    "Region",
]

PERIOD_DESC = "time period, e.g. 1997, 1997-Q2, 1997-03, last_quarter, last_year or all"
REGION_DESC = "one region name (AFRICA, AMERICA, ASIA, EUROPE, MIDDLE EAST); omit for all regions"
PERIOD = ChoiceSource(kind="period")
REGION = ChoiceSource(table="region", column="r_name")

Period = Annotated[str, Field(description=PERIOD_DESC), PERIOD]
"""A period phrase, grounded in the periods the data covers."""
Region = Annotated[str | None, Field(description=REGION_DESC), REGION]
"""One region, grounded in the data's region names; None for all regions."""

SALES_JOIN = (
    "FROM lineitem JOIN orders ON l_orderkey = o_orderkey "
    "JOIN customer ON o_custkey = c_custkey JOIN nation ON c_nationkey = n_nationkey "
    "JOIN region ON n_regionkey = r_regionkey "
)
REVENUE = "sum(l_extendedprice * (1 - l_discount))"
TPCH = ("lineitem", "orders", "customer", "nation", "region")


class DemoData:
    """The warehouse and its data span, for one tool call."""

    def __init__(self, wh: Warehouse) -> None:
        self.wh = wh
        span = wh.date_range()
        self.earliest: date | None = span[0] if span else None
        self.today: date = span[1] if span else date.today()

    def period(self, period: str) -> tuple[date, date, str]:
        start, end, label = resolve_period(period, self.today, earliest=self.earliest)
        if self.earliest is not None and (end < self.earliest or start > self.today):
            raise ToolError(
                f"no data for {label} ({start} to {end}): the data covers {self.earliest} to {self.today}; "
                f"use {PERIOD_HELP}"
            )
        return start, end, label

    def span(self, start: date, end: date, label: str) -> str:
        """``label (start to end)``, with the ends clipped to the data."""
        lo = max(start, self.earliest) if self.earliest else start
        hi = min(end, self.today)
        return label if label.endswith(")") else f"{label} ({lo} to {hi})"

    def choose(self, value: str | None, table: str, column: str, what: str) -> str | None:
        """The data's spelling of ``value`` (case/underscore-insensitive); None for empty or 'all'."""
        if value is None:
            return None
        wanted = " ".join(value.replace("_", " ").split()).lower()
        if wanted in {"", "all", "any", "none", "total", "all regions"}:
            return None
        known = self.wh.distinct(table, column)
        for candidate in known:
            if candidate.lower() == wanted:
                return candidate
        raise ToolError(f"unknown {what} {value!r}; choose one of: {', '.join(known)}")

    def region(self, value: str | None) -> str | None:
        return self.choose(value, "region", "r_name", "region")

    def label_months(self, table: Table) -> None:
        """Rewrite the first column (``YYYY-MM``) with :meth:`month_label`, in place."""
        for row in table.rows:
            row[0] = self.month_label(str(row[0]))

    def month_label(self, month: str) -> str:
        """``YYYY-MM``, marked partial when the data covers only part of that month."""
        first = date.fromisoformat(f"{month}-01")
        next_month = date(first.year + first.month // 12, first.month % 12 + 1, 1)
        partial = (self.earliest is not None and first < self.earliest) or (
            next_month.toordinal() - 1 > self.today.toordinal()
        )
        return month + PARTIAL if partial else month

    @staticmethod
    def where_region(region: str | None, column: str) -> tuple[str, list[Any]]:
        return ("", []) if region is None else (f" AND {column} = ?", [region])

    @staticmethod
    def region_note(region: str | None) -> str:
        return f" in {region}" if region else ""

    def monthly_summary(
        self, table: Table, value: str, title: str, when: str, *, as_money: bool
    ) -> ToolResult:
        """Label the months of ``table`` and summarise ``value``: total, average, best and worst month."""
        month_idx = table.columns.index("month")
        for row in table.rows:
            row[month_idx] = self.month_label(str(row[month_idx]))
        if not table.rows:
            return ToolResult(summary=f"{title} for {when}: no data.", table=table)
        idx = table.columns.index(value)
        complete = [r for r in table.rows if not str(r[month_idx]).endswith(PARTIAL)] or table.rows
        best = max(complete, key=lambda r: r[idx] or 0)
        worst = min(complete, key=lambda r: r[idx] or 0)
        total = sum(r[idx] or 0 for r in table.rows)
        fmt = money if as_money else num
        partial = [str(r[month_idx]) for r in table.rows if str(r[month_idx]).endswith(PARTIAL)]
        note = f"; {', '.join(partial)} only partly covered by the data" if partial else ""
        summary = (
            f"{title} for {when}: {len(table.rows)} months, total {fmt(total)}, average "
            f"{fmt(total / len(table.rows))}"
            f"; highest {best[month_idx]} {fmt(best[idx])}, lowest {worst[month_idx]} "
            f"{fmt(worst[idx])}{note}."
        )
        return ToolResult(summary=summary, table=table)
