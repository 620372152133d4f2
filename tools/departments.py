"""Department data tools over the warehouse: sales, finance, HR, marketing, support,
operations, and the shared analysis tools (read-only SQL, schema, anomaly detection).

Every tool takes few, flat arguments (mostly ``period`` and an optional ``region``) so a
small model can call it, and returns a one-line summary with the resolved dates and the
headline figures plus a :class:`Table`. All SQL is parameterized; names such as regions,
channels and categories are checked against the data first.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Sequence
from datetime import date
from typing import Any, Literal

from atomwork.tools.base import ChoiceSource, Table, Tool, ToolError, ToolResult
from atomwork.tools.periods import PERIOD_HELP, resolve_period
from atomwork.tools.warehouse import DEFAULT_ROW_LIMIT, Warehouse
from pydantic import BaseModel, Field

__all__ = ["build_department_tools", "detect_anomalies", "robust_z_scores"]

PARTIAL = " (partial)"
"""Suffix of a month label whose month is only partly covered by the data."""

_PERIOD_DESC = "time period, e.g. 1997, 1997-Q2, 1997-03, last_quarter, last_year or all"
_REGION_DESC = "one region name (AFRICA, AMERICA, ASIA, EUROPE, MIDDLE EAST); omit for all regions"

_SALES_JOIN = (
    "FROM lineitem JOIN orders ON l_orderkey = o_orderkey "
    "JOIN customer ON o_custkey = c_custkey JOIN nation ON c_nationkey = n_nationkey "
    "JOIN region ON n_regionkey = r_regionkey "
)
_REVENUE = "sum(l_extendedprice * (1 - l_discount))"
_TPCH = ("lineitem", "orders", "customer", "nation", "region")


# --------------------------------------------------------------------------- argument models


class PeriodArgs(BaseModel):
    period: str = Field(description=_PERIOD_DESC)


class PeriodRegionArgs(BaseModel):
    period: str = Field(description=_PERIOD_DESC)
    region: str | None = Field(default=None, description=_REGION_DESC)


class TopCustomersArgs(BaseModel):
    period: str = Field(description=_PERIOD_DESC)
    n: int = Field(default=10, ge=1, le=100, description="how many customers to list")
    region: str | None = Field(default=None, description=_REGION_DESC)


class ExpensesByMonthArgs(BaseModel):
    period: str = Field(description=_PERIOD_DESC)
    region: str | None = Field(default=None, description=_REGION_DESC)
    category: str | None = Field(
        default=None, description="one expense category (Payroll, Travel, Software, Facilities, Advertising)"
    )


class AttritionArgs(BaseModel):
    period: str = Field(description=_PERIOD_DESC)
    group_by: Literal["department", "region", "quarter"] = Field(
        default="department", description="what each row is: department, region or quarter"
    )


class CampaignArgs(BaseModel):
    period: str = Field(description=_PERIOD_DESC + " (by campaign start date)")
    group_by: Literal["channel", "region", "campaign"] = Field(
        default="channel", description="what each row is: channel, region or single campaign"
    )
    channel: str | None = Field(
        default=None, description="one channel (email, search, social, display, events); omit for all"
    )


class TicketArgs(BaseModel):
    period: str = Field(description=_PERIOD_DESC + " (by ticket open date)")
    group_by: Literal["category", "priority", "region", "month"] = Field(
        default="category", description="what each row is: category, priority, region or month"
    )


class LateShipmentArgs(BaseModel):
    period: str = Field(description=_PERIOD_DESC + " (by ship date)")
    group_by: Literal["ship_mode", "region", "month"] = Field(
        default="ship_mode", description="what each row is: ship_mode, region or month"
    )


class SupplierArgs(BaseModel):
    period: str = Field(description=_PERIOD_DESC + " (by ship date)")
    n: int = Field(default=10, ge=1, le=100, description="how many of the slowest suppliers to list")


class ComparePeriodsArgs(BaseModel):
    metric: Literal[
        "revenue", "orders", "expenses", "tickets", "hires", "terminations", "marketing_spend"
    ] = Field(description="what to compare")
    period_a: str = Field(description="the earlier period, e.g. 1996")
    period_b: str = Field(description="the later period, e.g. 1997")


class SqlArgs(BaseModel):
    sql: str = Field(
        description="one read-only SELECT statement (DuckDB SQL)", json_schema_extra={"maxLength": 600}
    )


class DescribeArgs(BaseModel):
    table: str | None = Field(default=None, description="a table name; omit to list every table")


class AnomalyArgs(BaseModel):
    table: Table = Field(description="a table from an earlier task, e.g. $t1")
    value_column: str = Field(description="the numeric column to check, e.g. revenue")
    label_column: str | None = Field(
        default=None, description="the column naming each row, e.g. month or region; omit to use text columns"
    )
    z_threshold: float = Field(default=3.0, gt=0, description="robust z-score above which a row is flagged")


# --------------------------------------------------------------------------- formatting


def _money(value: float | None) -> str:
    if value is None:
        return "n/a"
    sign = "-" if value < 0 else ""
    size = abs(value)
    for limit, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "K")):
        if size >= limit:
            return f"{sign}${size / limit:,.2f}{suffix}"
    return f"{sign}${size:,.2f}"


def _num(value: float | None, digits: int = 1) -> str:
    if value is None:
        return "n/a"
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.{digits}f}"


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:+.1f}%" if value < 0 or value > 0 else "0.0%"


# --------------------------------------------------------------------------- robust statistics


def robust_z_scores(values: Sequence[float]) -> tuple[list[float], float, float]:
    """Robust z-scores ``0.6745 * (x - median) / MAD`` with the median and the scale used.

    When the MAD is 0 (over half the values equal) the mean absolute deviation (times 1.2533)
    stands in; when that is 0 too, every score is 0."""
    if not values:
        return [], 0.0, 0.0
    median = statistics.median(values)
    mad = statistics.median(abs(v - median) for v in values)
    if mad > 0:
        return [0.6745 * (v - median) / mad for v in values], median, mad
    mean_ad = statistics.fmean(abs(v - median) for v in values)
    if mean_ad > 0:
        return [(v - median) / (1.2533 * mean_ad) for v in values], median, mean_ad
    return [0.0 for _ in values], median, 0.0


def _as_number(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return None if isinstance(value, float) and math.isnan(value) else float(value)
    if isinstance(value, str):
        try:
            number = float(value.replace(",", "").replace("$", "").replace("%", "").strip())
        except ValueError:
            return None
        return None if math.isnan(number) else number
    return None


def detect_anomalies(
    table: Table, value_column: str, label_column: str | None = None, z_threshold: float = 3.0
) -> ToolResult:
    """Flag rows whose ``value_column`` is far from the median (robust z-score via median/MAD).

    Rows whose label ends with ``(partial)`` (a month only partly in the data) are not scored."""
    if value_column not in table.columns:
        numeric = [c for c in table.columns if any(_as_number(v) is not None for v in table.column(c))]
        raise ToolError(
            f"column {value_column!r} not in table (columns: {', '.join(table.columns)}; "
            f"numeric: {', '.join(numeric) or 'none'})"
        )
    if label_column is not None and label_column not in table.columns:
        raise ToolError(f"label column {label_column!r} not in table (columns: {', '.join(table.columns)})")
    value_idx = table.columns.index(value_column)
    if label_column is not None:
        label_idxs = [table.columns.index(label_column)]
    else:
        label_idxs = [
            i
            for i, name in enumerate(table.columns)
            if i != value_idx and all(_as_number(r[i]) is None for r in table.rows if r[i] is not None)
        ] or [i for i in range(len(table.columns)) if i != value_idx][:1]

    def label_of(row: list[Any]) -> str:
        return " ".join(str(row[i]) for i in label_idxs) if label_idxs else "row"

    scored: list[tuple[list[Any], float]] = []
    skipped_partial = skipped_missing = 0
    for row in table.rows:
        if any(isinstance(v, str) and v.endswith(PARTIAL) for v in row):
            skipped_partial += 1
            continue
        number = _as_number(row[value_idx])
        if number is None:
            skipped_missing += 1
            continue
        scored.append((row, number))
    if len(scored) < 3:
        raise ToolError(
            f"need at least 3 numeric values in {value_column!r} to look for anomalies, got {len(scored)}"
        )
    scores, median, scale = robust_z_scores([v for _, v in scored])
    flagged = sorted(
        ((row, value, z) for (row, value), z in zip(scored, scores, strict=True) if abs(z) >= z_threshold),
        key=lambda item: -abs(item[2]),
    )
    out = Table(
        columns=[*table.columns, "robust_z", "direction"],
        rows=[[*row, round(z, 2), "high" if z > 0 else "low"] for row, _, z in flagged],
    )
    notes = []
    if skipped_partial:
        notes.append(f"{skipped_partial} partial period(s) not scored")
    if skipped_missing:
        notes.append(f"{skipped_missing} row(s) without a number skipped")
    note = f" ({'; '.join(notes)})" if notes else ""
    if not flagged:
        summary = (
            f"No anomalies in {value_column} across {len(scored)} rows (robust z >= {z_threshold:g}; "
            f"median {_num(median, 2)}){note}."
        )
    else:
        listed = "; ".join(
            f"{label_of(row)}: {_num(value, 2)} (z={z:+.1f}, {'high' if z > 0 else 'low'})"
            for row, value, z in flagged[:5]
        )
        more = f" and {len(flagged) - 5} more" if len(flagged) > 5 else ""
        summary = (
            f"{len(flagged)} of {len(scored)} rows are anomalous in {value_column} (robust z >= "
            f"{z_threshold:g}; median {_num(median, 2)}): {listed}{more}{note}."
        )
    return ToolResult(
        summary=summary,
        table=out,
        data={"median": median, "scale": scale, "flagged": len(flagged), "scored": len(scored)},
        empty_is_answer=True,
    )


# --------------------------------------------------------------------------- the tools


class _Departments:
    """Holds the warehouse and its data range; one method per tool."""

    def __init__(self, wh: Warehouse) -> None:
        self.wh = wh
        span = wh.date_range()
        self.earliest: date | None = span[0] if span else None
        self.today: date = span[1] if span else date.today()
        self._values: dict[tuple[str, str], list[str]] = {}

    # ---- shared helpers

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

    def distinct(self, table: str, column: str) -> list[str]:
        key = (table, column)
        if key not in self._values:
            rows = self.wh.fetch(
                f'SELECT DISTINCT "{column}" FROM "{table}" WHERE "{column}" IS NOT NULL ORDER BY 1'
            ).rows
            self._values[key] = [str(r[0]) for r in rows]
        return self._values[key]

    def choose(self, value: str | None, table: str, column: str, what: str) -> str | None:
        """The data's spelling of ``value`` (case/underscore-insensitive); None for empty or 'all'."""
        if value is None:
            return None
        wanted = " ".join(value.replace("_", " ").split()).lower()
        if wanted in {"", "all", "any", "none", "total", "all regions"}:
            return None
        known = self.distinct(table, column)
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

    def region_note(self, region: str | None) -> str:
        return f" in {region}" if region else ""

    # ---- sales

    def sales_by_region(self, period: str, **_: Any) -> ToolResult:
        start, end, label = self.period(period)
        table = self.wh.fetch(
            f"SELECT r_name AS region, round({_REVENUE}, 2) AS revenue, count(DISTINCT o_orderkey) AS "
            f"orders, "
            f"count(DISTINCT o_custkey) AS customers, "
            f"round({_REVENUE} / count(DISTINCT o_orderkey), 2) AS avg_order_value, "
            f"round(100 * {_REVENUE} / sum({_REVENUE}) OVER (), 2) AS share_pct "
            f"{_SALES_JOIN} WHERE o_orderdate BETWEEN ? AND ? GROUP BY r_name ORDER BY revenue DESC",
            [start, end],
        )
        when = self.span(start, end, label)
        if not table.rows:
            return ToolResult(summary=f"No sales in {when}.", table=table)
        total = sum(r[1] for r in table.rows)
        orders = sum(r[2] for r in table.rows)
        top, low = table.rows[0], table.rows[-1]
        summary = (
            f"Revenue by region for {when}: total {_money(total)} from {orders:,} orders; "
            f"highest {top[0]} {_money(top[1])} ({top[5]:.1f}%), lowest {low[0]} {_money(low[1])} "
            f"({low[5]:.1f}%)."
        )
        return ToolResult(
            summary=summary, table=table, data={"start": str(start), "end": str(end), "total_revenue": total}
        )

    def sales_by_month(self, period: str, region: str | None = None, **_: Any) -> ToolResult:
        start, end, label = self.period(period)
        reg = self.region(region)
        cond, params = self.where_region(reg, "r_name")
        table = self.wh.fetch(
            f"SELECT strftime(o_orderdate, '%Y-%m') AS month, round({_REVENUE}, 2) AS revenue, "
            f"count(DISTINCT o_orderkey) AS orders, round({_REVENUE} / count(DISTINCT o_orderkey), 2) "
            f"AS avg_order_value {_SALES_JOIN} WHERE o_orderdate BETWEEN ? AND ?{cond} GROUP BY month "
            f"ORDER BY month",
            [start, end, *params],
        )
        return self._monthly_summary(
            table,
            "revenue",
            f"Monthly revenue{self.region_note(reg)}",
            self.span(start, end, label),
            money=True,
        )

    def _monthly_summary(self, table: Table, value: str, title: str, when: str, *, money: bool) -> ToolResult:
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
        fmt = _money if money else _num
        partial = [str(r[month_idx]) for r in table.rows if str(r[month_idx]).endswith(PARTIAL)]
        note = f"; {', '.join(partial)} only partly covered by the data" if partial else ""
        summary = (
            f"{title} for {when}: {len(table.rows)} months, total {fmt(total)}, average "
            f"{fmt(total / len(table.rows))}"
            f"; highest {best[month_idx]} {fmt(best[idx])}, lowest {worst[month_idx]} "
            f"{fmt(worst[idx])}{note}."
        )
        return ToolResult(summary=summary, table=table, data={"total": total, "months": len(table.rows)})

    def revenue_by_region_month(self, period: str, **_: Any) -> ToolResult:
        start, end, label = self.period(period)
        table = self.wh.fetch(
            f"SELECT strftime(o_orderdate, '%Y-%m') AS month, r_name AS region, round({_REVENUE}, 2) AS "
            f"revenue, "
            f"count(DISTINCT o_orderkey) AS orders {_SALES_JOIN} WHERE o_orderdate BETWEEN ? AND ? "
            f"GROUP BY ALL ORDER BY month, region",
            [start, end],
        )
        self.label_months(table)
        when = self.span(start, end, label)
        if not table.rows:
            return ToolResult(summary=f"No sales in {when}.", table=table)
        complete = [r for r in table.rows if not str(r[0]).endswith(PARTIAL)] or table.rows
        best = max(complete, key=lambda r: r[2])
        worst = min(complete, key=lambda r: r[2])
        summary = (
            f"Revenue per region and month for {when}: {len(table.rows)} rows, total "
            f"{_money(sum(r[2] for r in table.rows))}; highest {best[1]} {best[0]} {_money(best[2])}, "
            f"lowest {worst[1]} {worst[0]} {_money(worst[2])}."
        )
        return ToolResult(summary=summary, table=table)

    def top_customers(self, period: str, n: int = 10, region: str | None = None, **_: Any) -> ToolResult:
        start, end, label = self.period(period)
        reg = self.region(region)
        cond, params = self.where_region(reg, "r_name")
        table = self.wh.fetch(
            f"WITH per_customer AS (SELECT c_custkey AS customer_key, c_name AS customer, n_name AS nation, "
            f"r_name AS region, {_REVENUE} AS revenue, count(DISTINCT o_orderkey) AS orders {_SALES_JOIN} "
            f"WHERE o_orderdate BETWEEN ? AND ?{cond} GROUP BY ALL) "
            f"SELECT customer_key, customer, nation, region, round(revenue, 2) AS revenue, orders, "
            f"round(100 * revenue / sum(revenue) OVER (), 2) AS share_pct "
            f"FROM per_customer ORDER BY revenue DESC, customer_key LIMIT ?",
            [start, end, *params, n],
        )
        when = self.span(start, end, label)
        if not table.rows:
            return ToolResult(
                summary=f"No customers with orders{self.region_note(reg)} in {when}.", table=table
            )
        share = sum(r[6] for r in table.rows)
        first = table.rows[0]
        summary = (
            f"Top {len(table.rows)} customers by revenue{self.region_note(reg)} for {when}: #1 {first[1]} "
            f"({first[2]}) {_money(first[4])}; together {share:.1f}% of revenue."
        )
        return ToolResult(summary=summary, table=table)

    # ---- finance

    def expenses_by_category(self, period: str, region: str | None = None, **_: Any) -> ToolResult:
        start, end, label = self.period(period)
        reg = self.region(region)
        cond, params = self.where_region(reg, "region")
        table = self.wh.fetch(
            "SELECT category, round(sum(amount), 2) AS amount, "
            "round(100 * sum(amount) / sum(sum(amount)) OVER (), 2) AS share_pct FROM expenses "
            f"WHERE month BETWEEN date_trunc('month', ?::DATE) AND ?{cond} GROUP BY category ORDER BY "
            f"amount DESC",
            [start, end, *params],
        )
        when = self.span(start, end, label)
        if not table.rows:
            return ToolResult(summary=f"No expenses{self.region_note(reg)} in {when}.", table=table)
        total = sum(r[1] for r in table.rows)
        top = table.rows[0]
        summary = (
            f"Expenses by category{self.region_note(reg)} for {when} (whole months): total {_money(total)}; "
            f"largest {top[0]} {_money(top[1])} ({top[2]:.1f}%)."
        )
        return ToolResult(summary=summary, table=table, data={"total": total})

    def expenses_by_month(
        self, period: str, region: str | None = None, category: str | None = None, **_: Any
    ) -> ToolResult:
        start, end, label = self.period(period)
        reg = self.region(region)
        cat = self.choose(category, "expenses", "category", "expense category")
        cond, params = self.where_region(reg, "region")
        cat_cond, cat_params = ("", []) if cat is None else (" AND category = ?", [cat])
        table = self.wh.fetch(
            "SELECT strftime(month, '%Y-%m') AS month, round(sum(amount), 2) AS amount FROM expenses "
            f"WHERE month BETWEEN date_trunc('month', ?::DATE) AND ?{cond}{cat_cond} GROUP BY ALL ORDER BY 1",
            [start, end, *params, *cat_params],
        )
        what = f"{cat} expenses" if cat else "Expenses"
        return self._monthly_summary(
            table,
            "amount",
            f"{what} by month{self.region_note(reg)}",
            self.span(start, end, label),
            money=True,
        )

    def budget_vs_actual(self, period: str, region: str | None = None, **_: Any) -> ToolResult:
        start, end, label = self.period(period)
        reg = self.region(region)
        lo = max(start, self.earliest) if self.earliest else start
        hi = min(end, self.today)
        key = "region" if reg is None else "month"
        group = "r_name" if reg is None else "strftime(o_orderdate, '%Y-%m')"
        bgroup = "region" if reg is None else "strftime(month, '%Y-%m')"
        cond, params = self.where_region(reg, "r_name")
        bcond, bparams = self.where_region(reg, "region")
        table = self.wh.fetch(
            f"WITH actual AS (SELECT {group} AS k, {_REVENUE} AS revenue {_SALES_JOIN} "
            f"WHERE o_orderdate BETWEEN ? AND ?{cond} GROUP BY ALL), "
            # Budgets are monthly: count the share of each month that falls inside the period.
            f"budget AS (SELECT {bgroup} AS k, sum(revenue_budget * (least(last_day(month), ?::DATE) "
            f"- greatest(month, ?::DATE) + 1) / (last_day(month) - month + 1)) AS revenue_budget "
            f"FROM budgets WHERE month <= ? AND last_day(month) >= ?{bcond} GROUP BY ALL), "
            # Expenses are booked per whole month: compare them with whole-month budgets.
            f"cost AS (SELECT {bgroup} AS k, sum(amount) AS expenses FROM expenses "
            f"WHERE month BETWEEN date_trunc('month', ?::DATE) AND ?{bcond} GROUP BY ALL), "
            f"cost_budget AS (SELECT {bgroup} AS k, sum(expense_budget) AS expense_budget FROM budgets "
            f"WHERE month IN (SELECT DISTINCT month FROM expenses) "
            f"AND month BETWEEN date_trunc('month', ?::DATE) AND ?{bcond} GROUP BY ALL) "
            f"SELECT budget.k AS {key}, round(coalesce(actual.revenue, 0), 2) AS revenue, "
            f"round(budget.revenue_budget, 2) AS revenue_budget, "
            f"round(coalesce(actual.revenue, 0) - budget.revenue_budget, 2) AS revenue_variance, "
            f"round(100 * (coalesce(actual.revenue, 0) / budget.revenue_budget - 1), 2) AS "
            f"revenue_variance_pct, "
            f"round(cost.expenses, 2) AS expenses, round(cost_budget.expense_budget, 2) AS expense_budget, "
            f"round(100 * (cost.expenses / cost_budget.expense_budget - 1), 2) AS expense_variance_pct "
            f"FROM budget LEFT JOIN actual USING (k) LEFT JOIN cost USING (k) LEFT JOIN cost_budget "
            f"USING (k) "
            f"ORDER BY 1",
            [lo, hi, *params, hi, lo, hi, lo, *bparams, lo, hi, *bparams, lo, hi, *bparams],
        )
        when = self.span(start, end, label)
        if key == "month":
            self.label_months(table)
        if not table.rows:
            return ToolResult(summary=f"No budget{self.region_note(reg)} for {when}.", table=table)
        revenue = sum(r[1] for r in table.rows)
        budget = sum(r[2] for r in table.rows)
        variance = 100 * (revenue / budget - 1) if budget else None
        scored = [r for r in table.rows if r[4] is not None and not str(r[0]).endswith(PARTIAL)]
        worst = min(scored, key=lambda r: r[4]) if scored else None
        best = max(scored, key=lambda r: r[4]) if scored else None
        extremes = (
            f"; furthest below {worst[0]} ({_pct(worst[4])}), furthest above {best[0]} ({_pct(best[4])})"
            if worst and best
            else ""
        )
        summary = (
            f"Revenue vs budget{self.region_note(reg)} for {when}: actual {_money(revenue)} vs budget "
            f"{_money(budget)} ({_pct(variance)}){extremes}."
        )
        return ToolResult(summary=summary, table=table, data={"revenue": revenue, "revenue_budget": budget})

    # ---- hr

    def headcount_by_department(self, period: str, region: str | None = None, **_: Any) -> ToolResult:
        start, end, label = self.period(period)
        reg = self.region(region)
        as_of = min(end, self.today)
        cond, params = self.where_region(reg, "region")
        table = self.wh.fetch(
            "SELECT department, "
            "count(*) FILTER (WHERE hire_date <= ? AND (termination_date IS NULL OR termination_date > ?)) "
            "AS headcount, count(*) FILTER (WHERE hire_date BETWEEN ? AND ?) AS hires, "
            "count(*) FILTER (WHERE termination_date BETWEEN ? AND ?) AS terminations, "
            "round(avg(salary) FILTER (WHERE hire_date <= ? AND (termination_date IS NULL OR "
            "termination_date > ?)),"
            f" 2) AS avg_salary FROM employees WHERE true{cond} GROUP BY department ORDER BY headcount DESC",
            [as_of, as_of, start, as_of, start, as_of, as_of, as_of, *params],
        )
        when = self.span(start, end, label)
        total = sum(r[1] for r in table.rows)
        hires = sum(r[2] for r in table.rows)
        leavers = sum(r[3] for r in table.rows)
        top = table.rows[0] if table.rows else None
        largest = f"; largest {top[0]} ({top[1]})" if top else ""
        summary = (
            f"Headcount{self.region_note(reg)} as of {as_of}: {total:,} employees{largest}; during {when} "
            f"{hires:,} hires and {leavers:,} terminations (net {hires - leavers:+,})."
        )
        return ToolResult(summary=summary, table=table, data={"as_of": str(as_of), "headcount": total})

    def attrition(self, period: str, group_by: str = "department", **_: Any) -> ToolResult:
        start, end, label = self.period(period)
        hi = min(end, self.today)
        lo = max(start, self.earliest) if self.earliest else start
        if group_by == "quarter":
            buckets = (
                "SELECT q AS bucket_start, least(q + INTERVAL 3 MONTH - INTERVAL 1 DAY, ?::DATE)::DATE "
                "AS bucket_end "
                "FROM generate_series(date_trunc('quarter', ?::DATE), ?::DATE, INTERVAL 3 MONTH) t(q)"
            )
            key = "year(bucket_start) || '-Q' || quarter(bucket_start)"
            bucket_params: list[Any] = [hi, lo, hi]
        else:
            column = "department" if group_by == "department" else "region"
            buckets = "SELECT ?::DATE AS bucket_start, ?::DATE AS bucket_end"
            key = f"e.{column}"
            bucket_params = [lo, hi]
        table = self.wh.fetch(
            f"WITH b AS ({buckets}) SELECT {key} AS {group_by}, "
            "count(*) FILTER (WHERE e.hire_date < b.bucket_start AND (e.termination_date IS NULL "
            "OR e.termination_date >= b.bucket_start)) AS start_headcount, "
            "count(*) FILTER (WHERE e.hire_date <= b.bucket_end AND (e.termination_date IS NULL "
            "OR e.termination_date > b.bucket_end)) AS end_headcount, "
            "count(*) FILTER (WHERE e.termination_date BETWEEN b.bucket_start AND b.bucket_end) AS "
            "terminations "
            "FROM b CROSS JOIN employees e GROUP BY ALL ORDER BY 1",
            bucket_params,
        )
        table.columns.append("attrition_pct")
        for row in table.rows:
            average = (row[1] + row[2]) / 2
            row.append(round(100 * row[3] / average, 2) if average else None)
        when = self.span(start, end, label)
        leavers = sum(r[3] for r in table.rows)
        if group_by == "quarter":
            starting = table.rows[0][1] if table.rows else 0
            ending = table.rows[-1][2] if table.rows else 0
        else:
            starting = sum(r[1] for r in table.rows)
            ending = sum(r[2] for r in table.rows)
        overall = 100 * leavers / ((starting + ending) / 2) if starting + ending else 0.0
        rated = [r for r in table.rows if r[4] is not None]
        top = max(rated, key=lambda r: r[4]) if rated else None
        highest = f"; highest {top[0]} {top[4]:.1f}% ({top[3]} leavers)" if top else ""
        summary = (
            f"Attrition by {group_by} for {when}: {leavers:,} terminations, {overall:.1f}% of average "
            f"headcount"
            f"{highest}."
        )
        return ToolResult(
            summary=summary, table=table, data={"terminations": leavers, "attrition_pct": overall}
        )

    # ---- marketing

    def campaign_performance(
        self, period: str, group_by: str = "channel", channel: str | None = None, **_: Any
    ) -> ToolResult:
        start, end, label = self.period(period)
        chan = self.choose(channel, "campaigns", "channel", "channel")
        cond, params = ("", []) if chan is None else (" AND channel = ?", [chan])
        if group_by == "campaign":
            keys = "campaign_id, name, channel, region, start_date"
            order = "cost_per_conversion DESC NULLS FIRST, campaign_id"
        else:
            keys = group_by
            order = "spend DESC"
        count = "" if group_by == "campaign" else "count(*) AS campaigns, "
        table = self.wh.fetch(
            f"SELECT {keys}, {count}round(sum(spend), 2) AS spend, sum(leads) AS leads, "
            "sum(conversions) AS conversions, round(sum(spend) / nullif(sum(leads), 0), 2) AS cost_per_lead, "
            "round(sum(spend) / nullif(sum(conversions), 0), 2) AS cost_per_conversion, "
            "round(100 * sum(conversions) / nullif(sum(leads), 0), 2) AS conversion_pct "
            f"FROM campaigns WHERE start_date BETWEEN ? AND ?{cond} GROUP BY ALL ORDER BY {order}",
            [start, end, *params],
        )
        shown = ""
        if len(table.rows) > DEFAULT_ROW_LIMIT:
            shown = f" (table shows the {DEFAULT_ROW_LIMIT} least efficient of {len(table.rows)} campaigns)"
            all_rows, table.rows = table.rows, table.rows[:DEFAULT_ROW_LIMIT]
        else:
            all_rows = table.rows
        when = self.span(start, end, label)
        scope = f" ({chan})" if chan else ""
        if not table.rows:
            return ToolResult(summary=f"No campaigns{scope} started in {when}.", table=table)
        spend_idx = table.columns.index("spend")
        conv_idx = table.columns.index("conversions")
        cpc_idx = table.columns.index("cost_per_conversion")
        spend = sum(r[spend_idx] for r in all_rows)
        conversions = sum(r[conv_idx] for r in all_rows)
        label_of: Callable[[list[Any]], str] = (
            (lambda r: f"{r[1]} (#{r[0]})") if group_by == "campaign" else (lambda r: str(r[0]))
        )
        costly = max(all_rows, key=lambda r: math.inf if r[cpc_idx] is None else r[cpc_idx])
        cheap = min(all_rows, key=lambda r: math.inf if r[cpc_idx] is None else r[cpc_idx])
        cost = _money(spend / conversions) if conversions else "n/a"
        summary = (
            f"Campaign performance by {group_by}{scope} for {when}: spend {_money(spend)}, "
            f"{conversions:,} conversions ({cost} per conversion); most efficient {label_of(cheap)} "
            f"{_money(cheap[cpc_idx])}/conversion, least efficient {label_of(costly)} "
            f"{_money(costly[cpc_idx]) if costly[cpc_idx] is not None else 'no conversions'}"
            f"{'/conversion' if costly[cpc_idx] is not None else ''}{shown}."
        )
        return ToolResult(summary=summary, table=table, data={"spend": spend, "conversions": conversions})

    # ---- support

    def ticket_stats(self, period: str, group_by: str = "category", **_: Any) -> ToolResult:
        start, end, label = self.period(period)
        key = {
            "category": "category",
            "priority": "priority",
            "region": "region",
            "month": "strftime(opened_at, '%Y-%m')",
        }[group_by]
        order = "1" if group_by == "month" else "tickets DESC"
        table = self.wh.fetch(
            f"SELECT {key} AS {group_by}, count(*) AS tickets, count(*) FILTER (WHERE closed_at IS NULL) "
            "AS open_tickets, round(avg(epoch(closed_at - opened_at) / 3600), 2) AS avg_resolution_hours, "
            "round(avg(csat), 2) AS avg_csat FROM support_tickets "
            f"WHERE opened_at::DATE BETWEEN ? AND ? GROUP BY ALL ORDER BY {order}",
            [start, end],
        )
        when = self.span(start, end, label)
        if group_by == "month":
            self.label_months(table)
        if not table.rows:
            return ToolResult(summary=f"No support tickets opened in {when}.", table=table)
        total = sum(r[1] for r in table.rows)
        still_open = sum(r[2] for r in table.rows)
        top = max(table.rows, key=lambda r: r[1])
        overall = self.wh.fetch(
            "SELECT round(avg(epoch(closed_at - opened_at) / 3600), 2), round(avg(csat), 2) FROM "
            "support_tickets "
            "WHERE opened_at::DATE BETWEEN ? AND ?",
            [start, end],
        ).rows[0]
        summary = (
            f"Support tickets by {group_by} for {when}: {total:,} opened ({still_open:,} still open), "
            f"average resolution {_num(overall[0])} h, average CSAT {_num(overall[1], 2)}; "
            f"most tickets: {top[0]} ({top[1]:,})."
        )
        return ToolResult(summary=summary, table=table, data={"tickets": total, "avg_csat": overall[1]})

    # ---- operations

    def late_shipments(self, period: str, group_by: str = "ship_mode", **_: Any) -> ToolResult:
        start, end, label = self.period(period)
        key = {
            "ship_mode": "l_shipmode",
            "region": "r_name",
            "month": "strftime(l_shipdate, '%Y-%m')",
        }[group_by]
        table = self.wh.fetch(
            f"SELECT {key} AS {group_by}, count(*) AS shipments, "
            "count(*) FILTER (WHERE l_receiptdate > l_commitdate) AS late, "
            "round(100 * avg(CASE WHEN l_receiptdate > l_commitdate THEN 1 ELSE 0 END), 2) AS late_pct, "
            "round(avg(l_receiptdate - l_commitdate) FILTER (WHERE l_receiptdate > l_commitdate), 2) "
            f"AS avg_days_late {_SALES_JOIN} WHERE l_shipdate BETWEEN ? AND ? GROUP BY ALL "
            f"ORDER BY {'1' if group_by == 'month' else 'late_pct DESC'}",
            [start, end],
        )
        when = f"{label} ({start} to {end})" if not label.endswith(")") else label
        if not table.rows:
            return ToolResult(summary=f"No shipments in {when}.", table=table)
        shipments = sum(r[1] for r in table.rows)
        late = sum(r[2] for r in table.rows)
        worst = max(table.rows, key=lambda r: r[3])
        summary = (
            f"Late shipments (received after the committed date) by {group_by}, shipped in {when}: "
            f"{late:,} of "
            f"{shipments:,} line items late ({100 * late / shipments:.1f}%); worst {worst[0]} "
            f"{worst[3]:.1f}%."
        )
        return ToolResult(summary=summary, table=table, data={"shipments": shipments, "late": late})

    def supplier_lead_times(self, period: str, n: int = 10, **_: Any) -> ToolResult:
        start, end, label = self.period(period)
        table = self.wh.fetch(
            "SELECT s_suppkey AS supplier_key, s_name AS supplier, n_name AS nation, count(*) AS shipments, "
            "round(avg(l_receiptdate - o_orderdate), 2) AS avg_lead_days, "
            "round(avg(l_receiptdate - l_shipdate), 2) AS avg_transit_days, "
            "round(100 * avg(CASE WHEN l_receiptdate > l_commitdate THEN 1 ELSE 0 END), 2) AS late_pct "
            "FROM lineitem JOIN orders ON l_orderkey = o_orderkey JOIN supplier ON l_suppkey = s_suppkey "
            "JOIN nation ON s_nationkey = n_nationkey WHERE l_shipdate BETWEEN ? AND ? "
            "GROUP BY ALL ORDER BY avg_lead_days DESC, supplier_key LIMIT ?",
            [start, end, n],
        )
        overall = self.wh.fetch(
            "SELECT round(avg(l_receiptdate - o_orderdate), 2), count(DISTINCT l_suppkey) FROM lineitem "
            "JOIN orders ON l_orderkey = o_orderkey WHERE l_shipdate BETWEEN ? AND ?",
            [start, end],
        ).rows[0]
        when = f"{label} ({start} to {end})" if not label.endswith(")") else label
        if not table.rows:
            return ToolResult(summary=f"No shipments in {when}.", table=table)
        slow = table.rows[0]
        summary = (
            f"Slowest {len(table.rows)} of {overall[1]} suppliers by order-to-receipt days, shipped in "
            f"{when}: "
            f"slowest {slow[1]} ({slow[2]}) {slow[4]:.1f} days vs {overall[0]:.1f} days on average."
        )
        return ToolResult(summary=summary, table=table, data={"avg_lead_days": overall[0]})

    # ---- analysis

    def compare_periods(self, metric: str, period_a: str, period_b: str, **_: Any) -> ToolResult:
        a_start, a_end, a_label = self.period(period_a)
        b_start, b_end, b_label = self.period(period_b)
        sql = {
            "revenue": f"SELECT r_name, {_REVENUE} {_SALES_JOIN} WHERE o_orderdate BETWEEN ? AND ? "
            "GROUP BY 1",
            "orders": "SELECT r_name, count(*) FROM orders JOIN customer ON o_custkey = c_custkey "
            "JOIN nation ON c_nationkey = n_nationkey JOIN region ON n_regionkey = r_regionkey "
            "WHERE o_orderdate BETWEEN ? AND ? GROUP BY 1",
            "expenses": "SELECT region, sum(amount) FROM expenses "
            "WHERE month BETWEEN date_trunc('month', ?::DATE) AND ? GROUP BY 1",
            "tickets": "SELECT region, count(*) FROM support_tickets WHERE opened_at::DATE BETWEEN ? "
            "AND ? GROUP BY 1",
            "hires": "SELECT region, count(*) FROM employees WHERE hire_date BETWEEN ? AND ? GROUP BY 1",
            "terminations": "SELECT region, count(*) FROM employees "
            "WHERE termination_date BETWEEN ? AND ? GROUP BY 1",
            "marketing_spend": "SELECT region, sum(spend) FROM campaigns WHERE start_date BETWEEN ? AND "
            "? GROUP BY 1",
        }[metric]
        first = {str(k): float(v) for k, v in self.wh.fetch(sql, [a_start, a_end]).rows}
        second = {str(k): float(v) for k, v in self.wh.fetch(sql, [b_start, b_end]).rows}
        rows: list[list[Any]] = []
        for region in sorted(set(first) | set(second) | set(self.distinct("region", "r_name"))):
            a, b = first.get(region, 0.0), second.get(region, 0.0)
            rows.append(
                [
                    region,
                    round(a, 2),
                    round(b, 2),
                    round(b - a, 2),
                    round(100 * (b / a - 1), 2) if a else None,
                ]
            )
        total_a, total_b = sum(r[1] for r in rows), sum(r[2] for r in rows)
        rows.append(
            [
                "TOTAL",
                round(total_a, 2),
                round(total_b, 2),
                round(total_b - total_a, 2),
                round(100 * (total_b / total_a - 1), 2) if total_a else None,
            ]
        )
        table = Table(columns=["region", f"{metric}_a", f"{metric}_b", "change", "change_pct"], rows=rows)
        fmt = _money if metric in {"revenue", "expenses", "marketing_spend"} else _num
        moved = [r for r in rows[:-1] if r[4] is not None]
        extremes = ""
        if moved:
            up = max(moved, key=lambda r: r[4])
            down = min(moved, key=lambda r: r[4])
            extremes = f"; biggest rise {up[0]} ({_pct(up[4])}), biggest fall {down[0]} ({_pct(down[4])})"
        summary = (
            f"{metric} {self.span(a_start, a_end, a_label)} vs {self.span(b_start, b_end, b_label)}: "
            f"{fmt(total_a)} -> {fmt(total_b)} ({_pct(rows[-1][4])}){extremes}."
        )
        return ToolResult(summary=summary, table=table, data={"a": total_a, "b": total_b})

    def sql_query(self, sql: str, **_: Any) -> ToolResult:
        result = self.wh.run_query(sql, DEFAULT_ROW_LIMIT)
        table = result.table
        note = f" ({result.note})" if result.note else ""
        head = ""
        if table.rows and len(table.columns) <= 6:
            head = "; first row: " + ", ".join(
                f"{c}={v}" for c, v in zip(table.columns, table.rows[0], strict=True)
            )
        summary = (
            f"Query returned {len(table.rows)} row(s) with columns {', '.join(table.columns)}{head}{note}."
        )
        return ToolResult(summary=summary, table=table, data={"truncated": result.truncated})

    def describe_schema(self, table: str | None = None, **_: Any) -> ToolResult:
        if table is None or not table.strip():
            rows = [
                [name, self.wh.row_count(name), ", ".join(c for c, _ in self.wh.columns(name))]
                for name in self.wh.tables()
            ]
            return ToolResult(
                summary=f"{len(rows)} tables:\n{self.wh.schema_summary()}",
                table=Table(columns=["table", "rows", "columns"], rows=rows),
            )
        name = self.wh.table_name(table)
        described = self.wh.describe(name)
        count = self.wh.row_count(name)
        cols = ", ".join(f"{c} {t}" for c, t in described.rows)
        return ToolResult(summary=f"Table {name} has {count:,} rows; columns: {cols}.", table=described)

    @staticmethod
    def detect_anomalies(
        table: Table, value_column: str, label_column: str | None = None, z_threshold: float = 3.0, **_: Any
    ) -> ToolResult:
        return detect_anomalies(table, value_column, label_column, z_threshold)


