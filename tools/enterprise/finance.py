"""The finance department: expenses by category and month, and actuals against budget."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from atomwork.tool_result import ToolResult
from atomwork.tools.base import ChoiceSource
from atomwork.tools.context import RunContext
from atomwork.tools.decorator import tool
from atomwork.tools.enterprise.common import (
    REVENUE,
    SALES_JOIN,
    TPCH,
    DemoData,
    Period,
    Region,
)
from atomwork.tools.format import PARTIAL, money, pct


@tool(tables=("expenses", "region"), output_columns=["category"], numeric_columns=["amount", "share_pct"])
def expenses_by_category(ctx: RunContext, period: Period, region: Region = None) -> ToolResult:
    """Expenses per category (Payroll, Travel, Software, Facilities, Advertising) for a period."""
    data = DemoData(ctx.warehouse)
    start, end, label = data.period(period)
    reg = data.region(region)
    cond, params = data.where_region(reg, "region")
    table = data.wh.fetch(
        "SELECT category, round(sum(amount), 2) AS amount, "
        "round(100 * sum(amount) / sum(sum(amount)) OVER (), 2) AS share_pct FROM expenses "
        f"WHERE month BETWEEN date_trunc('month', ?::DATE) AND ?{cond} GROUP BY category ORDER BY "
        f"amount DESC",
        [start, end, *params],
    )
    when = data.span(start, end, label)
    if not table.rows:
        return ToolResult(summary=f"No expenses{data.region_note(reg)} in {when}.", table=table)
    total = sum(r[1] for r in table.rows)
    top = table.rows[0]
    summary = (
        f"Expenses by category{data.region_note(reg)} for {when} (whole months): total {money(total)}; "
        f"largest {top[0]} {money(top[1])} ({top[2]:.1f}%)."
    )
    return ToolResult(summary=summary, table=table)


@tool(tables=("expenses", "region"), output_columns=["month"], numeric_columns=["amount"])
def expenses_by_month(
    ctx: RunContext,
    period: Period,
    region: Region = None,
    category: Annotated[
        str | None,
        Field(description="one expense category (Payroll, Travel, Software, Facilities, Advertising)"),
        ChoiceSource(table="expenses", column="category"),
    ] = None,
) -> ToolResult:
    """Monthly expenses for a period, optionally for one region and/or one category."""
    data = DemoData(ctx.warehouse)
    start, end, label = data.period(period)
    reg = data.region(region)
    cat = data.choose(category, "expenses", "category", "expense category")
    cond, params = data.where_region(reg, "region")
    cat_cond, cat_params = ("", []) if cat is None else (" AND category = ?", [cat])
    table = data.wh.fetch(
        "SELECT strftime(month, '%Y-%m') AS month, round(sum(amount), 2) AS amount FROM expenses "
        f"WHERE month BETWEEN date_trunc('month', ?::DATE) AND ?{cond}{cat_cond} GROUP BY ALL ORDER BY 1",
        [start, end, *params, *cat_params],
    )
    what = f"{cat} expenses" if cat else "Expenses"
    return data.monthly_summary(
        table,
        "amount",
        f"{what} by month{data.region_note(reg)}",
        data.span(start, end, label),
        as_money=True,
    )


@tool(
    tables=(*TPCH, "budgets", "expenses"),
    output_columns=["region", "month"],
    numeric_columns=[
        "revenue",
        "revenue_budget",
        "revenue_variance",
        "revenue_variance_pct",
        "expenses",
        "expense_budget",
        "expense_variance_pct",
    ],
)
def budget_vs_actual(ctx: RunContext, period: Period, region: Region = None) -> ToolResult:
    """Actual revenue and expenses against budget: one row per region, or per month when a region is
    given."""
    data = DemoData(ctx.warehouse)
    start, end, label = data.period(period)
    reg = data.region(region)
    lo = max(start, data.earliest) if data.earliest else start
    hi = min(end, data.today)
    key = "region" if reg is None else "month"
    group = "r_name" if reg is None else "strftime(o_orderdate, '%Y-%m')"
    bgroup = "region" if reg is None else "strftime(month, '%Y-%m')"
    cond, params = data.where_region(reg, "r_name")
    bcond, bparams = data.where_region(reg, "region")
    table = data.wh.fetch(
        f"WITH actual AS (SELECT {group} AS k, {REVENUE} AS revenue {SALES_JOIN} "
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
    when = data.span(start, end, label)
    if key == "month":
        data.label_months(table)
    if not table.rows:
        return ToolResult(summary=f"No budget{data.region_note(reg)} for {when}.", table=table)
    revenue = sum(r[1] for r in table.rows)
    budget = sum(r[2] for r in table.rows)
    variance = 100 * (revenue / budget - 1) if budget else None
    scored = [r for r in table.rows if r[4] is not None and not str(r[0]).endswith(PARTIAL)]
    worst = min(scored, key=lambda r: r[4]) if scored else None
    best = max(scored, key=lambda r: r[4]) if scored else None
    extremes = (
        f"; furthest below {worst[0]} ({pct(worst[4])}), furthest above {best[0]} ({pct(best[4])})"
        if worst and best
        else ""
    )
    summary = (
        f"Revenue vs budget{data.region_note(reg)} for {when}: actual {money(revenue)} vs budget "
        f"{money(budget)} ({pct(variance)}){extremes}."
    )
    return ToolResult(summary=summary, table=table)


TOOLS = (expenses_by_category, expenses_by_month, budget_vs_actual)
