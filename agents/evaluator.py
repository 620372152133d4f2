"""The evaluator: programmatic checks first, then a model score against the criteria.

A task passes when every programmatic check passes and the model's score reaches
the threshold. Programmatic failures are decisive: the model is not asked.
"""

from __future__ import annotations

import json
import re
from typing import Any

from atomwork.prompts import render
from langchain_core.messages import HumanMessage, SystemMessage

from atomwork.errors import ConfigError, ModelError
from atomwork.models.base import ChatModel, parse_json_object
from atomwork.result import Evaluation, TaskOutcome, TaskStatus

from .specialist import describe_result

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
_NUMBER = re.compile(r"\d[\d,]*(?:\.\d+)?")


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
        if not table.rows and not result.data.get("empty_ok", False):
            failed.append("result table is empty")
        if table.rows and any(len(row) != len(table.columns) for row in table.rows):
            failed.append("result table rows do not match its columns")
    sources = result.data.get("sources")
    if isinstance(sources, str):
        failed.extend(grounding_check(result.summary, sources))
    return failed


def grounding_check(text: str, sources: str) -> list[str]:
    """Figures cited in generated text should come from the source facts.

    Fails when more than half of the multi-digit figures in ``text`` appear nowhere
    in ``sources`` (commas ignored), which catches invented numbers.
    """
    source_digits = {_digits(m) for m in _NUMBER.findall(sources)}
    cited = [_digits(m) for m in _NUMBER.findall(text) if len(_digits(m).replace(".", "")) >= 3]
    if not cited:
        return []
    ungrounded = [n for n in cited if not any(n in s or s.startswith(n) for s in source_digits)]
    if len(ungrounded) * 2 > len(cited):
        return [f"figures not found in the source data: {', '.join(ungrounded[:5])}"]
    return []


def _digits(number: str) -> str:
    return number.replace(",", "")


class Evaluator:
    """Scores task outputs and the final answer."""

    def __init__(
        self, model: ChatModel, *, threshold: float = 0.5, score_tasks_with_model: bool = True
    ) -> None:
        if not 0.0 <= threshold <= 1.0:
            raise ConfigError("threshold must be between 0 and 1")
        self.model = model
        self.threshold = threshold
        self.score_tasks_with_model = score_tasks_with_model

    def evaluate_task(self, outcome: TaskOutcome, goal: str) -> Evaluation:
        failed = task_checks(outcome)
        if failed:
            return Evaluation(passed=False, score=0.0, checks=failed, reason=failed[0])
        if not self.score_tasks_with_model:
            return Evaluation(passed=True, score=1.0, reason="programmatic checks passed")
        prompt = render(
            "evaluate_task",
            goal=goal,
            tool=outcome.task.tool,
            args=json.dumps(outcome.resolved_args, default=str),
            criteria=outcome.task.success_criteria or "a correct, non-empty result for the goal",
            output=describe_result(outcome.task.id, outcome),
        )
        return self._score(prompt, purpose="score")

    def evaluate_final(self, goal: str, answer: str, outcomes: dict[str, TaskOutcome]) -> Evaluation:
        failed = []
        if not answer.strip():
            failed.append("empty final answer")
        if not any(o.status == TaskStatus.DONE for o in outcomes.values()):
            failed.append("no task completed")
        if failed:
            return Evaluation(passed=False, score=0.0, checks=failed, reason=failed[0])
        return self._score(render("evaluate_final", goal=goal, answer=answer), purpose="score_final")

    def _score(self, prompt: str, *, purpose: str) -> Evaluation:
        messages = [SystemMessage(prompt), HumanMessage("Give your verdict as JSON.")]
        try:
            text = self.model.complete(messages, json_schema=SCORE_SCHEMA, max_tokens=200, purpose=purpose)
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
        return Evaluation(passed=score / 10 >= self.threshold, score=score / 10, reason=reason)