_Spec = tuple[str, str, str, type[BaseModel], tuple[str, ...]]

_SPECS: tuple[_Spec, ...] = (
    ("sales_by_region", "sales", "Revenue, orders and customers per region for a period.", PeriodArgs, _TPCH),
    (
        "sales_by_month",
        "sales",
        "Monthly revenue and orders for a period, for all regions or one region.",
        PeriodRegionArgs,
        _TPCH,
    ),
    (
        "revenue_by_region_month",
        "sales",
        "Revenue for every region and month of a period (one row per region-month; good input for "
        "detect_anomalies).",
        PeriodArgs,
        _TPCH,
    ),
    ("top_customers", "sales", "The n customers with the most revenue in a period.", TopCustomersArgs, _TPCH),
    (
        "expenses_by_category",
        "finance",
        "Expenses per category (Payroll, Travel, Software, Facilities, Advertising) for a period.",
        PeriodRegionArgs,
        ("expenses", "region"),
    ),
    (
        "expenses_by_month",
        "finance",
        "Monthly expenses for a period, optionally for one region and/or one category.",
        ExpensesByMonthArgs,
        ("expenses", "region"),
    ),
    (
        "budget_vs_actual",
        "finance",
        "Actual revenue and expenses against budget: one row per region, or per month when a region is "
        "given.",
        PeriodRegionArgs,
        (*_TPCH, "budgets", "expenses"),
    ),
    (
        "headcount_by_department",
        "hr",
        "Employees per department at the end of a period, with hires, terminations and average salary.",
        PeriodRegionArgs,
        ("employees", "region"),
    ),
    (
        "attrition",
        "hr",
        "Terminations and attrition rate for a period, per department, region or quarter.",
        AttritionArgs,
        ("employees",),
    ),
    (
        "campaign_performance",
        "marketing",
        "Marketing spend, leads, conversions and cost per conversion, per channel, region or campaign.",
        CampaignArgs,
        ("campaigns",),
    ),
    (
        "ticket_stats",
        "support",
        "Support tickets, open tickets, resolution hours and CSAT per category, priority, region or month.",
        TicketArgs,
        ("support_tickets",),
    ),
    (
        "late_shipments",
        "operations",
        "Line items received after the committed date, per ship mode, region or month.",
        LateShipmentArgs,
        _TPCH,
    ),
    (
        "supplier_lead_times",
        "operations",
        "The n suppliers with the longest order-to-receipt times in a period.",
        SupplierArgs,
        ("lineitem", "orders", "supplier", "nation"),
    ),
    (
        "compare_periods",
        "analysis",
        "Compare one metric between two periods, per region (revenue, orders, expenses, tickets, hires, "
        "terminations, marketing_spend).",
        ComparePeriodsArgs,
        (*_TPCH, "expenses", "support_tickets", "employees", "campaigns"),
    ),
    ("sql_query", "analysis", "Run one read-only SELECT on the warehouse (max 200 rows).", SqlArgs, ()),
    (
        "describe_schema",
        "analysis",
        "List the warehouse tables and columns, or describe one table.",
        DescribeArgs,
        (),
    ),
    (
        "detect_anomalies",
        "analysis",
        "Flag unusual rows of an earlier table by robust z-score (median/MAD) of one numeric column.",
        AnomalyArgs,
        (),
    ),
)


