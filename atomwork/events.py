"""The typed events a run emits while it goes on, for live views, logs and chat adapters.

``Event`` is a union discriminated by ``type``: a consumer ``match``-es on the class (or reads
``event.type``) and gets typed fields, never a message to parse. ``str(event)`` is a short
human line for logs. Every event is also kept, in order, in :attr:`RunResult.events`.

Order within one run::

    RunStarted | RunResumed, PlanCreated, TaskRefused*,
    # with RunSettings.stream_plan, TaskPlanned (and the task's events) may come before PlanCreated
    (TaskStarted, (TaskFinished, TaskEvaluated?) | ApprovalRequested | TaskSkipped)*,  # interleaved
    BudgetExhausted?,
    (Replanned (TaskStarted ...)* | ReplanFailed)*, AnswerComposed, AnswerEvaluated, ...,
    RunFinished
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from atomwork.approval import Approval
from atomwork.feedback import ReplanFeedback
from atomwork.outcome import Evaluation, StopReason, TaskOutcome, now
from atomwork.plan import AtomicTask, Plan

__all__ = [
    "AnswerComposed",
    "AnswerEvaluated",
    "ApprovalRequested",
    "BudgetExhausted",
    "Event",
    "EventHandler",
    "PlanCreated",
    "ReplanFailed",
    "Replanned",
    "RunFinished",
    "RunResumed",
    "RunStarted",
    "TaskEvaluated",
    "TaskFinished",
    "TaskPlanned",
    "TaskRefused",
    "TaskSkipped",
    "TaskStarted",
]


class _Event(BaseModel):
    """Fields every event has. Events are snapshots: frozen, and never changed after emission."""

    model_config = ConfigDict(frozen=True)

    at: datetime = Field(default_factory=now)

    @property
    def message(self) -> str:
        """One human-readable line for logs."""
        raise NotImplementedError

    def __str__(self) -> str:
        return self.message


class _TaskEvent(_Event):
    """An event about one planned task."""

    task: AtomicTask

    @property
    def task_id(self) -> str:
        return self.task.id


class RunStarted(_Event):
    """The run began work on ``goal``."""

    type: Literal["run_started"] = "run_started"
    run_id: str
    goal: str

    @property
    def message(self) -> str:
        return f"run {self.run_id} started: {self.goal}"


class RunResumed(_Event):
    """A run continues (after a restart, or once an approval was given): its plan so far and the
    tasks that had already finished, which are kept and never run again."""

    type: Literal["run_resumed"] = "run_resumed"
    run_id: str
    goal: str
    plan: Plan
    outcomes: dict[str, TaskOutcome] = Field(default_factory=dict)

    @property
    def message(self) -> str:
        done = sum(1 for o in self.outcomes.values() if o.finished)
        return f"run {self.run_id} resumed: {done} of {len(self.plan.tasks)} tasks already finished"


class PlanCreated(_Event):
    """The first plan of the run, validated and repaired."""

    type: Literal["plan_created"] = "plan_created"
    plan: Plan
    repairs: list[str] = Field(default_factory=list)
    """What validation changed or dropped in the planner's output."""
    direct: bool = False
    """True when a single question became one SQL task without asking the planner."""

    @property
    def message(self) -> str:
        return f"{len(self.plan.tasks)} tasks: {', '.join(self.plan.ids())}"


class TaskPlanned(_TaskEvent):
    """The streaming planner handed over a task before the rest of the plan was written
    (``RunSettings.stream_plan``); it starts once its dependencies passed. :class:`PlanCreated`
    follows with the whole plan."""

    type: Literal["task_planned"] = "task_planned"

    @property
    def message(self) -> str:
        return f"{self.task.id} planned ({self.task.department}: {self.task.tool})"


class TaskStarted(_TaskEvent):
    """A task's dependencies passed and its specialist started on it."""

    type: Literal["task_started"] = "task_started"
    round: int = 0

    @property
    def message(self) -> str:
        return f"{self.task.id} started ({self.task.department}: {self.task.tool})"


class TaskFinished(_Event):
    """A task ran: ``outcome.status`` is ``done`` or ``failed`` (with ``outcome.error``).

    Sent before evaluation, so ``outcome.evaluation`` is None; the verdict follows as
    :class:`TaskEvaluated`."""

    type: Literal["task_finished"] = "task_finished"
    outcome: TaskOutcome

    @property
    def task_id(self) -> str:
        return self.outcome.task.id

    @property
    def message(self) -> str:
        if self.outcome.error:
            return f"{self.task_id} {self.outcome.status}: {self.outcome.error}"
        return f"{self.task_id} {self.outcome.status}"


