"""The sales department: revenue, orders and customers from the TPC-H order lines."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from atomwork.tool_result import ToolResult
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
from atomwork.tools.format import PARTIAL, money


@tool(
    tables=TPCH,
    output_columns=["region"],
    numeric_columns=["revenue", "orders", "customers", "avg_order_value", "share_pct"],
)
def sales_by_region(ctx: RunContext, period: Period) -> ToolResult:
    """Revenue, orders and customers per region for a period."""
    data = DemoData(ctx.warehouse)
    start, end, label = data.period(period)
    table = data.wh.fetch(
        f"SELECT r_name AS region, round({REVENUE}, 2) AS revenue, count(DISTINCT o_orderkey) AS "
        f"orders, "
        f"count(DISTINCT o_custkey) AS customers, "
        f"round({REVENUE} / count(DISTINCT o_orderkey), 2) AS avg_order_value, "
        f"round(100 * {REVENUE} / sum({REVENUE}) OVER (), 2) AS share_pct "
        f"{SALES_JOIN} WHERE o_orderdate BETWEEN ? AND ? GROUP BY r_name ORDER BY revenue DESC",
        [start, end],
    )
    when = data.span(start, end, label)
    if not table.rows:
        return ToolResult(summary=f"No sales in {when}.", table=table)
    total = sum(r[1] for r in table.rows)
    orders = sum(r[2] for r in table.rows)
    top, low = table.rows[0], table.rows[-1]
    summary = (
        f"Revenue by region for {when}: total {money(total)} from {orders:,} orders; "
        f"highest {top[0]} {money(top[1])} ({top[5]:.1f}%), lowest {low[0]} {money(low[1])} "
        f"({low[5]:.1f}%)."
    )
    return ToolResult(summary=summary, table=table)


@tool(tables=TPCH, output_columns=["month"], numeric_columns=["revenue", "orders", "avg_order_value"])
def sales_by_month(ctx: RunContext, period: Period, region: Region = None) -> ToolResult:
    """Monthly revenue and orders for a period, for all regions or one region."""
    data = DemoData(ctx.warehouse)
    start, end, label = data.period(period)
    reg = data.region(region)
    cond, params = data.where_region(reg, "r_name")
    table = data.wh.fetch(
        f"SELECT strftime(o_orderdate, '%Y-%m') AS month, round({REVENUE}, 2) AS revenue, "
        f"count(DISTINCT o_orderkey) AS orders, round({REVENUE} / count(DISTINCT o_orderkey), 2) "
        f"AS avg_order_value {SALES_JOIN} WHERE o_orderdate BETWEEN ? AND ?{cond} GROUP BY month "
        f"ORDER BY month",
        [start, end, *params],
    )
    return data.monthly_summary(
        table,
        "revenue",
        f"Monthly revenue{data.region_note(reg)}",
        data.span(start, end, label),
        as_money=True,
    )


@tool(tables=TPCH, output_columns=["month", "region"], numeric_columns=["revenue", "orders"])
def revenue_by_region_month(ctx: RunContext, period: Period) -> ToolResult:
    """Revenue for every region and month of a period (one row per region-month; good input for
    detect_anomalies)."""
    data = DemoData(ctx.warehouse)
    start, end, label = data.period(period)
    table = data.wh.fetch(
        f"SELECT strftime(o_orderdate, '%Y-%m') AS month, r_name AS region, round({REVENUE}, 2) AS "
        f"revenue, "
        f"count(DISTINCT o_orderkey) AS orders {SALES_JOIN} WHERE o_orderdate BETWEEN ? AND ? "
        f"GROUP BY ALL ORDER BY month, region",
        [start, end],
    )
    data.label_months(table)
    when = data.span(start, end, label)
    if not table.rows:
        return ToolResult(summary=f"No sales in {when}.", table=table)
    complete = [r for r in table.rows if not str(r[0]).endswith(PARTIAL)] or table.rows
    best = max(complete, key=lambda r: r[2])
    worst = min(complete, key=lambda r: r[2])
    summary = (
        f"Revenue per region and month for {when}: {len(table.rows)} rows, total "
        f"{money(sum(r[2] for r in table.rows))}; highest {best[1]} {best[0]} {money(best[2])}, "
        f"lowest {worst[1]} {worst[0]} {money(worst[2])}."
    )
    return ToolResult(summary=summary, table=table)


@tool(
    tables=TPCH,
    output_columns=["customer_key", "customer", "nation", "region"],
    numeric_columns=["revenue", "orders", "share_pct"],
)
def top_customers(
    ctx: RunContext,
    period: Period,
    n: Annotated[int, Field(ge=1, le=100, description="how many customers to list")] = 10,
    region: Region = None,
) -> ToolResult:
    """The n customers with the most revenue in a period."""
    data = DemoData(ctx.warehouse)
    start, end, label = data.period(period)
    reg = data.region(region)
    cond, params = data.where_region(reg, "r_name")
    table = data.wh.fetch(
        f"WITH per_customer AS (SELECT c_custkey AS customer_key, c_name AS customer, n_name AS nation, "
        f"r_name AS region, {REVENUE} AS revenue, count(DISTINCT o_orderkey) AS orders {SALES_JOIN} "
        f"WHERE o_orderdate BETWEEN ? AND ?{cond} GROUP BY ALL) "
        f"SELECT customer_key, customer, nation, region, round(revenue, 2) AS revenue, orders, "
        f"round(100 * revenue / sum(revenue) OVER (), 2) AS share_pct "
        f"FROM per_customer ORDER BY revenue DESC, customer_key LIMIT ?",
        [start, end, *params, n],
    )
    when = data.span(start, end, label)
    if not table.rows:
        return ToolResult(summary=f"No customers with orders{data.region_note(reg)} in {when}.", table=table)
    share = sum(r[6] for r in table.rows)
    first = table.rows[0]
    summary = (
        f"Top {len(table.rows)} customers by revenue{data.region_note(reg)} for {when}: #1 {first[1]} "
        f"({first[2]}) {money(first[4])}; together {share:.1f}% of revenue."
    )
    return ToolResult(summary=summary, table=table)


TOOLS = (sales_by_region, sales_by_month, revenue_by_region_month, top_customers)
