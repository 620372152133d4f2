"""The planner: goal -> Plan, by JSON-schema constrained decoding, then validation and repair.

The schema (:func:`atomwork.plan.plan_json_schema`) is grounded per run: task ids are fixed by
position, a task may depend on and reference only earlier tasks, and argument values are
enumerated from the live data (regions, periods, tables, columns) through a
:class:`~atomwork.plan.Choices`, so even a 0.5B model can only write well-formed tasks that
name things that exist. What the schema cannot express is checked and repaired by
:func:`atomwork.plan.validate_plan`; when tasks had to be dropped because the output was
broken the planner tries again, telling the model what was wrong.
"""

from __future__ import annotations

import json
from typing import Any

from atomwork.prompts import render
from atomwork.tools.base import Table
from atomwork.tools.registry import ToolRegistry
from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage

from atomwork.errors import ModelError, PlanError
from atomwork.models.base import ChatModel
from atomwork.plan import (
    Choices,
    Plan,
    ValidationReport,
    drop_repeated_work,
    goal_parts,
    goal_steps,
    plan_json_schema,
    task_limits,
    tasks_from_output,
    validate_plan,
)
from atomwork.result import TaskOutcome

from .specialist import describe_result

__all__ = ["Planner", "goal_message", "goal_parts"]

TOKENS_PER_TASK = 150
"""Generation budget per allowed task (a task is ~60-90 tokens; criteria are capped at 120 chars)."""


class Planner:
    """Turns a goal into a validated :class:`Plan`.

    ``choices`` grounds the plan schema and validation in the live data (build it with
    :func:`atomwork.plan.warehouse_choices`); without it values are bounded but not enumerated.
    ``max_tasks`` caps the per-goal limit ``clamp(2 * parts + 2, 3, 12)`` (None: no extra cap).
    """

    def __init__(
        self,
        model: ChatModel,
        registry: ToolRegistry,
        *,
        data_range: str = "",
        attempts: int = 2,
        max_tasks: int | None = None,
        examples: str = "",
        choices: Choices | None = None,
    ) -> None:
        self.model = model
        self.registry = registry
        self.data_range = data_range or "the dates present in the warehouse"
        self.attempts = max(1, attempts)
        self.max_tasks = max_tasks
        self.examples = examples
        self.choices = choices

    def limits(self, goal: str) -> tuple[int, int]:
        """``(min_tasks, max_tasks)`` for ``goal``: see :func:`atomwork.plan.task_limits`."""
        least, most = task_limits(len(goal_parts(goal)))
        if self.max_tasks is not None:
            most = max(1, min(most, self.max_tasks))
        return min(least, most), most

    def plan(self, goal: str) -> tuple[Plan, ValidationReport]:
        least, most = self.limits(goal)
        system = render(
            "planner",
            catalog=self.registry.catalog(),
            data_range=self.data_range,
            memory=self.examples,
            max_tasks=most,
        )
        schema = plan_json_schema(self.registry, max_tasks=most, min_tasks=least, choices=self.choices)
        messages: list[BaseMessage] = [SystemMessage(system), HumanMessage(goal_message(goal))]
        return self._generate(goal, messages, schema, most, known_ids=frozenset(), reserved_ids=set())

    def replan(
        self, goal: str, finished: dict[str, TaskOutcome], failed: dict[str, TaskOutcome], used_ids: set[str]
    ) -> tuple[Plan, ValidationReport]:
        """New tasks for what failed; finished tasks are kept and may be referenced.

        New ids continue after ``used_ids``; the schema lets new tasks depend on and reference
        the finished tasks, whose real columns ground column arguments."""
        failed_text = "\n".join(
            f"- {tid}: {o.task.tool}({json.dumps(o.task.args, default=str)}) -> "
            + (o.error or (o.evaluation.reason if o.evaluation else "") or str(o.status))
            for tid, o in failed.items()
        )
        first = _next_index(used_ids)
        system = render(
            "replanner",
            catalog=self.registry.catalog(),
            finished="\n".join(describe_result(tid, o, max_rows=5) for tid, o in finished.items()) or "none",
            failed=failed_text or "none",
            next_id=first,
            data_range=self.data_range,
        )
        _, most = self.limits(goal)
        tables: dict[str, Table | None] = {
            tid: o.result.table if o.result is not None else None for tid, o in finished.items()
        }
        schema = plan_json_schema(
            self.registry, max_tasks=most, choices=self.choices, first_index=first, finished=tables
        )
        messages: list[BaseMessage] = [SystemMessage(system), HumanMessage(goal_message(goal))]
        plan, report = self._generate(
            goal,
            messages,
            schema,
            most,
            known_ids=frozenset(finished),
            reserved_ids=used_ids,
            known_tables={tid: t for tid, t in tables.items() if t is not None},
        )
        return drop_repeated_work(plan, {tid: o.task for tid, o in finished.items()}, report), report

    def _generate(
        self,
        goal: str,
        messages: list[BaseMessage],
        schema: dict[str, Any],
        max_tasks: int,
        *,
        known_ids: frozenset[str],
        reserved_ids: set[str],
        known_tables: dict[str, Table] | None = None,
    ) -> tuple[Plan, ValidationReport]:
        last_problem = ""
        best: tuple[Plan, ValidationReport] | None = None
        for _attempt in range(self.attempts):
            try:
                raw = self.model.structured(
                    messages, schema, max_tokens=TOKENS_PER_TASK * max_tasks + 100, purpose="plan"
                )
                draft = Plan(goal=goal, tasks=tasks_from_output(raw, self.registry))
                plan, report = validate_plan(
                    draft,
                    self.registry,
                    known_ids=known_ids,
                    reserved_ids=reserved_ids,
                    choices=self.choices,
                    known_tables=known_tables,
                )
            except (ModelError, PlanError) as exc:
                last_problem = str(exc)
            else:
                if not report.broken:  # pruned tasks (unrelated to the goal) need no new plan
                    return plan, report
                best = best or (plan, report)
                last_problem = "; ".join(report.broken)
            messages = [
                *messages,
                HumanMessage(f"That plan was not usable ({last_problem}). Write a corrected plan."),
            ]
        if best is not None:
            return best
        raise PlanError(
            f"the planner could not produce a valid plan after {self.attempts} attempts: {last_problem}"
        )


def goal_message(goal: str) -> str:
    """The user message: the goal, and its parts spelled out when there are several (small models
    plan better when every part is listed), with the order the goal imposes."""
    steps = goal_steps(goal)
    if len(steps) < 2:
        return f"Goal: {goal}"
    listed = "\n".join(
        f"{i}. {s.text}" + (f" (after part {i - 1})" if s.after_previous else "")
        for i, s in enumerate(steps, start=1)
    )
    return f"Goal: {goal}\nThe goal has {len(steps)} parts; plan at least one task for each:\n{listed}"


def _next_index(used_ids: set[str]) -> int:
    numbers = [int(i[1:]) for i in used_ids if i.startswith("t") and i[1:].isdigit()]
    return max(numbers, default=0) + 1
