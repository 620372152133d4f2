"""The support department: ticket volumes, resolution times and satisfaction."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from atomwork.tool_result import ToolResult
from atomwork.tools.context import RunContext
from atomwork.tools.decorator import tool
from atomwork.tools.enterprise.common import (
    PERIOD,
    PERIOD_DESC,
    DemoData,
)
from atomwork.tools.format import num


@tool(
    tables=("support_tickets",),
    output_columns=["category", "priority", "region", "month"],
    numeric_columns=["tickets", "open_tickets", "avg_resolution_hours", "avg_csat"],
)
def ticket_stats(
    ctx: RunContext,
    period: Annotated[str, Field(description=PERIOD_DESC + " (by ticket open date)"), PERIOD],
    group_by: Annotated[
        Literal["category", "priority", "region", "month"],
        Field(description="what each row is: category, priority, region or month"),
    ] = "category",
) -> ToolResult:
    """Support tickets, open tickets, resolution hours and CSAT per category, priority, region or month."""
    data = DemoData(ctx.warehouse)
    start, end, label = data.period(period)
    key = {
        "category": "category",
        "priority": "priority",
        "region": "region",
        "month": "strftime(opened_at, '%Y-%m')",
    }[group_by]
    order = "1" if group_by == "month" else "tickets DESC"
    table = data.wh.fetch(
        f"SELECT {key} AS {group_by}, count(*) AS tickets, count(*) FILTER (WHERE closed_at IS NULL) "
        "AS open_tickets, round(avg(epoch(closed_at - opened_at) / 3600), 2) AS avg_resolution_hours, "
        "round(avg(csat), 2) AS avg_csat FROM support_tickets "
        f"WHERE opened_at::DATE BETWEEN ? AND ? GROUP BY ALL ORDER BY {order}",
        [start, end],
    )
    when = data.span(start, end, label)
    if group_by == "month":
        data.label_months(table)
    if not table.rows:
        return ToolResult(summary=f"No support tickets opened in {when}.", table=table)
    total = sum(r[1] for r in table.rows)
    still_open = sum(r[2] for r in table.rows)
    top = max(table.rows, key=lambda r: r[1])
    overall = data.wh.fetch(
        "SELECT round(avg(epoch(closed_at - opened_at) / 3600), 2), round(avg(csat), 2) FROM "
        "support_tickets "
        "WHERE opened_at::DATE BETWEEN ? AND ?",
        [start, end],
    ).rows[0]
    summary = (
        f"Support tickets by {group_by} for {when}: {total:,} opened ({still_open:,} still open), "
        f"average resolution {num(overall[0])} h, average CSAT {num(overall[1], 2)}; "
        f"most tickets: {top[0]} ({top[1]:,})."
    )
    return ToolResult(summary=summary, table=table)


TOOLS = (ticket_stats,)
