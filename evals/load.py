"""The load benchmark: many goals at once in one process, on a scripted model paced like a decoder
and tools with a fixed latency, so the figures are the framework's own (``scripts/dev.sh bench --load``).

Reports the framework's overhead per task, goals per minute and p50/p95 latency for N concurrent goals
against the same goals run one after another, and what the streaming planner saves. With a model spec
(``--load-model vllm:URL``) the same load runs real goals on a served model.
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from atomwork.engine import Engine
from atomwork.models.base import ChatModel
from atomwork.models.paced import PacedModel
from atomwork.models.purpose import Purpose
from atomwork.models.scripted import FunctionModel, ModelCallInfo, Reply
from atomwork.result import RunResult, StopReason
from atomwork.settings import RunSettings
from atomwork.table import Table
from atomwork.tool_result import ToolResult
from atomwork.tools.base import Tool
from atomwork.tools.department import Department
from atomwork.tools.registry import ToolRegistry

__all__ = [
    "LoadConfig",
    "LoadLevel",
    "LoadReport",
    "ServedLoadReport",
    "run_load",
    "run_served_load",
    "scripted_load_model",
]

GOAL = "fetch the north, south and east figures and combine the figures"
PARTS = ("north", "south", "east")


class LoadConfig(BaseModel):
    """What the scripted load runs."""

    levels: list[int] = Field(default_factory=lambda: [1, 4, 16])
    """Numbers of goals run at once."""
    tool_seconds: float = 0.2
    """Latency of every tool call."""
    seconds_per_token: float = 0.01
    """The scripted model's pace: 100 tokens/s, a served model's (the plan is ~130 tokens)."""
    streaming_repeats: int = 3
    """Goals timed with and without the streaming planner."""
    max_workers: int = 4


class LoadLevel(BaseModel):
    """N goals at once against the same N goals one after another, in one process."""

    goals: int
    concurrent_seconds: float
    sequential_seconds: float
    goals_per_minute: float
    sequential_goals_per_minute: float
    p50_s: float
    p95_s: float
    sequential_p50_s: float
    sequential_p95_s: float
    completed: int
    """Concurrent goals that ended ``completed``."""

    @property
    def speedup(self) -> float:
        return self.goals_per_minute / self.sequential_goals_per_minute


class LoadReport(BaseModel):
    model: str
    config: LoadConfig
    overhead_ms_per_task: float
    """One goal with an instant model: its time beyond the tools' critical path, per task."""
    tasks_per_goal: int
    levels: list[LoadLevel]
    planned_first_s: float
    """Mean latency of one goal, planning first."""
    streamed_s: float
    """Mean latency of one goal with ``stream_plan``."""
    finished_at: datetime = Field(default_factory=lambda: datetime.now(UTC))

    @property
    def streaming_saving_s(self) -> float:
        return self.planned_first_s - self.streamed_s


def load_registry(tool_seconds: float) -> ToolRegistry:
    """Two tools that take ``tool_seconds`` each: a fetch per region and a combination of fetches."""

    class FetchArgs(BaseModel):
        region: str

    class CombineArgs(BaseModel):
        inputs: list[str] = Field(description="outputs to combine, like $t1")

    def fetch_region(region: str) -> ToolResult:
        time.sleep(tool_seconds)
        return ToolResult(
            summary=f"{region}: 100.", table=Table(columns=["region", "value"], rows=[[region, 100]])
        )

    def combine_figures(inputs: list[Any]) -> ToolResult:
        time.sleep(tool_seconds)
        return ToolResult(summary=f"Combined {len(inputs)} figures: total {100 * len(inputs)}.")

    tools = [
        Tool(
            name="fetch_region",
            department="sales",
            description="figures of one region",
            args_model=FetchArgs,
            fn=fetch_region,
        ),
        Tool(
            name="combine_figures",
            department="analysis",
            description="combine earlier figures",
            args_model=CombineArgs,
            fn=combine_figures,
        ),
    ]
    return ToolRegistry(tools, departments=[Department("analysis", shared=True)])


