"""Run records rendered as prompt text: a task's output, and the feedback a replanner reads.

Shared by the planner, the evaluator and the specialists, so that no agent imports another
to describe a result.
"""

from __future__ import annotations

import json

from atomwork.feedback import ReplanFeedback
from atomwork.outcome import TaskOutcome

__all__ = ["describe_feedback", "describe_result"]


def describe_result(task_id: str, outcome: TaskOutcome, max_rows: int = 12) -> str:
    """A task's output as text for prompts: summary plus the head of its table."""
    if outcome.result is None:
        return f"[{task_id}] {outcome.task.tool}: no output ({outcome.error or outcome.status})"
    text = f"[{task_id}] {outcome.task.tool}: {outcome.result.summary}"
    if outcome.result.table is not None and outcome.result.table.rows:
        text += "\n" + outcome.result.table.to_markdown(max_rows=max_rows)
    return text


def describe_feedback(feedback: ReplanFeedback) -> str:
    """One line per failed task (its call and why it failed), then the final answer's problems;
    ``none`` when there is nothing."""
    lines = [
        f"- {tid}: {o.task.tool}({json.dumps(o.task.args, default=str)}) -> "
        + (o.error or (o.evaluation.reason if o.evaluation else "") or str(o.status))
        for tid, o in feedback.failed.items()
    ]
    if feedback.answer_problems:
        lines.append("- final answer rejected: " + "; ".join(feedback.answer_problems))
    return "\n".join(lines) or "none"
