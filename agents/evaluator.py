"""The evaluator: programmatic checks first, then a model score against the criteria.

A task passes when every programmatic check passes and the model's score reaches
the threshold. Programmatic failures are decisive: the model is not asked.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection
from typing import Any

from langchain_core.messages import HumanMessage, SystemMessage

from atomwork.agents.answer_checks import question_years
from atomwork.agents.answerer import untraced_figures
from atomwork.errors import ModelError
from atomwork.figures import degenerate, figures, unmatched_figures
from atomwork.goal import breakdowns, joint_breakdown
from atomwork.models.base import ChatModel, parse_json_object
from atomwork.models.purpose import Purpose
from atomwork.outcome import Evaluation, TaskOutcome, TaskStatus
from atomwork.prompts import render
from atomwork.prompts.rendering import DATA_RULE, describe_result, fence
from atomwork.settings import RunSettings

SCORE_SCHEMA: dict[str, Any] = {
    "title": "Score",
    "type": "object",
    "properties": {
        "score": {"type": "integer", "minimum": 0, "maximum": 10},
        "reason": {"type": "string", "maxLength": 200, "description": "one short sentence"},
    },
    "required": ["score", "reason"],
    "additionalProperties": False,
}

_SCORE = re.compile(r'"score"\s*:\s*(\d+)')


def task_checks(outcome: TaskOutcome) -> list[str]:
    """Programmatic checks of one task's output; returns the failed ones."""
    if outcome.status != TaskStatus.DONE or outcome.result is None:
        return [f"task did not complete: {outcome.error or outcome.status}"]
    failed = []
    result = outcome.result
    if not result.summary.strip():
        failed.append("empty summary")
    table = result.table
    if table is not None:
        if not table.rows and not result.empty_is_answer:
            failed.append("result table is empty")
        if table.rows and any(len(row) != len(table.columns) for row in table.rows):
            failed.append("result table rows do not match its columns")
    if result.draft is not None:  # model-written text over the given facts
        failed.extend(grounding_check(result.summary, result.draft.sources))
        failed.extend(degenerate(result.summary))
    return failed


def grounding_check(text: str, sources: str) -> list[str]:
    """Every figure cited in generated text must come from the source facts.

    A figure matches a source figure when equal or a correct rounding of it ("$1.23M" for
    1,234,567); small integers (list numbering) are not counted."""
    ungrounded = unmatched_figures(text, [f.value for f in figures(sources)])
    if ungrounded:
        return [f"figures not found in the source data: {', '.join(ungrounded[:5])}"]
    return []


_FLAG = re.compile(r"\b(anomal\w*|unusual|outliers?|spikes?)\b", re.I)
_REPORT = re.compile(r"\b(report|draft|memo|brief|note for)\b", re.I)


def coverage_check(
    goal: str, outcomes: dict[str, TaskOutcome], report_departments: Collection[str] = ()
) -> list[str]:
    """What the goal asked for must be what the passing tasks delivered: its periods, its
    breakdowns (by month, by region ...), the anomaly search and the report it asked for (a
    passing task of one of ``report_departments``)."""
    passing = [o for o in outcomes.values() if o.ok]
    worked_on = " ".join(_work_text(o) for o in passing)
    problems = [
        f"the goal asks about {year}, but no passing task worked on {year}"
        for year in question_years(goal)
        if year not in worked_on
    ]
    columns = " ".join(
        c.lower()
        for o in passing
        if o.result is not None and o.result.table is not None
        for c in o.result.table.columns
    )
    # A grouped or ranked query names its dimension even where its column does not ("c_name" of
    # customer; "SELECT s_name FROM supplier ORDER BY s_acctbal DESC LIMIT 1").
    grouped_sql = " ".join(
        sql
        for o in passing
        if o.result is not None
        and o.result.provenance is not None
        and (sql := (o.result.provenance.sql or "").lower())
        and ("group by" in sql or ("order by" in sql and "limit" in sql))
    )
    for dimension in breakdowns(goal):
        if dimension not in columns and dimension not in grouped_sql:
            problems.append(f"the goal asks for a breakdown by {dimension}, but no passing result has one")
    joint = joint_breakdown(goal)
    if joint is not None and not problems:
        # "by department and quarter" is one table with both, not one table per dimension.
        wanted = joint[1]
        if not any(
            all(any(d in c.lower() for c in o.result.table.columns) for d in wanted)
            for o in passing
            if o.result is not None and o.result.table is not None
        ):
            problems.append(
                f"the goal asks for one breakdown by {' and '.join(wanted)}, but no passing result has "
                "them together"
            )
    if _FLAG.search(goal) and not any(
        _FLAG.search(o.task.tool + " " + (o.result.summary if o.result else "")) or "anomal" in o.task.tool
        for o in passing
    ):
        problems.append("the goal asks to flag unusual values, but no passing task looked for them")
    if _REPORT.search(goal) and not any(o.task.department in report_departments for o in passing):
        problems.append("the goal asks for a report, but no report was drafted")
    return problems


