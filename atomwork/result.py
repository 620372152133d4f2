"""The typed record of a finished run: :class:`RunResult`.

Its parts (task outcomes, evaluations, stop reasons) are defined in :mod:`atomwork.outcome`
and re-exported here, since a result is where users meet them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field, field_validator

from atomwork.approval import Approval
from atomwork.events import Event
from atomwork.models.base import Usage
from atomwork.outcome import Evaluation, StopReason, TaskOutcome, TaskStatus, now
from atomwork.plan import Plan
from atomwork.settings import RunSettings
from atomwork.table import Table

__all__ = ["Evaluation", "RunResult", "StopReason", "TaskOutcome", "TaskStatus", "now"]


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
    stop_detail: str = ""
    """What ended the run, in words, where the stop reason alone does not say (which budget ran out)."""
    replans: int = 0
    plan_repairs: list[str] = Field(default_factory=list)
    reused: list[str] = Field(default_factory=list)
    """Ids of results from earlier turns of the conversation that this run used (a follow-up);
    they are in ``outcomes`` but were not run again."""
    model: str
    settings: RunSettings = Field(default_factory=RunSettings)
    """The settings the run used."""
    started_at: datetime
    finished_at: datetime
    events: list[Event] = Field(default_factory=list)
    """Every event the run emitted, in order (see :mod:`atomwork.events`)."""
    usage: Usage = Field(default_factory=Usage)
    """Model calls, tokens and seconds this run spent (across resumes), in total and per purpose;
    each task's own share is ``outcomes[task_id].usage`` (see :attr:`usage_by_task`)."""
    approvals: list[Approval] = Field(default_factory=list)
    """Every call that needed approval: the request and, once given, who decided what and when."""
    pending: list[Approval] = Field(default_factory=list)
    """The calls waiting for a decision (``stop_reason == "awaiting_approval"``): pass their
    ``task_id`` to ``aw.approve(run_id, task_id, by=...)`` or ``aw.reject(...)``."""

    @field_validator("events", mode="before")
    @classmethod
    def _without_untyped_events(cls, value: Any) -> Any:
        # Run records saved before events were typed hold {"kind", "message"} dicts; the rest of
        # such a record still reads, its untyped events are left out.
        if isinstance(value, list):
            return [e for e in value if not (isinstance(e, dict) and "type" not in e)]
        return value

    @property
    def ok(self) -> bool:
        return self.stop_reason == StopReason.COMPLETED

    @property
    def usage_by_task(self) -> dict[str, Usage]:
        """Each task's model calls and tokens (arguments, the tool's own calls, its score)."""
        return {tid: o.usage for tid, o in self.outcomes.items()}

    @property
    def tables(self) -> dict[str, Table]:
        """Result tables by task id."""
        return {
            tid: o.result.table for tid, o in self.outcomes.items() if o.result is not None and o.result.table
        }

    def outcome(self, task_id: str) -> TaskOutcome:
        return self.outcomes[task_id]
