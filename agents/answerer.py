"""The grounded final answer: figures stated exactly, each with the task it came from.

A single checked table is rendered deterministically (no model call). Otherwise the model writes
a short answer under a repetition penalty and a token cap; if that text repeats itself, is cut
off, or cites a figure no passing task produced, it is replaced by an answer built from the
tables. Either way the answer ends with the tasks its figures came from.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from langchain_core.messages import HumanMessage, SystemMessage
from pydantic import BaseModel, Field

from atomwork.errors import AtomworkError
from atomwork.figures import degenerate, figures, format_number, matches, numbers_in, unmatched_figures
from atomwork.models.base import ChatModel
from atomwork.models.purpose import Purpose
from atomwork.prompts import render
from atomwork.prompts.rendering import DATA_RULE, fence
from atomwork.result import TaskOutcome
from atomwork.tools.base import Table

MAX_ANSWER_ROWS = 25


def _label(column: str) -> str:
    return column.replace("_", " ").strip()


_YEAR_COLUMN = re.compile(r"(?:^|_)(?:year|yr)(?:_|$)", re.I)


def _cell(value: object, column: str = "") -> str:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if _YEAR_COLUMN.search(column) and float(value).is_integer() and 1000 <= value <= 2999:
        return str(int(value))  # a year is a label: "1,996" would read as a count
    return format_number(value)


def table_text(table: Table, *, max_rows: int = MAX_ANSWER_ROWS) -> str:
    """A result table as answer text: one figure as a sentence, one row as pairs, else Markdown."""
    if not table.rows:
        return "No rows matched."
    if len(table.rows) == 1:
        row = table.rows[0]
        if len(row) == 1:
            return f"{_label(table.columns[0])}: **{_cell(row[0], table.columns[0])}**"
        return "; ".join(f"{_label(c)}: **{_cell(v, c)}**" for c, v in zip(table.columns, row, strict=True))
    head = "| " + " | ".join(_label(c) for c in table.columns) + " |"
    sep = "|" + "---|" * len(table.columns)
    body = [
        "| " + " | ".join(_cell(v, c) for c, v in zip(table.columns, row, strict=True)) + " |"
        for row in table.rows[:max_rows]
    ]
    more = (
        [f"({len(table.rows) - max_rows} more rows in the result table)"]
        if len(table.rows) > max_rows
        else []
    )
    return "\n".join([head, sep, *body, *more])


class ComposedAnswer(BaseModel):
    text: str
    by_model: bool = False
    rejected: list[str] = Field(default_factory=list)
    """Why the model's text was replaced (empty when it was kept or not asked for)."""


def source_figures(outcome: TaskOutcome) -> list[float]:
    """Every figure a task produced: its table's numbers and those in its summary."""
    if outcome.result is None:
        return []
    found = [f.value for f in figures(outcome.result.summary)]
    if outcome.result.table is not None:
        found.extend(numbers_in(v for row in outcome.result.table.rows for v in row))
    return found


def untraced_figures(text: str, outcomes: Sequence[TaskOutcome], goal: str = "") -> list[str]:
    """Figures in ``text`` that no passing task produced (years, small counts and figures the
    goal itself states aside)."""
    known = [v for o in outcomes for v in source_figures(o)]
    return unmatched_figures(text, known, given={f.value for f in figures(goal)}, years_ok=True)


def cited_sources(text: str, outcomes: dict[str, TaskOutcome]) -> list[str]:
    """``t1 (tool)`` for each task at least one of whose figures the text states."""
    shown = figures(text)
    cited = []
    for task_id, outcome in outcomes.items():
        values = source_figures(outcome)
        if any(matches(f, v) for f in shown for v in values):
            cited.append(f"{task_id} ({outcome.task.tool})")
    return cited


def deterministic_answer(outcomes: dict[str, TaskOutcome], *, max_rows: int = 10) -> str:
    """Each passing task's summary and table head, labelled with the task it came from."""
    parts = []
    for task_id, outcome in outcomes.items():
        if outcome.result is None:
            continue
        block = outcome.result.summary
        table = outcome.result.table
        # Model-written results (SQL) already render their table in the summary.
        if table is not None and table.rows and outcome.result.provenance is None:
            block += "\n\n" + table_text(table, max_rows=max_rows)
        source = f"{task_id} · {outcome.task.tool}"
        parts.append(f"{block}\n\n(Source: {source}.)" if len(outcomes) == 1 else f"**{source}**: {block}")
    return "\n\n".join(parts)


class Answerer:
    """Writes the final answer from passing task outcomes."""

    def __init__(
        self, model: ChatModel, *, use_model: bool = True, max_tokens: int = 300, repeat_penalty: float = 1.15
    ) -> None:
        self.model = model
        self.use_model = use_model
        self.max_tokens = max_tokens
        self.repeat_penalty = repeat_penalty

    def compose(
        self, goal: str, outcomes: dict[str, TaskOutcome], report: TaskOutcome | None
    ) -> ComposedAnswer:
        good = {tid: o for tid, o in outcomes.items() if o.result is not None}
        if not good:
            return ComposedAnswer(text="")
        if report is not None and report.result is not None:
            return ComposedAnswer(text=_with_sources(report.result.summary, good))
        if len(good) == 1 or not self.use_model:
            # One result needs no rewording; its summary already states its figures.
            return ComposedAnswer(text=deterministic_answer(good))
        facts = "\n\n".join(_fact(tid, o) for tid, o in good.items())
        try:
            text = self.model.complete(
                [
                    SystemMessage(render("answer", goal=goal, data_rule=DATA_RULE)),
                    HumanMessage(f"Results:\n{fence(facts)}\nAnswer now."),
                ],
                max_tokens=self.max_tokens,
                purpose=Purpose.ANSWER,
                repeat_penalty=self.repeat_penalty,
            ).strip()
        except AtomworkError as exc:
            return ComposedAnswer(text=deterministic_answer(good), rejected=[f"the model failed: {exc}"])
        problems = degenerate(text)
        untraced = untraced_figures(text, list(good.values()), goal)
        if untraced:
            problems.append(f"figures not found in any task's output: {', '.join(untraced[:5])}")
        if not text:
            problems.append("empty answer")
        if problems:
            return ComposedAnswer(text=deterministic_answer(good), rejected=problems)
        return ComposedAnswer(text=_with_sources(text, good), by_model=True)


def _fact(task_id: str, outcome: TaskOutcome) -> str:
    assert outcome.result is not None
    text = f"[{task_id}] {outcome.task.tool}: {outcome.result.summary}"
    if outcome.result.table is not None and outcome.result.table.rows:
        text += "\n" + outcome.result.table.to_markdown(max_rows=12)
    return text


def _with_sources(text: str, outcomes: dict[str, TaskOutcome]) -> str:
    cited = cited_sources(text, outcomes)
    return f"{text}\n\nSources: {', '.join(cited)}." if cited else text
