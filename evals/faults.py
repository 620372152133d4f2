"""The fault-injection suite: runs whose model fails, hangs or answers garbage on a share of calls and
whose tools raise (``SystemExit`` and ``KeyboardInterrupt`` included) or hang, each checked for an
honest end and for finished work that was not lost.

A scripted model and in-memory tools, so it takes seconds: ``scripts/dev.sh bench --faults`` prints
the figures and saves them under ``benchmarks/results``; ``tests/test_faults.py`` asserts them.
"""

from __future__ import annotations

import json
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from atomwork.engine import Engine
from atomwork.errors import AtomworkError, ToolError
from atomwork.models.faulty import Fault, FaultyModel
from atomwork.models.purpose import Purpose
from atomwork.models.retry import RetryPolicy
from atomwork.models.scripted import FunctionModel, ModelCallInfo, Reply
from atomwork.outcome import StopReason, TaskOutcome, TaskStatus
from atomwork.result import RunResult
from atomwork.run_store import RunStatus, RunStore
from atomwork.settings import RunSettings
from atomwork.table import Table
from atomwork.tools.base import Tool
from atomwork.tools.decorator import tool
from atomwork.tools.department import Department
from atomwork.tools.registry import ToolRegistry

__all__ = [
    "FaultBench",
    "FaultReport",
    "FaultRun",
    "KillCheck",
    "ToolFault",
    "ToolFaults",
    "fault_registry",
    "fault_settings",
    "format_bench",
    "kill_and_resume",
    "run_fault_bench",
    "run_fault_suite",
    "save_bench",
    "scripted_model",
]

GOAL = "revenue by region for 1998 and shipments for 1998, then the region with the top revenue"
REVENUE = {"AFRICA": 120.0, "AMERICA": 150.0, "ASIA": 140.0, "EUROPE": 135.0, "MIDDLE EAST": 610.0}
SHIPPED = {"AIR": 31, "RAIL": 27, "SHIP": 44, "TRUCK": 19}


class ToolFault(StrEnum):
    TOOL_ERROR = "tool_error"
    """The tool refuses with a ToolError."""
    BUG = "bug"
    """The tool has a bug (a ``ValueError``)."""
    SYSTEM_EXIT = "system_exit"
    KEYBOARD_INTERRUPT = "keyboard_interrupt"
    HANG = "hang"
    """The tool never returns (a sleep longer than its timeout)."""


class ToolFaults:
    """Makes a seeded ``rate`` share of tool calls fail; counts faults and the calls that returned."""

    def __init__(self, *, rate: float, seed: int, hang_s: float) -> None:
        self.rate = rate
        self.seed = seed
        self.hang_s = hang_s
        self.injected: Counter[ToolFault] = Counter()
        self.returned: Counter[str] = Counter()
        """Calls that returned a result, by tool name."""
        self._seen: Counter[str] = Counter()
        self._lock = threading.Lock()

    def wrap(self, original: Tool) -> Tool:
        fn = original.fn

        def faulty(*args: Any, **kwargs: Any) -> Any:
            key = f"{original.name}|{json.dumps(kwargs, sort_keys=True, default=str)}"
            with self._lock:
                self._seen[key] += 1
                dice = random.Random(f"{self.seed}|{key}|{self._seen[key]}")
                fault = dice.choice(list(ToolFault)) if dice.random() < self.rate else None
                if fault is not None:
                    self.injected[fault] += 1
            if fault is ToolFault.TOOL_ERROR:
                raise ToolError(f"injected fault: {original.name} refused")
            if fault is ToolFault.BUG:
                raise ValueError(f"injected fault: a bug in {original.name}\n  (a second line)")
            if fault is ToolFault.SYSTEM_EXIT:
                raise SystemExit(3)
            if fault is ToolFault.KEYBOARD_INTERRUPT:
                raise KeyboardInterrupt
            if fault is ToolFault.HANG:
                time.sleep(self.hang_s)  # stopped by the runner's planted exception, or abandoned
                raise ToolError("injected fault: a hang that ended")
            value = fn(*args, **kwargs)
            with self._lock:
                self.returned[original.name] += 1
            return value

        return original.model_copy(update={"fn": faulty})