# --------------------------------------------------------------------------- grounding metadata

_PERIOD = ChoiceSource(kind="period")
_REGION = ChoiceSource(table="region", column="r_name")
_CHOICES: dict[type[BaseModel], dict[str, ChoiceSource]] = {
    PeriodArgs: {"period": _PERIOD},
    PeriodRegionArgs: {"period": _PERIOD, "region": _REGION},
    TopCustomersArgs: {"period": _PERIOD, "region": _REGION},
    ExpensesByMonthArgs: {
        "period": _PERIOD,
        "region": _REGION,
        "category": ChoiceSource(table="expenses", column="category"),
    },
    AttritionArgs: {"period": _PERIOD},
    CampaignArgs: {"period": _PERIOD, "channel": ChoiceSource(table="campaigns", column="channel")},
    TicketArgs: {"period": _PERIOD},
    LateShipmentArgs: {"period": _PERIOD},
    SupplierArgs: {"period": _PERIOD},
    ComparePeriodsArgs: {"period_a": _PERIOD, "period_b": _PERIOD},
    DescribeArgs: {"table": ChoiceSource(kind="table")},
    AnomalyArgs: {
        "value_column": ChoiceSource(kind="output_column", ref_arg="table", numeric=True),
        "label_column": ChoiceSource(kind="output_column", ref_arg="table"),
    },
}
"""Per argument model, where each argument's allowed values come from."""

