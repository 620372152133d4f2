"""The planner: goal -> Plan, by JSON-schema constrained decoding, then validation and repair.

The schema has one branch per tool (tool name, its department and its argument
schema), so even a 0.5B model can only write well-formed tasks. What the schema
cannot express (ids that exist, acyclic dependencies) is checked and repaired by
:func:`atomwork.plan.validate_plan`; when tasks had to be dropped the planner
tries again, telling the model what was wrong.
"""

from __future__ import annotations

import json
import re
from typing import Any

from atomwork.prompts import render
from atomwork.tools.registry import ToolRegistry
from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage
from pydantic import ValidationError

from atomwork.errors import ModelError, PlanError
from atomwork.models.base import ChatModel
from atomwork.plan import (
    AtomicTask,
    Plan,
    ValidationReport,
    drop_repeated_work,
    plan_json_schema,
    validate_plan,
)
from atomwork.result import TaskOutcome

from .specialist import describe_result


class Planner:
    """Turns a goal into a validated :class:`Plan`."""

    def __init__(
        self,
        model: ChatModel,
        registry: ToolRegistry,
        *,
        data_range: str = "",
        attempts: int = 2,
        max_tasks: int = 6,
        examples: str = "",
    ) -> None:
        self.model = model
        self.registry = registry
        self.data_range = data_range or "the dates present in the warehouse"
        self.attempts = max(1, attempts)
        self.max_tasks = max_tasks
        self.examples = examples
        self.schema = plan_json_schema(registry, max_tasks=max_tasks)

    def plan(self, goal: str) -> tuple[Plan, ValidationReport]:
        system = render(
            "planner", catalog=self.registry.catalog(), data_range=self.data_range, memory=self.examples
        )
        # A goal with several requested actions needs at least one task per action.
        schema = plan_json_schema(self.registry, max_tasks=self.max_tasks, min_tasks=len(goal_parts(goal)))
        messages: list[BaseMessage] = [SystemMessage(system), HumanMessage(goal_message(goal))]
        return self._generate(goal, messages, frozenset(), set(), schema)

    def replan(
        self, goal: str, finished: dict[str, TaskOutcome], failed: dict[str, TaskOutcome], used_ids: set[str]
    ) -> tuple[Plan, ValidationReport]:
        """New tasks for what failed; finished tasks are kept and may be referenced."""
        failed_text = "\n".join(
            f"- {tid}: {o.task.tool}({json.dumps(o.task.args, default=str)}) -> "
            + (o.error or (o.evaluation.reason if o.evaluation else "") or str(o.status))
            for tid, o in failed.items()
        )
        system = render(
            "replanner",
            catalog=self.registry.catalog(),
            finished="\n".join(describe_result(tid, o, max_rows=5) for tid, o in finished.items()) or "none",
            failed=failed_text or "none",
            next_id=_next_index(used_ids),
            data_range=self.data_range,
        )
        messages: list[BaseMessage] = [SystemMessage(system), HumanMessage(goal_message(goal))]
        plan, report = self._generate(goal, messages, frozenset(finished), used_ids, self.schema)
        return drop_repeated_work(plan, {tid: o.task for tid, o in finished.items()}, report), report

    def _generate(
        self,
        goal: str,
        messages: list[BaseMessage],
        known_ids: frozenset[str],
        reserved_ids: set[str],
        schema: dict[str, Any],
    ) -> tuple[Plan, ValidationReport]:
        last_problem = ""
        best: tuple[Plan, ValidationReport] | None = None
        for _attempt in range(self.attempts):
            try:
                raw = self.model.structured(messages, schema, max_tokens=1200, purpose="plan")
                draft = Plan(goal=goal, tasks=_tasks(raw))
                plan, report = validate_plan(
                    draft, self.registry, known_ids=known_ids, reserved_ids=reserved_ids
                )
            except (ModelError, PlanError) as exc:
                last_problem = str(exc)
            else:
                if not report.dropped:
                    return plan, report
                best = best or (plan, report)
                last_problem = "; ".join(report.dropped)
            messages = [
                *messages,
                HumanMessage(f"That plan was not usable ({last_problem}). Write a corrected plan."),
            ]
        if best is not None:
            return best
        raise PlanError(
            f"the planner could not produce a valid plan after {self.attempts} attempts: {last_problem}"
        )


_CLAUSE_SPLIT = re.compile(
    r"\s*(?:[,;]|\band then\b|\bthen\b|\band\b(?=\s+(?:flag|draft|write|compare|find|"
    r"list|check|show|summari[sz]e|send|prepare|identify|analy[sz]e|report)))\s*",
    re.I,
)


def goal_parts(goal: str) -> list[str]:
    """Split a goal into its requested actions ("analyze X, flag Y and draft Z" -> 3 parts).

    Small models plan better when every part is spelled out."""
    parts = [p.strip(" .") for p in _CLAUSE_SPLIT.split(goal)]
    return [p for p in parts if len(p.split()) >= 2]


def goal_message(goal: str) -> str:
    parts = goal_parts(goal)
    if len(parts) < 2:
        return f"Goal: {goal}"
    listed = "\n".join(f"{i}. {p}" for i, p in enumerate(parts, start=1))
    return f"Goal: {goal}\nThe goal has {len(parts)} parts; plan at least one task for each:\n{listed}"


def _tasks(raw: dict[str, Any]) -> list[AtomicTask]:
    items = raw.get("tasks")
    if not isinstance(items, list):
        raise PlanError("planner output has no task list")
    tasks = []
    for index, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            raise PlanError(f"task #{index} is not an object")
        try:
            tasks.append(AtomicTask.model_validate(item))
        except ValidationError as exc:
            raise PlanError(f"task #{index} is malformed: {exc.errors()[0]['msg']}") from exc
    return tasks


def _next_index(used_ids: set[str]) -> int:
    numbers = [int(i[1:]) for i in used_ids if i.startswith("t") and i[1:].isdigit()]
    return max(numbers, default=0) + 1