@tool
def revenue_by_region(period: str) -> Table:
    """Revenue per region for a period.

    Args:
        period: a year like 1998
    """
    return Table(columns=["region", "revenue"], rows=[[k, v] for k, v in REVENUE.items()])


@tool
def shipments_by_mode(period: str) -> Table:
    """Shipments per ship mode for a period.

    Args:
        period: a year like 1998
    """
    return Table(columns=["mode", "shipments"], rows=[[k, v] for k, v in SHIPPED.items()])


@tool
def top_row(table: Table, value_column: str) -> Table:
    """The row of a table with the highest value in a column.

    Args:
        table: an earlier task's table
        value_column: the column to rank by
    """
    values = table.column(value_column)
    best = max(range(len(values)), key=lambda i: values[i])
    return Table(columns=table.columns, rows=[table.rows[best]])


@tool
def slow_summary(period: str) -> str:
    """A summary that takes long to write (the kill scenario kills the run while it sleeps).

    Args:
        period: a year like 1998
    """
    time.sleep(float(os.environ.get(SLOW_ENV, "0")))
    return f"the {period} summary"


SLOW_ENV = "ATOMWORK_FAULTS_SLOW_S"
"""Seconds :func:`slow_summary` sleeps (the killed process sets it; the resuming one does not)."""


def _counted(original: Tool, marker: Path) -> Tool:
    """``original``, appending its name to ``marker`` each time it returns (counts across processes)."""
    fn = original.fn

    def counted(*args: Any, **kwargs: Any) -> Any:
        value = fn(*args, **kwargs)
        with marker.open("a", encoding="utf-8") as handle:
            handle.write(original.name + "\n")
        return value

    return original.model_copy(update={"fn": counted})


def _calls(marker: Path) -> list[str]:
    """The tool calls counted in ``marker`` so far."""
    return marker.read_text(encoding="utf-8").split() if marker.exists() else []


def kill_registry(marker: Path) -> ToolRegistry:
    """The suite's tools and :func:`slow_summary`, each counting its finished calls in ``marker``."""
    return ToolRegistry(
        departments=[
            Department("sales", tools=[_counted(revenue_by_region, marker)]),
            Department(
                "operations", tools=[_counted(shipments_by_mode, marker), _counted(slow_summary, marker)]
            ),
            Department("analysis", tools=[_counted(top_row, marker)], shared=True),
        ]
    )


def fault_registry(faults: ToolFaults | None = None) -> ToolRegistry:
    """The suite's departments (sales, operations, a shared analysis one), their tools made faulty."""
    wrap: Callable[[Tool], Tool] = faults.wrap if faults is not None else (lambda t: t)
    return ToolRegistry(
        departments=[
            Department("sales", tools=[wrap(revenue_by_region)]),
            Department("operations", tools=[wrap(shipments_by_mode)]),
            Department("analysis", tools=[wrap(top_row)], shared=True),
        ]
    )


_PLAN: list[dict[str, Any]] = [
    {"tool": "revenue_by_region", "args": {"period": "1998"}, "depends_on": []},
    {"tool": "shipments_by_mode", "args": {"period": "1998"}, "depends_on": []},
    {"tool": "top_row", "args": {"table": "$0", "value_column": "revenue"}, "depends_on": [0]},
]


def _tasks(first: int) -> dict[str, Any]:
    """The suite's plan with ids from ``t<first>`` (a replan asks again for all of it; the
    planner drops what already finished)."""
    ids = [f"t{first + k}" for k in range(len(_PLAN))]
    tasks = []
    for k, spec in enumerate(_PLAN):
        args = {
            name: f"${ids[int(value[1:])]}" if isinstance(value, str) and value.startswith("$") else value
            for name, value in spec["args"].items()
        }
        tasks.append(
            {
                "id": ids[k],
                "tool": spec["tool"],
                "args": args,
                "depends_on": [ids[d] for d in spec["depends_on"]],
                "success_criteria": "a non-empty table",
            }
        )
    return {"task_count": len(tasks), "tasks": tasks}


_FIRST_ID = re.compile(r'"id": \{"const": "t(\d+)"\}')


