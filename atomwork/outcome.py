"""What happened to one task and how a run ended: statuses, evaluations, outcomes, stop reasons.

These records travel in events while the run goes on and end up in the :class:`RunResult`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field

from atomwork.approval import Approval
from atomwork.models.base import Usage
from atomwork.plan import AtomicTask
from atomwork.tool_result import ToolResult

__all__ = ["Evaluation", "StopReason", "TaskOutcome", "TaskStatus", "now"]


def now() -> datetime:
    return datetime.now(UTC)


class TaskStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    SKIPPED = "skipped"
    AWAITING_APPROVAL = "awaiting_approval"
    """Its tool needs a person's approval, which has not been given yet (the task has not run)."""
    REJECTED = "rejected"
    """A person rejected its tool call: it did not run, and nothing is planned around it."""


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
    approval: Approval | None = None
    """For a tool that needs approval: the request and, once given, who decided what and when."""
    usage: Usage = Field(default_factory=Usage)
    """Model calls and tokens this task spent (arguments, the tool's own calls, its score)."""

    @property
    def finished(self) -> bool:
        """The task has its final outcome (it is kept and never run again in this run)."""
        return self.status not in (TaskStatus.PENDING, TaskStatus.RUNNING, TaskStatus.AWAITING_APPROVAL)

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
    CANCELLED = "cancelled"
    """Stopped on request: no task was started after that, and the finished ones are kept."""
    AWAITING_APPROVAL = "awaiting_approval"
    """Paused: a tool call waits for a person's approval (``result.pending``); everything else that
    could run has finished. ``aw.approve``/``aw.reject`` continue the run."""
    REJECTED = "rejected"
    """A person rejected a tool call: the answer holds what could be done without it, and nothing
    was planned around the rejection."""
    BUDGET_EXHAUSTED = "budget_exhausted"
    """The run's budget (tokens, model calls or seconds, ``RunSettings.budget``) ran out: no task
    was started after that, and the finished ones are kept."""