def _work_text(outcome: TaskOutcome) -> str:
    """What a task worked on: its arguments, its summary and its SQL."""
    parts = [json.dumps(outcome.resolved_args or outcome.task.args, default=str)]
    if outcome.result is not None:
        parts.append(outcome.result.summary)
        if outcome.result.provenance is not None and outcome.result.provenance.sql:
            parts.append(outcome.result.provenance.sql)
    return " ".join(parts)


class Evaluator:
    """Scores task outputs and the final answer.

    From ``settings``: whether a model scores tasks and the final answer once the programmatic
    checks passed, the score they need (``pass_threshold``) and the scoring call's token budget."""

    def __init__(
        self,
        model: ChatModel,
        settings: RunSettings | None = None,
        *,
        report_departments: Collection[str] = (),
    ) -> None:
        self.model = model
        self.settings = settings if settings is not None else RunSettings()
        self.report_departments = frozenset(report_departments)
        """Departments whose passing task is the report a goal may ask for."""

    def evaluate_task(self, outcome: TaskOutcome, goal: str) -> Evaluation:
        failed = task_checks(outcome)
        if failed:
            return Evaluation(passed=False, score=0.0, checks=failed, reason=failed[0])
        if outcome.result is not None and outcome.result.provenance is not None:
            # A model-written result was already cross-checked where it was made; its verdict
            # (verified or not) decides the stop reason, a model score would add nothing.
            return Evaluation(passed=True, score=1.0, reason="; ".join(outcome.result.provenance.notes))
        if not self.settings.score_tasks_with_model:
            return Evaluation(passed=True, score=1.0, reason="programmatic checks passed")
        prompt = render(
            "evaluate_task",
            goal=goal,
            tool=outcome.task.tool,
            criteria=outcome.task.success_criteria or "a correct, non-empty result for the goal",
            data_rule=DATA_RULE,
        )
        data = (
            f"Arguments:\n{fence(json.dumps(outcome.resolved_args, default=str))}\n"
            f"Output:\n{fence(describe_result(outcome.task.id, outcome))}"
        )
        return self._score(prompt, data, purpose=Purpose.SCORE)

    def evaluate_final(self, goal: str, answer: str, outcomes: dict[str, TaskOutcome]) -> Evaluation:
        """Programmatic checks of the answer (not empty, not degenerate, every figure traced to a
        passing task, the goal's periods covered), then, if enabled, a model score."""
        failed = []
        if not answer.strip():
            failed.append("empty final answer")
        if not any(o.status == TaskStatus.DONE for o in outcomes.values()):
            failed.append("no task completed")
        passing = [o for o in outcomes.values() if o.ok]
        if answer.strip() and passing:
            failed.extend(degenerate(answer))
            untraced = untraced_figures(answer, passing, goal)
            if untraced:
                failed.append(f"figures not found in any passing task's output: {', '.join(untraced[:5])}")
            failed.extend(coverage_check(goal, outcomes, self.report_departments))
        if failed:
            return Evaluation(passed=False, score=0.0, checks=failed, reason=failed[0])
        if not self.settings.score_final_with_model:
            return Evaluation(passed=True, score=1.0, reason="programmatic checks passed")
        prompt = render("evaluate_final", goal=goal, data_rule=DATA_RULE)
        return self._score(prompt, f"Final answer:\n{fence(answer)}", purpose=Purpose.SCORE_FINAL)

    def _score(self, prompt: str, data: str, *, purpose: Purpose) -> Evaluation:
        """The model's score; ``data`` (what is judged, fenced) goes in the user message."""
        messages = [SystemMessage(prompt), HumanMessage(f"{data}\nGive your verdict as JSON.")]
        budget = self.settings.max_tokens.score
        try:
            text = self.model.complete(messages, json_schema=SCORE_SCHEMA, max_tokens=budget, purpose=purpose)
            try:
                verdict = parse_json_object(text, self.model.name)
            except ModelError:
                # The score comes first, so a reason cut off by the token limit still leaves it.
                match = _SCORE.search(text)
                if match is None:
                    raise
                verdict = {"score": match.group(1), "reason": text[match.end() :].strip(' ,"}')[:200]}
            score = max(0, min(10, int(verdict["score"])))
            reason = str(verdict.get("reason", "")).strip()
        except (ModelError, KeyError, TypeError, ValueError) as exc:
            # An evaluator that cannot score must not pass work silently.
            return Evaluation(passed=False, score=0.0, checks=[f"evaluator could not score: {exc}"])
        return Evaluation(passed=score / 10 >= self.settings.pass_threshold, score=score / 10, reason=reason)