def load_plan() -> dict[str, Any]:
    """Three fetches in parallel, then their combination: the critical path is two tool calls."""
    fetches = [
        {
            "tool": "fetch_region",
            "id": f"t{i}",
            "args": {"region": part},
            "depends_on": [],
            "success_criteria": f"the {part} figures",
        }
        for i, part in enumerate(PARTS, start=1)
    ]
    ids = [f["id"] for f in fetches]
    combine = {
        "tool": "combine_figures",
        "id": f"t{len(fetches) + 1}",
        "args": {"inputs": [f"${i}" for i in ids]},
        "depends_on": ids,
        "success_criteria": "one combined figure",
    }
    return {"task_count": len(fetches) + 1, "tasks": [*fetches, combine]}


def scripted_load_model(seconds_per_token: float) -> ChatModel:
    """A plan for every goal, written at ``seconds_per_token``; thread-safe for concurrent goals."""
    plan = load_plan()

    def reply(info: ModelCallInfo) -> Reply:
        if info.purpose is Purpose.PLAN:
            return plan
        raise AssertionError(f"the load benchmark makes no {info.purpose} call")

    return PacedModel(FunctionModel(reply, name="scripted-load"), seconds_per_token=seconds_per_token)


RunGoal = Callable[[str], RunResult]


def _timed(run_goal: RunGoal, goal: str) -> tuple[float, RunResult]:
    start = time.perf_counter()
    result = run_goal(goal)
    return time.perf_counter() - start, result


def measure_level(run_goal: RunGoal, goals: Sequence[str]) -> LoadLevel:
    """``goals`` all at once (one thread each), then one after another."""
    count = len(goals)
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=count, thread_name_prefix="atomwork-load") as pool:
        together = list(pool.map(lambda g: _timed(run_goal, g), goals))
    concurrent = time.perf_counter() - start
    start = time.perf_counter()
    alone = [_timed(run_goal, g) for g in goals]
    sequential = time.perf_counter() - start
    latencies = [s for s, _ in together]
    alone_latencies = [s for s, _ in alone]
    return LoadLevel(
        goals=count,
        concurrent_seconds=concurrent,
        sequential_seconds=sequential,
        goals_per_minute=60 * count / concurrent,
        sequential_goals_per_minute=60 * count / sequential,
        p50_s=_percentile(latencies, 50),
        p95_s=_percentile(latencies, 95),
        sequential_p50_s=_percentile(alone_latencies, 50),
        sequential_p95_s=_percentile(alone_latencies, 95),
        completed=sum(r.stop_reason == StopReason.COMPLETED for _, r in together),
    )


def _percentile(values: Sequence[float], pct: float) -> float:
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    return statistics.quantiles(ordered, n=100, method="inclusive")[int(pct) - 1]


def run_load(config: LoadConfig, on_line: Callable[[str], None] = print) -> LoadReport:
    """The scripted load benchmark (see the module docstring)."""
    registry = load_registry(config.tool_seconds)
    tasks = len(load_plan()["tasks"])

    def runner(model: ChatModel, stream_plan: bool = False) -> RunGoal:
        settings = RunSettings(
            max_replans=0,
            answer_with_model=False,
            single_question_fast_path=False,
            max_workers=config.max_workers,
            stream_plan=stream_plan,
        )
        return lambda goal: Engine(model, registry, settings=settings).run(goal)

    # The framework's own time: an instant model, and the tools' critical path (two calls) taken off.
    instant = runner(scripted_load_model(0.0))
    instant(GOAL)  # warm-up: imports, schema and prompt caches
    spent = min(_timed(instant, GOAL)[0] for _ in range(5))
    overhead_ms = 1000 * max(0.0, spent - 2 * config.tool_seconds) / tasks
    on_line(f"framework overhead: {overhead_ms:.1f} ms per task ({tasks} tasks a goal)")

    paced = scripted_load_model(config.seconds_per_token)
    levels = []
    for count in config.levels:
        level = measure_level(runner(paced), [GOAL] * count)
        levels.append(level)
        on_line(
            f"N={count}: {level.goals_per_minute:.0f} goals/min "
            f"(sequential {level.sequential_goals_per_minute:.0f}), "
            f"p50 {level.p50_s:.2f}s p95 {level.p95_s:.2f}s, speed-up x{level.speedup:.1f}"
        )

    first = [_timed(runner(paced), GOAL)[0] for _ in range(config.streaming_repeats)]
    streamed = [_timed(runner(paced, stream_plan=True), GOAL)[0] for _ in range(config.streaming_repeats)]
    report = LoadReport(
        model=paced.name,
        config=config,
        overhead_ms_per_task=overhead_ms,
        tasks_per_goal=tasks,
        levels=levels,
        planned_first_s=statistics.mean(first),
        streamed_s=statistics.mean(streamed),
    )
    on_line(
        f"streaming planner: {report.streamed_s:.2f}s vs {report.planned_first_s:.2f}s planning first "
        f"(saves {report.streaming_saving_s:.2f}s a goal)"
    )
    return report


