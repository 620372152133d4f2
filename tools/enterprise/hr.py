"""The HR department: headcount, hires, terminations and attrition from the employees table."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from atomwork.tool_result import ToolResult
from atomwork.tools.context import RunContext
from atomwork.tools.decorator import tool
from atomwork.tools.enterprise.common import (
    DemoData,
    Period,
    Region,
)


@tool(
    tables=("employees", "region"),
    output_columns=["department"],
    numeric_columns=["headcount", "hires", "terminations", "avg_salary"],
)
def headcount_by_department(ctx: RunContext, period: Period, region: Region = None) -> ToolResult:
    """Employees per department at the end of a period, with hires, terminations and average salary."""
    data = DemoData(ctx.warehouse)
    start, end, label = data.period(period)
    reg = data.region(region)
    as_of = min(end, data.today)
    cond, params = data.where_region(reg, "region")
    table = data.wh.fetch(
        "SELECT department, "
        "count(*) FILTER (WHERE hire_date <= ? AND (termination_date IS NULL OR termination_date > ?)) "
        "AS headcount, count(*) FILTER (WHERE hire_date BETWEEN ? AND ?) AS hires, "
        "count(*) FILTER (WHERE termination_date BETWEEN ? AND ?) AS terminations, "
        "round(avg(salary) FILTER (WHERE hire_date <= ? AND (termination_date IS NULL OR "
        "termination_date > ?)),"
        f" 2) AS avg_salary FROM employees WHERE true{cond} GROUP BY department ORDER BY headcount DESC",
        [as_of, as_of, start, as_of, start, as_of, as_of, as_of, *params],
    )
    when = data.span(start, end, label)
    total = sum(r[1] for r in table.rows)
    hires = sum(r[2] for r in table.rows)
    leavers = sum(r[3] for r in table.rows)
    top = table.rows[0] if table.rows else None
    largest = f"; largest {top[0]} ({top[1]})" if top else ""
    summary = (
        f"Headcount{data.region_note(reg)} as of {as_of}: {total:,} employees{largest}; during {when} "
        f"{hires:,} hires and {leavers:,} terminations (net {hires - leavers:+,})."
    )
    return ToolResult(summary=summary, table=table)


@tool(
    tables=("employees",),
    output_columns=["department", "region", "quarter"],
    numeric_columns=["attrition_pct", "terminations", "start_headcount", "end_headcount"],
)
def attrition(
    ctx: RunContext,
    period: Period,
    group_by: Annotated[
        Literal["department", "region", "quarter"],
        Field(description="what each row is: department, region or quarter"),
    ] = "department",
) -> ToolResult:
    """Terminations and attrition rate for a period, per department, region or quarter."""
    data = DemoData(ctx.warehouse)
    start, end, label = data.period(period)
    hi = min(end, data.today)
    lo = max(start, data.earliest) if data.earliest else start
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
    table = data.wh.fetch(
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
    when = data.span(start, end, label)
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
    return ToolResult(summary=summary, table=table)


TOOLS = (headcount_by_department, attrition)