def _reply(info: ModelCallInfo) -> Reply:
    if info.purpose in (Purpose.PLAN, Purpose.REPLAN):
        found = [int(n) for n in _FIRST_ID.findall(json.dumps(info.json_schema or {}))]
        return _tasks(min(found, default=1))
    if info.purpose in (Purpose.SCORE, Purpose.SCORE_FINAL):
        return {"score": 8, "reason": "the figures answer the goal"}
    if info.purpose is Purpose.ANSWER:
        return "MIDDLE EAST has the top revenue in 1998; revenue and shipments by mode are listed."
    raise AssertionError(f"the fault suite's script has no reply for purpose {info.purpose}")


def _kill_reply(info: ModelCallInfo) -> Reply:
    if info.purpose is Purpose.PLAN:
        plan = _tasks(1)
        plan["tasks"].append(
            {
                "id": "t4",
                "tool": "slow_summary",
                "args": {"period": "1998"},
                "depends_on": [],
                "success_criteria": "a summary",
            }
        )
        plan["task_count"] = len(plan["tasks"])
        return plan
    return _reply(info)


KILL_RUN_ID = "faults-killed"
KILL_GOAL = GOAL + ", and a summary of 1998"
_FINISHED_FIRST = ("revenue_by_region", "shipments_by_mode", "top_row")


def kill_child(store_path: str, marker: str) -> None:
    """The killed process: starts the kill scenario's run, whose slow task sleeps until it is killed."""
    store = RunStore.sqlite(Path(store_path))
    engine = Engine(
        FunctionModel(_kill_reply, name="scripted-faults"),
        kill_registry(Path(marker)),
        settings=fault_settings(tool_timeout_s=600),
        runs=store,
    )
    engine.run(KILL_GOAL, run_id=KILL_RUN_ID)


class KillCheck(BaseModel):
    """What a run killed mid-way (SIGKILL) left behind, and what its resume did."""

    killed_after_s: float
    record_status: RunStatus | None
    """What the record said after the kill (an honest one: running, its process gone)."""
    record_interrupted: bool
    record_stop_reason: StopReason | None
    kept_before_resume: list[str]
    """Tasks whose outcome was in the durable record when the process died."""
    resumed_stop_reason: StopReason | None = None
    runs_per_tool: dict[str, int] = Field(default_factory=dict)
    """Finished calls of each tool over both processes: the tasks finished before the kill ran once."""
    problems: list[str] = Field(default_factory=list)

    @property
    def honest(self) -> bool:
        return not self.problems


