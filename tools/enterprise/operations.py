"""The operations department: late shipments and supplier lead times from the TPC-H order lines."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from atomwork.tool_result import ToolResult
from atomwork.tools.context import RunContext
from atomwork.tools.decorator import tool
from atomwork.tools.enterprise.common import (
    PERIOD,
    PERIOD_DESC,
    SALES_JOIN,
    TPCH,
    DemoData,
)


@tool(
    tables=TPCH,
    output_columns=["ship_mode", "region", "month"],
    numeric_columns=["late_pct", "late", "shipments", "avg_days_late"],
)
def late_shipments(
    ctx: RunContext,
    period: Annotated[str, Field(description=PERIOD_DESC + " (by ship date)"), PERIOD],
    group_by: Annotated[
        Literal["ship_mode", "region", "month"],
        Field(description="what each row is: ship_mode, region or month"),
    ] = "ship_mode",
) -> ToolResult:
    """Line items received after the committed date, per ship mode, region or month."""
    data = DemoData(ctx.warehouse)
    start, end, label = data.period(period)
    key = {
        "ship_mode": "l_shipmode",
        "region": "r_name",
        "month": "strftime(l_shipdate, '%Y-%m')",
    }[group_by]
    table = data.wh.fetch(
        f"SELECT {key} AS {group_by}, count(*) AS shipments, "
        "count(*) FILTER (WHERE l_receiptdate > l_commitdate) AS late, "
        "round(100 * avg(CASE WHEN l_receiptdate > l_commitdate THEN 1 ELSE 0 END), 2) AS late_pct, "
        "round(avg(l_receiptdate - l_commitdate) FILTER (WHERE l_receiptdate > l_commitdate), 2) "
        f"AS avg_days_late {SALES_JOIN} WHERE l_shipdate BETWEEN ? AND ? GROUP BY ALL "
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
    return ToolResult(summary=summary, table=table)


@tool(
    tables=("lineitem", "orders", "supplier", "nation"),
    output_columns=["supplier_key", "supplier", "nation"],
    numeric_columns=["avg_lead_days", "avg_transit_days", "late_pct", "shipments"],
)
def supplier_lead_times(
    ctx: RunContext,
    period: Annotated[str, Field(description=PERIOD_DESC + " (by ship date)"), PERIOD],
    n: Annotated[int, Field(ge=1, le=100, description="how many of the slowest suppliers to list")] = 10,
) -> ToolResult:
    """The n suppliers with the longest order-to-receipt times in a period."""
    data = DemoData(ctx.warehouse)
    start, end, label = data.period(period)
    table = data.wh.fetch(
        "SELECT s_suppkey AS supplier_key, s_name AS supplier, n_name AS nation, count(*) AS shipments, "
        "round(avg(l_receiptdate - o_orderdate), 2) AS avg_lead_days, "
        "round(avg(l_receiptdate - l_shipdate), 2) AS avg_transit_days, "
        "round(100 * avg(CASE WHEN l_receiptdate > l_commitdate THEN 1 ELSE 0 END), 2) AS late_pct "
        "FROM lineitem JOIN orders ON l_orderkey = o_orderkey JOIN supplier ON l_suppkey = s_suppkey "
        "JOIN nation ON s_nationkey = n_nationkey WHERE l_shipdate BETWEEN ? AND ? "
        "GROUP BY ALL ORDER BY avg_lead_days DESC, supplier_key LIMIT ?",
        [start, end, n],
    )
    overall = data.wh.fetch(
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
    return ToolResult(summary=summary, table=table)


TOOLS = (late_shipments, supplier_lead_times)
