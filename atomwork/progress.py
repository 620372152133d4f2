"""The live state of one run's plan, built from its typed events, and its stop reason in words.

The CLI, the REPL and the Slack bot all render a :class:`ProgressSnapshot`; none of them reads
event fields of its own, so they always agree on what a task's state is.
"""

from __future__ import annotations

import threading
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from atomwork.events import (
    AnswerComposed,
    AnswerEvaluated,
    ApprovalRequested,
    BudgetExhausted,
    Event,
    PlanCreated,
    ReplanFailed,
    Replanned,
    RunFinished,
    RunResumed,
    RunStarted,
    TaskEvaluated,
    TaskFinished,
    TaskPlanned,
    TaskSkipped,
    TaskStarted,
)
from atomwork.outcome import StopReason, TaskOutcome, TaskStatus
from atomwork.plan import AtomicTask

__all__ = ["Phase", "ProgressSnapshot", "RunProgress", "StopVerdict", "TaskLine", "TaskState", "stop_verdict"]


class TaskState(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    RAN = "ran"
    """Finished, verdict not in yet."""
    PASSED = "passed"
    FAILED = "failed"
    SKIPPED = "skipped"
    AWAITING_APPROVAL = "awaiting_approval"
    """Its tool call waits for a person's approval."""
    REJECTED = "rejected"
    """A person rejected its tool call."""


class Phase(StrEnum):
    PLANNING = "planning"
    RUNNING = "running"
    ANSWERING = "answering"
    FINISHED = "finished"


class TaskLine(BaseModel):
    """One task as a view shows it."""

    model_config = ConfigDict(frozen=True)

    task: AtomicTask
    state: TaskState = TaskState.PENDING
    round: int = 0
    note: str = ""
    """The error, skip reason or evaluator's reason, when there is one."""


class StopVerdict(BaseModel):
    """How a run ended, in plain words, with the tone to show it in."""

    model_config = ConfigDict(frozen=True)

    tone: Literal["good", "caution", "bad"]
    words: str


_VERDICTS: dict[StopReason, StopVerdict] = {
    StopReason.COMPLETED: StopVerdict(tone="good", words="completed: every check held"),
    StopReason.UNVERIFIED: StopVerdict(
        tone="caution",
        words="NOT VERIFIED: an answer was found, but nothing could confirm it; check the figures first",
    ),
    StopReason.REPLAN_BUDGET_EXHAUSTED: StopVerdict(
        tone="bad", words="not completed: some work still failed after replanning"
    ),
    StopReason.NO_PROGRESS: StopVerdict(
        tone="bad", words="not completed: the planner found no new way to make progress"
    ),
    StopReason.CANCELLED: StopVerdict(
        tone="caution", words="stopped on request: the tasks that finished are kept, nothing else was started"
    ),
    StopReason.AWAITING_APPROVAL: StopVerdict(
        tone="caution",
        words="paused: a step waits for a person's approval; everything else that could run has finished",
    ),
    StopReason.REJECTED: StopVerdict(
        tone="caution",
        words="not completed: a person rejected a step, so the work that needed it was not done",
    ),
    StopReason.BUDGET_EXHAUSTED: StopVerdict(
        tone="bad",
        words="not completed: the run's budget ran out; the tasks that finished are kept",
    ),
}


def stop_verdict(reason: StopReason) -> StopVerdict:
    """The stop reason stated plainly (one sentence a person can act on)."""
    return _VERDICTS.get(reason) or StopVerdict(tone="bad", words=str(reason))


class ProgressSnapshot(BaseModel):
    """A consistent copy of a run's progress at one moment."""

    model_config = ConfigDict(frozen=True)

    goal: str = ""
    run_id: str = ""
    phase: Phase = Phase.PLANNING
    round: int = 0
    tasks: list[TaskLine] = Field(default_factory=list)
    log: list[str] = Field(default_factory=list)
    """The latest events as one line each (planning notes, replans, answer checks)."""
    stop_reason: StopReason | None = None
    version: int = 0
    """Counts the events applied: a view that has shown version N need not redraw N again."""

    def counts(self) -> dict[TaskState, int]:
        out = dict.fromkeys(TaskState, 0)
        for line in self.tasks:
            out[line.state] += 1
        return out


class RunProgress:
    """Folds a run's events into a :class:`ProgressSnapshot`. Thread-safe: pass
    :meth:`on_event` as a run's event handler and read :meth:`snapshot` from anywhere."""

    def __init__(self, goal: str = "") -> None:
        self._lock = threading.Lock()
        self._goal = goal
        self._run_id = ""
        self._phase = Phase.PLANNING
        self._round = 0
        self._lines: dict[str, TaskLine] = {}
        self._log: list[str] = []
        self._stop: StopReason | None = None
        self._version = 0

    def on_event(self, event: Event) -> None:
        with self._lock:
            self._apply(event)
            self._version += 1

    def _set(self, task_id: str, **changes: object) -> None:
        line = self._lines.get(task_id)
        if line is not None:
            self._lines[task_id] = line.model_copy(update=changes)

    def _add(self, tasks: list[AtomicTask], round_: int) -> None:
        for task in tasks:
            line = self._lines.get(task.id)
            # A task the streaming planner handed over earlier keeps the state it reached.
            self._lines[task.id] = (
                line.model_copy(update={"task": task}) if line else TaskLine(task=task, round=round_)
            )

    def _apply(self, event: Event) -> None:
        match event:
            case RunStarted():
                self._goal, self._run_id = event.goal, event.run_id
            case RunResumed():
                self._goal, self._run_id = event.goal, event.run_id
                self._add(event.plan.tasks, 0)
                for task_id, outcome in event.outcomes.items():
                    self._add([outcome.task], outcome.round)
                    self._set(task_id, state=_state_of(outcome), note=outcome.error or "")
                self._phase, self._stop = Phase.RUNNING, None
                self._log.append(event.message)
            case TaskPlanned():
                self._add([event.task], 0)
                self._phase = Phase.RUNNING
            case PlanCreated():
                self._add(event.plan.tasks, 0)
                self._phase = Phase.RUNNING
                self._log.extend(f"plan repaired: {r}" for r in event.repairs)
            case TaskStarted():
                self._set(event.task.id, state=TaskState.RUNNING)
            case TaskFinished():
                self._set(event.task_id, state=_state_of(event.outcome), note=event.outcome.error or "")
            case ApprovalRequested():
                self._set(event.task_id, state=TaskState.AWAITING_APPROVAL, note="waits for approval")
            case BudgetExhausted():
                self._log.append(event.message)
            case TaskSkipped():
                self._set(event.task_id, state=TaskState.SKIPPED, note=event.message.partition(": ")[2])
            case TaskEvaluated():
                passed = event.evaluation.passed
                self._set(
                    event.task_id,
                    state=TaskState.PASSED if passed else TaskState.FAILED,
                    note=event.evaluation.reason if passed else _why(event),
                )
            case Replanned():
                self._round = event.round
                self._add(event.plan.tasks, event.round)
                self._phase = Phase.RUNNING
                self._log.append(event.message)
            case ReplanFailed():
                self._log.append(event.message)
            case AnswerComposed():
                self._phase = Phase.ANSWERING
                if event.rejected:
                    self._log.append(event.message)
            case AnswerEvaluated():
                self._log.append(event.message)
            case RunFinished():
                self._phase = Phase.FINISHED
                self._stop = event.stop_reason
            case _:
                self._log.append(str(event))

    def snapshot(self) -> ProgressSnapshot:
        with self._lock:
            return ProgressSnapshot(
                goal=self._goal,
                run_id=self._run_id,
                phase=self._phase,
                round=self._round,
                tasks=list(self._lines.values()),
                log=self._log[-5:],
                stop_reason=self._stop,
                version=self._version,
            )


def _state_of(outcome: TaskOutcome) -> TaskState:
    """A task's state from its outcome (its evaluation, when it has one, decides pass or fail)."""
    match outcome.status:
        case TaskStatus.REJECTED:
            return TaskState.REJECTED
        case TaskStatus.AWAITING_APPROVAL:
            return TaskState.AWAITING_APPROVAL
        case TaskStatus.SKIPPED:
            return TaskState.SKIPPED
        case TaskStatus.DONE if outcome.evaluation is None:
            return TaskState.RAN
        case TaskStatus.DONE:
            return TaskState.PASSED if outcome.ok else TaskState.FAILED
        case TaskStatus.RUNNING:
            return TaskState.RUNNING
        case TaskStatus.PENDING:
            return TaskState.PENDING
    return TaskState.FAILED


def _why(event: TaskEvaluated) -> str:
    checks = "; ".join(event.evaluation.checks)
    return checks or event.evaluation.reason or f"score {event.evaluation.score:.1f}"