class TaskSkipped(_TaskEvent):
    """A task did not run because a task it depends on did not pass."""

    type: Literal["task_skipped"] = "task_skipped"
    failed_dependencies: list[str]
    round: int = 0

    @property
    def message(self) -> str:
        return f"{self.task.id} skipped: dependency {', '.join(self.failed_dependencies)} did not pass"


class TaskRefused(_TaskEvent):
    """Plan validation refused a task: the access policy does not let the user call its tool. The
    task is left out of the plan (and written to the audit log)."""

    type: Literal["task_refused"] = "task_refused"
    reason: str
    round: int = 0

    @property
    def message(self) -> str:
        return f"{self.task.id} refused ({self.task.tool}): {self.reason}"


class ApprovalRequested(_TaskEvent):
    """A task's tool needs a person's approval: the task waits (only its dependents wait with it),
    and the run pauses ``awaiting_approval`` once nothing else can run."""

    type: Literal["approval_requested"] = "approval_requested"
    approval: Approval
    round: int = 0

    @property
    def message(self) -> str:
        return f"{self.task.id} awaits approval of {self.task.tool}"


class TaskEvaluated(_Event):
    """The evaluator's verdict on a task that ran."""

    type: Literal["task_evaluated"] = "task_evaluated"
    task_id: str
    evaluation: Evaluation

    @property
    def message(self) -> str:
        verdict = "passed" if self.evaluation.passed else "failed"
        return f"{self.task_id} {verdict} (score {self.evaluation.score:.1f}): {self.evaluation.reason}"


class Replanned(_Event):
    """The planner added tasks for what failed; finished tasks are kept and referenced."""

    type: Literal["replanned"] = "replanned"
    round: int
    """The new planning round (1 for the first replan)."""
    feedback: ReplanFeedback
    plan: Plan
    """The new tasks only."""
    kept: list[str] = Field(default_factory=list)
    """Ids of the finished tasks the new tasks may reference."""
    repairs: list[str] = Field(default_factory=list)

    @property
    def message(self) -> str:
        return f"round {self.round}: kept {len(self.kept)} finished tasks, added {', '.join(self.plan.ids())}"


class ReplanFailed(_Event):
    """The planner could not propose new runnable work; the run ends with ``no_progress``."""

    type: Literal["replan_failed"] = "replan_failed"
    round: int
    feedback: ReplanFeedback
    error: str

    @property
    def message(self) -> str:
        return f"replanning failed: {self.error}"


class BudgetExhausted(_Event):
    """The run's budget ran out (``RunSettings.budget``): no new task starts, nothing is
    replanned, and the answer is built from the finished tasks without another model call."""

    type: Literal["budget_exhausted"] = "budget_exhausted"
    reason: str
    """Which limit was reached, e.g. ``token budget of 2,000 reached (2,113 tokens)``."""

    @property
    def message(self) -> str:
        return f"budget exhausted: {self.reason}"


class AnswerComposed(_Event):
    """The answer was built from the passing results (the latest report, or a grounded summary)."""

    type: Literal["answer_composed"] = "answer_composed"
    answer: str
    rejected: list[str] = Field(default_factory=list)
    """Why the model-written answer was replaced by one built from the figures (empty: it was kept)."""

    @property
    def message(self) -> str:
        if self.rejected:
            return "answer composed; model answer replaced: " + "; ".join(self.rejected)
        return "answer composed"


class AnswerEvaluated(_Event):
    """The evaluator's verdict on the final answer."""

    type: Literal["answer_evaluated"] = "answer_evaluated"
    evaluation: Evaluation

    @property
    def message(self) -> str:
        verdict = "passed" if self.evaluation.passed else "failed"
        return f"final answer {verdict} (score {self.evaluation.score:.1f}): {self.evaluation.reason}"


class RunFinished(_Event):
    """The run ended; the :class:`RunResult` follows."""

    type: Literal["run_finished"] = "run_finished"
    run_id: str
    stop_reason: StopReason
    replans: int = 0

    @property
    def message(self) -> str:
        return f"finished: {self.stop_reason} after {self.replans} replans"


Event = Annotated[
    RunStarted
    | RunResumed
    | PlanCreated
    | TaskPlanned
    | TaskStarted
    | TaskFinished
    | TaskSkipped
    | TaskRefused
    | TaskEvaluated
    | ApprovalRequested
    | BudgetExhausted
    | Replanned
    | ReplanFailed
    | AnswerComposed
    | AnswerEvaluated
    | RunFinished,
    Field(discriminator="type"),
]
"""Any event of a run; ``event.type`` tells which."""

EventHandler = Callable[[Event], None]
"""What ``on_event`` takes. It is called from worker threads: keep it quick and thread-safe."""