SERVED_GOAL = "Analyze revenue by region for 1997"
"""A goal that goes through the planner, specialists and tools on the demo warehouse."""


class ServedLoadReport(BaseModel):
    """N real goals at once on a served model (vLLM), against the same goals one after another."""

    model: str
    goal: str
    levels: list[LoadLevel]
    finished_at: datetime = Field(default_factory=lambda: datetime.now(UTC))


def run_served_load(
    model: ChatModel, levels: Sequence[int], goal: str = SERVED_GOAL, on_line: Callable[[str], None] = print
) -> ServedLoadReport:
    """``goal`` N at a time on ``model`` over the demo warehouse, one session shared by all goals."""
    from atomwork.sdk import Atomwork

    session = Atomwork(model=model, save_runs=False, memory=False)
    settings = RunSettings(max_replans=0)
    try:
        measured = []
        for count in levels:
            level = measure_level(lambda g: session.run(g, settings=settings), [goal] * count)
            measured.append(level)
            on_line(
                f"{model.name} N={count}: {level.goals_per_minute:.1f} goals/min "
                f"(sequential {level.sequential_goals_per_minute:.1f}), p50 {level.p50_s:.1f}s "
                f"p95 {level.p95_s:.1f}s, {level.completed}/{count} completed"
            )
    finally:
        session.warehouse.close()  # not session.close(): the model belongs to the caller
    return ServedLoadReport(model=model.name, goal=goal, levels=measured)


def format_levels(levels: Sequence[LoadLevel]) -> str:
    rows = [
        "| N goals | goals/min | sequential goals/min | speed-up | p50 (s) | p95 (s) "
        "| sequential p50/p95 (s) |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    rows += [
        f"| {lv.goals} | {lv.goals_per_minute:.1f} | {lv.sequential_goals_per_minute:.1f} "
        f"| x{lv.speedup:.1f} "
        f"| {lv.p50_s:.2f} | {lv.p95_s:.2f} | {lv.sequential_p50_s:.2f} / {lv.sequential_p95_s:.2f} |"
        for lv in levels
    ]
    return "\n".join(rows)


def format_table(report: LoadReport) -> str:
    """The report as a Markdown table."""
    rows = [
        format_levels(report.levels),
        "",
        f"Framework overhead: {report.overhead_ms_per_task:.1f} ms per task "
        f"(instant model, {report.config.tool_seconds * 1000:.0f} ms tools, "
        f"{report.tasks_per_goal} tasks a goal).",
        f"Streaming planner: {report.streamed_s:.2f} s vs {report.planned_first_s:.2f} s planning first "
        f"(saves {report.streaming_saving_s:.2f} s a goal).",
    ]
    return "\n".join(rows)


def save(report: BaseModel, folder: Path, name: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = folder / f"{stamp}-{name}.json"
    path.write_text(json.dumps(report.model_dump(mode="json"), indent=2), encoding="utf-8")
    return path