def kill_and_resume(folder: Path, *, wait_s: float = 60.0) -> KillCheck:
    """Start the kill scenario in a child process, SIGKILL it once its quick tasks are kept, then
    resume the run here and check that no finished task ran again."""
    store_path, marker = folder / "runs.sqlite", folder / "calls.txt"
    code = "import sys; from atomwork.evals.faults import kill_child; kill_child(sys.argv[1], sys.argv[2])"
    child = subprocess.Popen(
        [sys.executable, "-c", code, str(store_path), str(marker)],
        env={**os.environ, SLOW_ENV: "120"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    start = time.monotonic()
    store: RunStore | None = None
    try:
        while time.monotonic() - start < wait_s:
            if child.poll() is not None:
                error = (child.stderr.read().decode(errors="replace") if child.stderr else "")[-500:]
                raise AssertionError(f"the kill scenario's process ended by itself: {error}")
            # The store is opened once the child has long set it up (two processes creating its
            # tables at once would race).
            if store is None and set(_FINISHED_FIRST) <= set(_calls(marker)):
                store = RunStore.sqlite(store_path)
            kept = store.outcomes(KILL_RUN_ID) if store is not None else {}
            if {"t1", "t2", "t3"} <= set(kept):
                break
            time.sleep(0.1)
        else:
            raise AssertionError(f"the kill scenario kept no finished task within {wait_s:g}s")
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
        killed_after = time.monotonic() - start
        assert store is not None
        record = store.record(KILL_RUN_ID)
        check = KillCheck(
            killed_after_s=killed_after,
            record_status=record.status if record else None,
            record_interrupted=record.interrupted if record else False,
            record_stop_reason=record.stop_reason if record else None,
            kept_before_resume=sorted(store.outcomes(KILL_RUN_ID)),
        )
        if record is None or record.status != RunStatus.RUNNING or not record.interrupted:
            check.problems.append(f"after the kill the record says {record.status if record else 'nothing'}")
        if check.record_stop_reason is not None:
            check.problems.append(f"a killed run claims the stop reason {check.record_stop_reason}")
        engine = Engine(
            FunctionModel(_kill_reply, name="scripted-faults"),
            kill_registry(marker),
            settings=fault_settings(tool_timeout_s=600),
            runs=store,
        )
        result = engine.resume(KILL_RUN_ID)
        check.resumed_stop_reason = result.stop_reason
        check.runs_per_tool = dict(Counter(_calls(marker)))
        if check.runs_per_tool.get("slow_summary") != 1:
            check.problems.append("the task killed mid-call did not finish once on resume")
        for name in _FINISHED_FIRST:
            if check.runs_per_tool.get(name) != 1:
                check.problems.append(f"{name} finished {check.runs_per_tool.get(name, 0)} times, not once")
        check.problems += check_run(result, store)
        check.problems += [f"{tid} lost" for tid in lost_results(result, store)]
        return check
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(timeout=30)
        if child.stderr is not None:
            child.stderr.close()
        if store is not None:
            store.close()


def scripted_model(*, rate: float, seed: int, attempt_timeout_s: float = 0.2) -> FaultyModel:
    """The suite's model: a scripted planner, scorer and writer behind a :class:`FaultyModel` that
    fails ``rate`` of the calls, with short timeouts and waits so a hang costs a fraction of a second."""
    policy = RetryPolicy(
        attempts=3, deadline_s=2.0, attempt_timeout_s=attempt_timeout_s, backoff_s=0.01, jitter_s=0.02
    )
    return FaultyModel(
        FunctionModel(_reply, name="scripted-faults"), rate=rate, seed=seed, retry_policy=policy
    )


def fault_settings(*, tool_timeout_s: float = 0.3) -> RunSettings:
    return RunSettings(
        max_replans=2,
        score_tasks_with_model=True,
        score_final_with_model=True,
        single_question_fast_path=False,
        tool_timeout_s=tool_timeout_s,
    )


class FaultRun(BaseModel):
    """One run of the suite and what the checks found."""

    index: int
    stop_reason: StopReason | None = None
    """None when the run ended with an error instead of a result."""
    error: str | None = None
    """The error the run ended with (its type and one line)."""
    tasks: int = 0
    tasks_done: int = 0
    tasks_passed: int = 0
    tasks_failed: int = 0
    tool_results: int = 0
    """Tool calls that returned a result (each must be a finished task in the record)."""
    lost: list[str] = Field(default_factory=list)
    """Finished tasks whose result the durable record does not hold."""
    problems: list[str] = Field(default_factory=list)
    """Why the end was not honest; empty when it was."""
    model_calls: int = 0
    seconds: float = 0.0

    @property
    def honest(self) -> bool:
        return not self.problems and not self.lost


class FaultReport(BaseModel):
    """The suite's figures over ``runs`` runs."""

    runs: int
    rate: float
    seed: int
    completed: int
    """Runs that ended ``completed`` (every task and the answer passed)."""
    stop_reasons: dict[str, int]
    """How the runs ended; ``error:<type>`` for a run that ended with an error."""
    honest: int
    """Runs whose end matched their outcomes, with every error one line and no exception escaping."""
    tasks_done: int
    lost_results: int
    """Finished results missing from the durable record (must be 0)."""
    injected_model: dict[str, int]
    injected_tool: dict[str, int]
    model_calls: int
    mean_seconds: float
    max_seconds: float
    records: list[FaultRun]

    @property
    def success_rate(self) -> float:
        return self.completed / self.runs if self.runs else 0.0

    @property
    def honest_rate(self) -> float:
        return self.honest / self.runs if self.runs else 0.0


def _one_line(text: str | None) -> bool:
    return bool(text) and "\n" not in (text or "")


def check_run(result: RunResult, store: RunStore) -> list[str]:
    """Why ``result`` (and its durable record) would not be an honest end; empty when it is."""
    problems: list[str] = []
    outcomes = result.outcomes
    latest = max((o.round for o in outcomes.values()), default=0)
    unresolved = [tid for tid, o in outcomes.items() if o.round == latest and o.finished and not o.ok]
    if result.stop_reason == StopReason.COMPLETED:
        if unresolved:
            problems.append(f"completed with failing tasks {unresolved}")
        if result.final_evaluation is None or not result.final_evaluation.passed:
            problems.append("completed without a passing final answer")
        if not result.answer.strip():
            problems.append("completed with an empty answer")
    for tid, outcome in outcomes.items():
        if outcome.status == TaskStatus.FAILED and not _one_line(outcome.error):
            problems.append(f"{tid} failed without a one-line error: {outcome.error!r}")
    record = store.record(result.run_id)
    if record is None:
        problems.append("no run record")
    else:
        if record.status != RunStatus.FINISHED:
            problems.append(f"the record says {record.status}, the run returned a result")
        if record.stop_reason != result.stop_reason:
            problems.append(f"the record says {record.stop_reason}, the result {result.stop_reason}")
    return problems


def lost_results(result: RunResult, store: RunStore) -> list[str]:
    """Finished tasks of ``result`` missing from the store's outcomes or its saved result."""
    kept = store.outcomes(result.run_id)
    saved = store.result(result.run_id)
    saved_outcomes: dict[str, TaskOutcome] = saved.outcomes if saved is not None else {}
    lost = []
    for tid, outcome in result.outcomes.items():
        if outcome.status != TaskStatus.DONE or outcome.result is None:
            continue
        for where in (kept, saved_outcomes):
            held = where.get(tid)
            if held is None or held.result != outcome.result:
                lost.append(tid)
                break
    return lost


def run_once(
    index: int, *, rate: float, seed: int, store: RunStore
) -> tuple[FaultRun, FaultyModel, ToolFaults]:
    """One run of the suite, checked."""
    model = scripted_model(rate=rate, seed=seed * 1000 + index)
    faults = ToolFaults(rate=rate, seed=seed * 1000 + index, hang_s=5.0)
    engine = Engine(model, fault_registry(faults), settings=fault_settings(), runs=store)
    run = FaultRun(index=index)
    run_id = f"faults-{seed}-{index}"
    start = time.perf_counter()
    try:
        result = engine.run(GOAL, run_id=run_id)
    except AtomworkError as exc:  # an honest end too: one line, and the record says it failed
        run.error = f"{type(exc).__name__}: {exc}"
        if not _one_line(str(exc)):
            run.problems.append(f"error is not one line: {str(exc)!r}")
        record = store.record(run_id)
        if record is None or record.status != RunStatus.FAILED or not _one_line(record.error):
            run.problems.append(f"the record of a failed run says {record.status if record else 'nothing'}")
    except BaseException as exc:
        run.error = f"{type(exc).__name__}: {exc}"
        run.problems.append(f"{type(exc).__name__} escaped the run")
    else:
        run.stop_reason = result.stop_reason
        run.tasks = len(result.outcomes)
        run.tasks_done = sum(o.status == TaskStatus.DONE for o in result.outcomes.values())
        run.tasks_passed = sum(o.ok for o in result.outcomes.values())
        run.tasks_failed = sum(o.status == TaskStatus.FAILED for o in result.outcomes.values())
        run.problems += check_run(result, store)
        run.lost = lost_results(result, store)
        run.tool_results = sum(faults.returned.values())
        if run.tool_results != run.tasks_done:
            run.problems.append(f"{run.tool_results} tool results but {run.tasks_done} finished tasks")
    run.seconds = time.perf_counter() - start
    run.model_calls = len(model.calls)
    return run, model, faults


def run_fault_suite(
    *,
    runs: int = 30,
    rate: float = 0.3,
    seed: int = 0,
    store: RunStore | None = None,
    on_run: Callable[[FaultRun], None] | None = None,
) -> FaultReport:
    """``runs`` runs, each with its own seeded faults on ``rate`` of the model and tool calls."""
    owned = store is None
    folder = tempfile.TemporaryDirectory(prefix="atomwork-faults-") if owned else None
    used = store if store is not None else RunStore.sqlite(Path(folder.name) / "runs.sqlite")  # type: ignore[union-attr]
    records: list[FaultRun] = []
    injected_model: Counter[Fault] = Counter()
    injected_tool: Counter[ToolFault] = Counter()
    try:
        for index in range(runs):
            record, model, faults = run_once(index, rate=rate, seed=seed, store=used)
            injected_model.update(model.injected)
            injected_tool.update(faults.injected)
            records.append(record)
            if on_run is not None:
                on_run(record)
    finally:
        if owned:
            used.close()
            assert folder is not None
            folder.cleanup()
    ends = Counter(
        str(r.stop_reason) if r.stop_reason else f"error:{(r.error or '').split(':')[0]}" for r in records
    )
    seconds = [r.seconds for r in records] or [0.0]
    return FaultReport(
        runs=runs,
        rate=rate,
        seed=seed,
        completed=sum(r.stop_reason == StopReason.COMPLETED for r in records),
        stop_reasons=dict(sorted(ends.items())),
        honest=sum(r.honest for r in records),
        tasks_done=sum(r.tasks_done for r in records),
        lost_results=sum(len(r.lost) for r in records),
        injected_model={str(k): v for k, v in sorted(injected_model.items())},
        injected_tool={str(k): v for k, v in sorted(injected_tool.items())},
        model_calls=sum(r.model_calls for r in records),
        mean_seconds=statistics.fmean(seconds),
        max_seconds=max(seconds),
        records=records,
    )


class FaultBench(BaseModel):
    """The fault bench's record: the suite's figures, the kill check and the machine."""

    suite: FaultReport
    kill: KillCheck
    machine: dict[str, Any] = Field(default_factory=dict)


def run_fault_bench(
    *, runs: int = 30, rate: float = 0.3, seed: int = 0, on_run: Callable[[FaultRun], None] | None = None
) -> FaultBench:
    """The suite, then one run killed mid-way and resumed, each in a scratch folder."""
    from atomwork.evals.report import machine_info

    suite = run_fault_suite(runs=runs, rate=rate, seed=seed, on_run=on_run)
    with tempfile.TemporaryDirectory(prefix="atomwork-kill-") as scratch:
        kill = kill_and_resume(Path(scratch))
    return FaultBench(suite=suite, kill=kill, machine=machine_info())


def format_bench(bench: FaultBench) -> str:
    """The figures as lines of text."""
    suite, kill = bench.suite, bench.kill

    def counts(values: dict[str, int]) -> str:
        return ", ".join(f"{name} {n}" for name, n in values.items()) or "none"

    finished = f"{kill.record_status} (process gone: {kill.record_interrupted})"
    rerun = sum(max(0, kill.runs_per_tool.get(name, 0) - 1) for name in _FINISHED_FIRST)
    return "\n".join(
        [
            f"fault injection: {suite.runs} runs, {suite.rate:.0%} of model and tool calls fail "
            f"(seed {suite.seed}), scripted model",
            f"  success rate (completed): {suite.completed}/{suite.runs} = {suite.success_rate:.0%}",
            f"  honest ends: {suite.honest}/{suite.runs} = {suite.honest_rate:.0%}; "
            f"finished results lost: {suite.lost_results} of {suite.tasks_done}",
            f"  stop reasons: {counts(suite.stop_reasons)}",
            f"  model faults: {counts(suite.injected_model)} (in {suite.model_calls} logged calls)",
            f"  tool faults: {counts(suite.injected_tool)}",
            f"  seconds per run: mean {suite.mean_seconds:.2f}, max {suite.max_seconds:.2f}",
            f"killed with SIGKILL after {kill.killed_after_s:.1f}s: record said {finished}, "
            f"stop reason {kill.record_stop_reason}, tasks kept {', '.join(kill.kept_before_resume)}",
            f"  resumed: {kill.resumed_stop_reason}; finished tasks run again: {rerun}; "
            f"honest: {kill.honest}" + (f" ({'; '.join(kill.problems)})" if kill.problems else ""),
        ]
    )


def save_bench(bench: FaultBench, folder: Path) -> Path:
    """Write ``<timestamp>-faults.json`` under ``folder``; return its path."""
    folder.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = folder / f"{stamp}-faults.json"
    path.write_text(json.dumps(bench.model_dump(mode="json"), indent=2), encoding="utf-8")
    return path
