"""Typed records of a run: task outcomes, evaluations, events and the final result."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field

from atomwork.models.base import Usage
from atomwork.plan import AtomicTask, Plan
from atomwork.tools.base import Table, ToolResult


def now() -> datetime:
    return datetime.now(UTC)


class TaskStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    SKIPPED = "skipped"


class Evaluation(BaseModel):
    """The evaluator's verdict: programmatic checks plus a model score (0..1)."""

    passed: bool
    score: float = Field(ge=0.0, le=1.0)
    checks: list[str] = Field(default_factory=list, description="Failed programmatic checks")
    reason: str = ""


class TaskOutcome(BaseModel):
    """What happened to one task."""

    task: AtomicTask
    status: TaskStatus = TaskStatus.PENDING
    result: ToolResult | None = None
    error: str | None = None
    error_type: str | None = None
    """Class name of the error that failed the task (``ModelError``, ``ToolError``, ...)."""
    resolved_args: dict[str, Any] = Field(default_factory=dict)
    used_model: bool = False
    """True when the specialist asked the model for arguments (or the tool itself used it)."""
    round: int = 0
    """Planning round that produced the task (0 = first plan)."""
    started_at: datetime | None = None
    finished_at: datetime | None = None
    evaluation: Evaluation | None = None

    @property
    def ok(self) -> bool:
        return self.status == TaskStatus.DONE and (self.evaluation is None or self.evaluation.passed)


class StopReason(StrEnum):
    COMPLETED = "completed"
    """Every task and the final answer passed evaluation, and every model-written result was verified."""
    REPLAN_BUDGET_EXHAUSTED = "replan_budget_exhausted"
    """Work still failed evaluation after the allowed number of replans."""
    NO_PROGRESS = "no_progress"
    """The replanner could not propose any new runnable task."""
    UNVERIFIED = "unverified"
    """An answer was produced, but nothing could verify it: treat its figures with caution."""


class EventKind(StrEnum):
    PLANNED = "planned"
    TASK_STARTED = "task_started"
    TASK_FINISHED = "task_finished"
    TASK_EVALUATED = "task_evaluated"
    REPLANNED = "replanned"
    FINISHED = "finished"


class Event(BaseModel):
    kind: EventKind
    task_id: str | None = None
    message: str = ""
    tasks: list[AtomicTask] = Field(default_factory=list)
    """With PLANNED and REPLANNED: the tasks just planned."""
    at: datetime = Field(default_factory=now)


class RunResult(BaseModel):
    """Everything a run produced. Returned by :func:`atomwork.run`."""

    run_id: str
    goal: str
    answer: str
    plan: Plan
    """All tasks that were planned, across replans, in execution order."""
    outcomes: dict[str, TaskOutcome]
    final_evaluation: Evaluation | None = None
    stop_reason: StopReason
    replans: int = 0
    plan_repairs: list[str] = Field(default_factory=list)
    model: str
    started_at: datetime
    finished_at: datetime
    events: list[Event] = Field(default_factory=list)
    usage: Usage = Field(default_factory=Usage)
    """Model calls, tokens and seconds this run spent, in total and per purpose."""

    @property
    def ok(self) -> bool:
        return self.stop_reason == StopReason.COMPLETED

    @property
    def tables(self) -> dict[str, Table]:
        """Result tables by task id."""
        return {
            tid: o.result.table for tid, o in self.outcomes.items() if o.result is not None and o.result.table
        }

    def outcome(self, task_id: str) -> TaskOutcome:
        return self.outcomes[task_id]
