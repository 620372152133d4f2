"""What a tool call returns: a summary, an optional table, and typed notes on how it was made.

A core type, so results, events and answers can carry it without importing the tools layer.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from atomwork.table import Table

__all__ = ["Attempt", "Draft", "Provenance", "ToolResult"]


class Attempt(BaseModel):
    """One query a model wrote for a result, kept so the verifier itself can be measured."""

    sql: str
    table: Table | None = None
    error: str | None = None
    problems: list[str] = Field(default_factory=list)
    repairs: list[str] = Field(default_factory=list)
    """Rewrites that made the model's query run."""
    repeat_chance: float | None = None
    """The chance a verifying sample would write the same query, from the reply's token probabilities."""
    question: str | None = None
    """The question this query answered, where it is one part of the task's (a compared year)."""


class Provenance(BaseModel):
    """How a result was obtained, for tools whose output a model wrote (e.g. SQL)."""

    sql: str | None = None
    attempts: list[Attempt] = Field(default_factory=list)
    verified: bool = False
    """True when independent checks agree that the result answers the question."""
    notes: list[str] = Field(default_factory=list)
    """How it was verified, or why it could not be."""


class Draft(BaseModel):
    """Text a model wrote over given facts (a report): the facts, and why a draft was replaced."""

    sources: str
    """The facts the text was written from; every figure in the text must come from them."""
    title: str = ""
    """The heading it was written under (a report's title)."""
    replaced: list[str] = Field(default_factory=list)
    """Why the model's own draft could not be shown and was rebuilt from the facts; empty if kept."""


class ToolResult(BaseModel):
    """What a tool returns: a one-paragraph summary and an optional table."""

    summary: str
    table: Table | None = None
    empty_is_answer: bool = False
    """An empty table is itself the finding (e.g. no anomalies), not a failure."""
    truncated: bool = False
    """The table holds only the first rows of a longer result."""
    draft: Draft | None = None
    """Set when the summary is text a model wrote over given facts (checked against them)."""
    provenance: Provenance | None = None
    """Set by tools whose output depends on a model; None for deterministic tool code."""
