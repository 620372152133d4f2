"""Approval of tool calls that change things: what a person is asked, what they decided, and the
record of both that is kept with the run.

A tool marked ``requires_approval`` never runs on its own: its task waits (the run pauses through a
LangGraph interrupt once the rest of its plan is done) until someone approves or rejects it, from
the SDK, the REPL or Slack. A run's ``approve`` callback may decide at once instead.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = ["Approval", "ApprovalDecision", "ApprovalDesk", "ApprovalRequest", "Approver"]


def _now() -> datetime:
    return datetime.now(UTC)


class ApprovalRequest(BaseModel):
    """One tool call waiting for a person's yes or no."""

    model_config = ConfigDict(frozen=True)

    tool: str
    department: str
    description: str
    args: dict[str, Any] = Field(default_factory=dict)
    """The call's arguments as recorded (tables shown by size). An approval holds for these
    arguments only: a call with other arguments is asked about again."""
    task_id: str = ""
    goal: str = ""
    user: str | None = None
    """Who asked for the run (not who approves)."""
    run_id: str = ""


class ApprovalDecision(BaseModel):
    """A person's yes or no on one call, who gave it and when."""

    model_config = ConfigDict(frozen=True)

    approved: bool
    by: str = Field(min_length=1, max_length=200)
    """Who decided (a user name, a Slack user id)."""
    note: str = Field(default="", max_length=2000)
    at: datetime = Field(default_factory=_now)

    @field_validator("by")
    @classmethod
    def _named(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("say who decides: 'by' is blank")
        return value.strip()

    @property
    def verdict(self) -> str:
        return "approved" if self.approved else "rejected"

    def describe(self) -> str:
        """``rejected by alice at 2025-01-02 10:00 UTC: not this week`` (for answers and views)."""
        note = f": {self.note}" if self.note else ""
        return f"{self.verdict} by {self.by} at {self.at:%Y-%m-%d %H:%M} UTC{note}"


class Approval(BaseModel):
    """A request and, once given, its decision: what a run keeps for each call needing approval."""

    model_config = ConfigDict(frozen=True)

    request: ApprovalRequest
    requested_at: datetime = Field(default_factory=_now)
    decision: ApprovalDecision | None = None

    @property
    def pending(self) -> bool:
        return self.decision is None

    @property
    def task_id(self) -> str:
        return self.request.task_id


Approver = Callable[[ApprovalRequest], bool | None]
"""A run's own approval policy: True approves the call at once, False rejects it, None leaves it to
a person (the task waits for ``aw.approve``/``aw.reject``)."""


class ApprovalDesk(Protocol):
    """Where a specialist learns whether a call may run (the engine keeps the requests durably)."""

    def decide(self, request: ApprovalRequest) -> Approval:
        """The request as recorded, with its decision, or with none while it waits for a person."""
        ...
