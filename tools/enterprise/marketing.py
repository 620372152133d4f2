"""The marketing department: campaign spend, leads and conversions."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Annotated, Any, Literal

from pydantic import Field

from atomwork.tool_result import ToolResult
from atomwork.tools.base import ChoiceSource
from atomwork.tools.context import RunContext
from atomwork.tools.decorator import tool
from atomwork.tools.enterprise.common import (
    PERIOD,
    PERIOD_DESC,
    DemoData,
)
from atomwork.tools.format import money
from atomwork.tools.warehouse import DEFAULT_ROW_LIMIT


@tool(
    tables=("campaigns",),
    output_columns=["channel", "region", "campaign_id", "name", "start_date"],
    numeric_columns=[
        "spend",
        "leads",
        "conversions",
        "cost_per_lead",
        "cost_per_conversion",
        "conversion_pct",
        "campaigns",
    ],
)
def campaign_performance(
    ctx: RunContext,
    period: Annotated[str, Field(description=PERIOD_DESC + " (by campaign start date)"), PERIOD],
    group_by: Annotated[
        Literal["channel", "region", "campaign"],
        Field(description="what each row is: channel, region or single campaign"),
    ] = "channel",
    channel: Annotated[
        str | None,
        Field(description="one channel (email, search, social, display, events); omit for all"),
        ChoiceSource(table="campaigns", column="channel"),
    ] = None,
) -> ToolResult:
    """Marketing spend, leads, conversions and cost per conversion, per channel, region or campaign."""
    data = DemoData(ctx.warehouse)
    start, end, label = data.period(period)
    chan = data.choose(channel, "campaigns", "channel", "channel")
    cond, params = ("", []) if chan is None else (" AND channel = ?", [chan])
    if group_by == "campaign":
        keys = "campaign_id, name, channel, region, start_date"
        order = "cost_per_conversion DESC NULLS FIRST, campaign_id"
    else:
        keys = group_by
        order = "spend DESC"
    count = "" if group_by == "campaign" else "count(*) AS campaigns, "
    table = data.wh.fetch(
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
    when = data.span(start, end, label)
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
    cost = money(spend / conversions) if conversions else "n/a"
    summary = (
        f"Campaign performance by {group_by}{scope} for {when}: spend {money(spend)}, "
        f"{conversions:,} conversions ({cost} per conversion); most efficient {label_of(cheap)} "
        f"{money(cheap[cpc_idx])}/conversion, least efficient {label_of(costly)} "
        f"{money(costly[cpc_idx]) if costly[cpc_idx] is not None else 'no conversions'}"
        f"{'/conversion' if costly[cpc_idx] is not None else ''}{shown}."
    )
    return ToolResult(summary=summary, table=table)


TOOLS = (campaign_performance,)