_METRICS = ("revenue", "orders", "expenses", "tickets", "hires", "terminations", "marketing_spend")
_COLUMNS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "sales_by_region": (("region",), ("revenue", "orders", "customers", "avg_order_value", "share_pct")),
    "sales_by_month": (("month",), ("revenue", "orders", "avg_order_value")),
    "revenue_by_region_month": (("month", "region"), ("revenue", "orders")),
    "top_customers": (("customer_key", "customer", "nation", "region"), ("revenue", "orders", "share_pct")),
    "expenses_by_category": (("category",), ("amount", "share_pct")),
    "expenses_by_month": (("month",), ("amount",)),
    "budget_vs_actual": (
        ("region", "month"),
        (
            "revenue",
            "revenue_budget",
            "revenue_variance",
            "revenue_variance_pct",
            "expenses",
            "expense_budget",
            "expense_variance_pct",
        ),
    ),
    "headcount_by_department": (("department",), ("headcount", "hires", "terminations", "avg_salary")),
    "attrition": (
        ("department", "region", "quarter"),
        ("attrition_pct", "terminations", "start_headcount", "end_headcount"),
    ),
    "campaign_performance": (
        ("channel", "region", "campaign_id", "name", "start_date"),
        (
            "spend",
            "leads",
            "conversions",
            "cost_per_lead",
            "cost_per_conversion",
            "conversion_pct",
            "campaigns",
        ),
    ),
    "ticket_stats": (
        ("category", "priority", "region", "month"),
        ("tickets", "open_tickets", "avg_resolution_hours", "avg_csat"),
    ),
    "late_shipments": (("ship_mode", "region", "month"), ("late_pct", "late", "shipments", "avg_days_late")),
    "supplier_lead_times": (
        ("supplier_key", "supplier", "nation"),
        ("avg_lead_days", "avg_transit_days", "late_pct", "shipments"),
    ),
    "compare_periods": (
        ("region",),
        ("change", "change_pct", *(f"{m}_{side}" for m in _METRICS for side in ("a", "b"))),
    ),
    "describe_schema": (("table", "columns", "column", "type"), ("rows",)),
}
"""Per tool, the label and numeric columns its table can have (every ``group_by`` variant)."""


def build_department_tools(wh: Warehouse) -> list[Tool]:
    """The tools the warehouse's tables support: all of them on the demo warehouse, the
    analysis tools (SQL, schema, anomalies) on any database."""
    departments = _Departments(wh)
    present = {t.lower() for t in wh.tables()}
    dated = wh.date_range() is not None
    tools: list[Tool] = []
    for name, department, description, args_model, needs in _SPECS:
        if needs and (not dated or not all(t in present for t in needs)):
            continue
        fn: Callable[..., ToolResult] = getattr(departments, name)
        labels, numeric = _COLUMNS.get(name, ((), ()))
        tools.append(
            Tool(
                name=name,
                department=department,
                description=description,
                args_model=args_model,
                fn=fn,
                choices=_CHOICES.get(args_model, {}),
                output_columns=[*labels, *numeric],
                numeric_columns=list(numeric),
            )
        )
    return tools
