"""Comparing one metric of the demo enterprise between two periods, per region (a shared analysis tool)."""

from __future__ import annotations

from typing import Annotated, Any, Literal, get_args

from pydantic import Field

from atomwork.table import Table
from atomwork.tool_result import ToolResult
from atomwork.tools.context import RunContext
from atomwork.tools.decorator import tool
from atomwork.tools.enterprise.common import (
    PERIOD,
    REVENUE,
    SALES_JOIN,
    TPCH,
    DemoData,
)
from atomwork.tools.format import money, num, pct

Metric = Literal["revenue", "orders", "expenses", "tickets", "hires", "terminations", "marketing_spend"]
METRICS: tuple[str, ...] = get_args(Metric)


@tool(
    tables=(*TPCH, "expenses", "support_tickets", "employees", "campaigns"),
    output_columns=["region"],
    numeric_columns=["change", "change_pct", *(f"{m}_{side}" for m in METRICS for side in ("a", "b"))],
)
def compare_periods(
    ctx: RunContext,
    metric: Annotated[Metric, Field(description="what to compare")],
    period_a: Annotated[str, Field(description="the earlier period, e.g. 1996"), PERIOD],
    period_b: Annotated[str, Field(description="the later period, e.g. 1997"), PERIOD],
) -> ToolResult:
    """Compare one metric between two periods, per region (revenue, orders, expenses, tickets, hires,
    terminations, marketing_spend)."""
    data = DemoData(ctx.warehouse)
    a_start, a_end, a_label = data.period(period_a)
    b_start, b_end, b_label = data.period(period_b)
    sql = {
        "revenue": f"SELECT r_name, {REVENUE} {SALES_JOIN} WHERE o_orderdate BETWEEN ? AND ? GROUP BY 1",
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
    first = {str(k): float(v) for k, v in data.wh.fetch(sql, [a_start, a_end]).rows}
    second = {str(k): float(v) for k, v in data.wh.fetch(sql, [b_start, b_end]).rows}
    rows: list[list[Any]] = []
    for region in sorted(set(first) | set(second) | set(data.wh.distinct("region", "r_name"))):
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
    fmt = money if metric in {"revenue", "expenses", "marketing_spend"} else num
    moved = [r for r in rows[:-1] if r[4] is not None]
    extremes = ""
    if moved:
        up = max(moved, key=lambda r: r[4])
        down = min(moved, key=lambda r: r[4])
        extremes = f"; biggest rise {up[0]} ({pct(up[4])}), biggest fall {down[0]} ({pct(down[4])})"
    summary = (
        f"{metric} {data.span(a_start, a_end, a_label)} vs {data.span(b_start, b_end, b_label)}: "
        f"{fmt(total_a)} -> {fmt(total_b)} ({pct(rows[-1][4])}){extremes}."
    )
    return ToolResult(summary=summary, table=table)


TOOLS = (compare_periods,)
