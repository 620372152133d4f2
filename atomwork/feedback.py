"""What the replanner is told: the tasks that failed and why the final answer was rejected.

The engine builds one :class:`ReplanFeedback` per replanning round; the planner renders it into
its prompt (see :func:`atomwork.prompts.rendering.describe_feedback`).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from atomwork.outcome import TaskOutcome

__all__ = ["ReplanFeedback"]


class ReplanFeedback(BaseModel):
    """Why a run needs new tasks. Empty feedback means there is nothing to replan."""

    model_config = ConfigDict(frozen=True)

    failed: dict[str, TaskOutcome] = Field(default_factory=dict)
    """Tasks of the latest round that did not pass (failed, skipped or scored too low), by id."""
    answer_problems: list[str] = Field(default_factory=list)
    """Why the final answer built from the passing tasks was rejected (empty: it was not)."""

    @property
    def empty(self) -> bool:
        return not self.failed and not self.answer_problems
