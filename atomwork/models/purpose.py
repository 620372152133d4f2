"""What a model call is for: the step of a run that made it.

Backends log it with each call, :class:`~atomwork.models.base.Usage` sums tokens per purpose,
and scripted test models pick their reply by it.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["Purpose"]


class Purpose(StrEnum):
    """The step a model call serves. Values are the names shown in logs and usage reports."""

    CHAT = "chat"
    """A plain reply (the default of :meth:`ChatModel.complete`)."""
    STRUCTURED = "structured"
    """A JSON object with no more specific step (the default of :meth:`ChatModel.structured`)."""
    TOOL_CALL = "tool_call"
    """Tool arguments with no more specific step (the default of :meth:`ChatModel.tool_arguments`)."""
    PLAN = "plan"
    """The planner's first plan for a goal."""
    REPLAN = "replan"
    """Replacement tasks for work that failed."""
    ARGS = "args"
    """A specialist completing the arguments a plan left out."""
    SCORE = "score"
    """The evaluator's model score of one task's output."""
    SCORE_FINAL = "score_final"
    """The evaluator's model score of the final answer."""
    ANSWER = "answer"
    """The final answer written from the passing results."""
    SQL = "sql"
    """The SQL analyst writing a query."""
    REPORT = "report"
    """The reporting tool drafting a report."""
    TEXT2SQL = "text2sql"
    """The text-to-SQL baseline of the benchmark."""
    REACT = "react"
    """The ReAct baseline of the benchmark."""

    @classmethod
    def of(cls, value: str) -> Purpose:
        """``value`` as a Purpose; a one-line ValueError naming the known purposes otherwise."""
        try:
            return cls(value)
        except ValueError:
            known = ", ".join(p.value for p in cls)
            raise ValueError(f"unknown model-call purpose {value!r}; known purposes: {known}") from None
