"""What a follow-up goal is planned with: the conversation's earlier goals, plans, answers and the
results its new tasks may reference.

Task ids are unique across a conversation (a follow-up's tasks continue after the last id used),
so an earlier table is referenced as ``$t1`` like any finished task of the same run.
"""

from __future__ import annotations

import json

from pydantic import BaseModel, ConfigDict, Field

from atomwork.outcome import StopReason, TaskOutcome
from atomwork.plan import AtomicTask, Plan
from atomwork.prompts.rendering import describe_result
from atomwork.table import Table

__all__ = ["ConversationContext", "EarlierTurn"]

ANSWER_CHARS = 400
"""How much of an earlier answer the planner is shown."""


class EarlierTurn(BaseModel):
    """One earlier goal of the conversation and what became of it."""

    model_config = ConfigDict(frozen=True)

    goal: str
    tasks: list[AtomicTask] = Field(default_factory=list)
    """Its plan, replanned tasks included."""
    answer: str = ""
    stop_reason: StopReason | None = None
    error: str | None = None
    """Why the turn ended without a result, when it did."""


class ConversationContext(BaseModel):
    """The context of a follow-up. Empty (no turns) for a conversation's first goal."""

    model_config = ConfigDict(frozen=True)

    turns: list[EarlierTurn] = Field(default_factory=list)
    outcomes: dict[str, TaskOutcome] = Field(default_factory=dict)
    """Earlier passing results a new task may reference as ``$ID`` (ids unique in the conversation)."""

    @property
    def is_follow_up(self) -> bool:
        return bool(self.turns)

    def used_ids(self) -> set[str]:
        """Every task id the conversation used so far (a new task may not reuse one)."""
        return {t.id for turn in self.turns for t in turn.tasks} | set(self.outcomes)

    def next_index(self) -> int:
        """The number of the follow-up's first task: after the highest ``tN`` used."""
        numbers = [int(i[1:]) for i in self.used_ids() if i.startswith("t") and i[1:].isdigit()]
        return max(numbers, default=0) + 1

    def tables(self) -> dict[str, Table | None]:
        """Result tables of the referenceable outcomes (None for a result without one)."""
        return {tid: o.result.table if o.result is not None else None for tid, o in self.outcomes.items()}

    def referenced_by(self, plan: Plan) -> dict[str, TaskOutcome]:
        """The earlier outcomes ``plan`` uses (by reference or dependency), in conversation order."""
        wanted = {ref for t in plan.tasks for ref in t.references() | set(t.depends_on)}
        return {tid: o for tid, o in self.outcomes.items() if tid in wanted}

    def describe(self, max_rows: int = 5) -> str:
        """The conversation as planner prompt text (empty for a first goal)."""
        if not self.turns:
            return ""
        lines = [
            "",
            "This goal follows up on the conversation below; 'that', 'it' and 'those' mean its latest "
            "results.",
        ]
        for number, turn in enumerate(self.turns, start=1):
            lines.append(f"Earlier goal {number}: {turn.goal}")
            if turn.tasks:
                calls = "; ".join(f"{t.id} {t.tool}({json.dumps(t.args, default=str)})" for t in turn.tasks)
                lines.append(f"  Its plan: {calls}")
            if turn.error:
                lines.append(f"  It failed: {turn.error}")
            elif turn.answer:
                answer = _gist(turn.answer)
                lines.append(
                    f"  Its answer: {answer[:ANSWER_CHARS]}{'…' if len(answer) > ANSWER_CHARS else ''}"
                )
        if self.outcomes:
            lines.append(
                'Earlier results you can use as inputs with "$ID" (do not compute them again; a new task '
                "that uses one need not list it in depends_on):"
            )
            lines.extend(describe_result(tid, o, max_rows=max_rows) for tid, o in self.outcomes.items())
        return "\n".join(lines)


def _gist(answer: str) -> str:
    """An answer's prose on one line: its tables are shown with the results, not repeated here."""
    prose = [
        line.strip() for line in answer.splitlines() if line.strip() and not line.lstrip().startswith("|")
    ]
    return " ".join(prose)
