"""The plan: a goal and the DAG of atomic tool calls that achieves it, and its task references.

An argument value may reference an earlier task's output: ``"$t1"`` (the whole result),
``"$t1.table"`` or ``"$t1.summary"``. A reference implies a dependency. Building, grounding and
repairing plans against the tools and the live data happens above the tools layer, in
:mod:`atomwork.agents.plan_schema` and :mod:`atomwork.agents.plan_validation`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel, Field, field_validator

REF_RE = re.compile(r"^\$([A-Za-z_][A-Za-z0-9_]*)(?:\.(table|summary))?$")
MAX_TASKS = 12
"""The most tasks one plan may have."""
MAX_TEXT = 120
"""Longest free-text value the plan schema allows (titles, success criteria ...)."""
MAX_INT = 1_000_000
"""Largest integer the plan schema allows where a tool sets no maximum."""
MAX_LIST = 8
"""Longest list the plan schema allows where a tool sets no maxItems."""


class AtomicTask(BaseModel):
    """One tool call owned by one department."""

    id: str = Field(description="Short unique id, e.g. t1")
    department: str = Field(description="Department whose specialist runs the task")
    tool: str = Field(description="Name of the tool to call")
    args: dict[str, Any] = Field(default_factory=dict, description="Tool arguments; '$t1' references")
    depends_on: list[str] = Field(default_factory=list)
    success_criteria: str = Field(default="", description="What a good output looks like")

    def references(self) -> set[str]:
        """Ids of tasks referenced from ``args``."""
        return {ref for ref, _ in iter_refs(self.args)}


class Plan(BaseModel):
    """A goal and the DAG of tasks that achieves it."""

    goal: str
    tasks: list[AtomicTask]

    @field_validator("goal")
    @classmethod
    def _goal_not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("goal must not be empty")
        return value.strip()

    def task(self, task_id: str) -> AtomicTask:
        for task in self.tasks:
            if task.id == task_id:
                return task
        raise KeyError(task_id)

    def ids(self) -> list[str]:
        return [t.id for t in self.tasks]

    def ready(self, done: set[str], started: set[str]) -> list[AtomicTask]:
        """Tasks not yet started whose dependencies are all done."""
        return [t for t in self.tasks if t.id not in started and set(t.depends_on) <= done]

    def dependents_closure(self, task_ids: set[str]) -> set[str]:
        """``task_ids`` plus every task that depends on them, transitively."""
        closed = set(task_ids)
        changed = True
        while changed:
            changed = False
            for task in self.tasks:
                if task.id not in closed and closed & set(task.depends_on):
                    closed.add(task.id)
                    changed = True
        return closed


def parse_ref(value: Any) -> tuple[str, str | None] | None:
    """``"$t1.table"`` -> ``("t1", "table")``; anything else -> None."""
    if not isinstance(value, str):
        return None
    match = REF_RE.match(value.strip())
    if match is None:
        return None
    return match.group(1), match.group(2)


def iter_refs(value: Any) -> Iterator[tuple[str, str | None]]:
    """Every reference inside a (nested) argument value."""
    ref = parse_ref(value)
    if ref is not None:
        yield ref
    elif isinstance(value, dict):
        for item in value.values():
            yield from iter_refs(item)
    elif isinstance(value, list):
        for item in value:
            yield from iter_refs(item)


class RefusedTask(BaseModel):
    """A planned task the access policy does not let the user run, and why."""

    task: AtomicTask
    reason: str


class ValidationReport(BaseModel):
    """What plan validation changed (``repairs``) and dropped (``dropped``); see
    :func:`atomwork.agents.plan_validation.validate_plan`.

    ``pruned`` repeats the drops made on purpose (a task serving no part of the goal, a report
    with nothing to report on): the plan is better without them, so they need no new plan.
    ``refused`` holds the tasks dropped because the user may not run them (also in ``dropped``)."""

    repairs: list[str] = Field(default_factory=list)
    dropped: list[str] = Field(default_factory=list)
    pruned: list[str] = Field(default_factory=list)
    refused: list[RefusedTask] = Field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not self.repairs and not self.dropped

    @property
    def broken(self) -> list[str]:
        """Drops caused by errors in the planner's output (worth asking for a corrected plan)."""
        return [d for d in self.dropped if d not in self.pruned]

    def prune(self, message: str) -> None:
        self.dropped.append(message)
        self.pruned.append(message)


def rename_refs(value: Any, mapping: dict[str, str]) -> Any:
    """``value`` with every reference to a task in ``mapping`` pointed at its new id."""
    ref = parse_ref(value)
    if ref is not None:
        task_id, part = ref
        return f"${mapping.get(task_id, task_id)}" + (f".{part}" if part else "")
    if isinstance(value, dict):
        return {k: rename_refs(v, mapping) for k, v in value.items()}
    if isinstance(value, list):
        return [rename_refs(v, mapping) for v in value]
    return value
