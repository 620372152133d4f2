"""Small in-memory tools for testing the orchestration logic without a warehouse."""

from __future__ import annotations

import threading
import time
from typing import Literal

from pydantic import BaseModel, Field

from atomwork.errors import ToolError
from atomwork.table import Table
from atomwork.tool_result import ToolResult
from atomwork.tools import Department, Tool, ToolRegistry
from atomwork.tools.reporting import draft_report

REVENUE = {"AFRICA": 120.0, "AMERICA": 150.0, "ASIA": 140.0, "EUROPE": 135.0, "MIDDLE EAST": 610.0}


class PeriodArgs(BaseModel):
    period: str = Field(description="a period like 1998-Q2")


class SleepArgs(BaseModel):
    seconds: float
    label: str = "x"


class TableArgs(BaseModel):
    table: Table
    value_column: str


class TicketArgs(BaseModel):
    group_by: Literal["priority", "region"]
    period: str


class Recorder:
    """Remembers when each tool call started and ended (for concurrency tests)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.spans: dict[str, tuple[float, float]] = {}
        self.calls: list[str] = []

    def record(self, key: str, start: float) -> None:
        with self.lock:
            self.spans[key] = (start, time.perf_counter())
            self.calls.append(key)


def make_registry(recorder: Recorder | None = None) -> ToolRegistry:
    rec = recorder or Recorder()

    def sales_by_region(period: str) -> ToolResult:
        start = time.perf_counter()
        if period == "broken":
            raise ToolError("unknown period 'broken'")
        table = Table(columns=["region", "revenue"], rows=[[k, v] for k, v in REVENUE.items()])
        rec.record(f"sales_by_region:{period}", start)
        return ToolResult(
            summary=f"revenue by region for {period}: total {sum(REVENUE.values()):.1f}", table=table
        )

    def sleep(seconds: float, label: str) -> ToolResult:
        start = time.perf_counter()
        time.sleep(seconds)
        rec.record(f"sleep:{label}", start)
        return ToolResult(summary=f"slept {seconds}s ({label})")

    def top_value(table: Table, value_column: str) -> ToolResult:
        start = time.perf_counter()
        values = table.column(value_column)
        best = max(range(len(values)), key=lambda i: values[i])
        rec.record("top_value", start)
        row = table.rows[best]
        return ToolResult(
            summary=f"highest {value_column}: {row}", table=Table(columns=table.columns, rows=[row])
        )

    def ticket_stats(group_by: str, period: str) -> ToolResult:
        rec.record(f"ticket_stats:{group_by}", time.perf_counter())
        return ToolResult(
            summary=f"tickets by {group_by} for {period}",
            table=Table(columns=[group_by, "n"], rows=[["a", 3]]),
        )

    def empty(period: str) -> ToolResult:
        return ToolResult(summary="nothing found", table=Table(columns=["x"], rows=[]))

    tools = [
        Tool(
            name="sales_by_region",
            department="sales",
            description="revenue by region",
            args_model=PeriodArgs,
            fn=sales_by_region,
        ),
        Tool(
            name="wait_a_bit", department="operations", description="sleeps", args_model=SleepArgs, fn=sleep
        ),
        Tool(
            name="top_value",
            department="analysis",
            description="row with the highest value",
            args_model=TableArgs,
            fn=top_value,
        ),
        Tool(
            name="ticket_stats",
            department="support",
            description="ticket counts",
            args_model=TicketArgs,
            fn=ticket_stats,
        ),
        Tool(
            name="empty_finance",
            department="finance",
            description="returns no rows",
            args_model=PeriodArgs,
            fn=empty,
        ),
    ]
    shared = [
        Department("analysis", shared=True),
        Department("reporting", tools=[draft_report], shared=True, writes_report=True),
    ]
    return ToolRegistry(tools, departments=shared)


def task(
    id: str, tool: str, department: str, args: dict | None = None, deps: list[str] | None = None
) -> dict:
    return {
        "id": id,
        "tool": tool,
        "department": department,
        "args": args or {},
        "depends_on": deps or [],
        "success_criteria": "a useful result",
    }
