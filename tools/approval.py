"""Approval of tool calls that change things: a tool marked ``requires_approval`` runs only when
the run's approver (a callback the front end supplies: a prompt, a Slack button) says yes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["ApprovalRequest", "Approver"]


class ApprovalRequest(BaseModel):
    """One tool call waiting for a person's yes or no."""

    model_config = ConfigDict(frozen=True)

    tool: str
    department: str
    description: str
    args: dict[str, Any] = Field(default_factory=dict)
    """The call's arguments as recorded (tables shown by size)."""
    task_id: str = ""
    goal: str = ""
    user: str | None = None


Approver = Callable[[ApprovalRequest], bool]
"""Returns True to let the call run; False refuses it (the task fails and can be replanned)."""
