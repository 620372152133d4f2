"""Planning while the plan streams (the LLMCompiler idea): each task is checked and handed over the
moment its JSON object is complete, so it can start before the planner has written the rest.

:class:`PlanReplyParser` finds the complete task objects in a growing ``{"task_count": n, "tasks":
[...]}`` reply. :class:`PlanStream` validates the tasks read so far as a plan of their own (the same
:func:`~atomwork.agents.plan_validation.validate_plan` as a whole plan: ids, tools, arguments,
grounding, permissions, dependencies, columns) and releases a task only when the rest of the plan
cannot change it: it serves the goal (or feeds a task that does, so it is never pruned), it is not
a report (whose inputs are the tasks before it), and its dependencies were released. When the goal
orders its parts ("..., then ..."), each released task also waits for the one released before it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from langchain_core.messages import BaseMessage

from atomwork.agents.plan_goal_checks import never_pruned
from atomwork.agents.plan_schema import tasks_from_output
from atomwork.errors import ModelError, PlanError
from atomwork.goal import goal_steps
from atomwork.models.base import ChatModel, parse_json_object
from atomwork.models.purpose import Purpose
from atomwork.plan import AtomicTask, Plan, ValidationReport
from atomwork.tools.registry import ToolRegistry

__all__ = ["PlanReplyParser", "PlanStream"]

Validate = Callable[[Plan], tuple[Plan, ValidationReport]]
Release = Callable[[AtomicTask], None]


class PlanReplyParser:
    """Reads a planner reply as it streams and returns each element of its top-level ``"tasks"``
    array once that element's closing brace has arrived (JSON-aware: braces inside strings and
    escaped quotes do not count)."""

    def __init__(self) -> None:
        self.text = ""
        self._pos = 0
        self._stack: list[str] = []  # open brackets: "{" or "["
        self._in_string = False
        self._escaped = False
        self._string_start = 0
        self._key = ""  # the latest key read directly inside the root object
        self._expect_key = False
        self._tasks_depth = 0  # depth of the tasks array once it is open (0: not open)
        self._item_start = -1

    def feed(self, piece: str) -> list[dict[str, Any]]:
        """Add ``piece`` to the reply; the task objects it completed, in order."""
        self.text += piece
        done: list[dict[str, Any]] = []
        text = self.text
        for i in range(self._pos, len(text)):
            char = text[i]
            if self._in_string:
                if self._escaped:
                    self._escaped = False
                elif char == "\\":
                    self._escaped = True
                elif char == '"':
                    self._in_string = False
                    if len(self._stack) == 1 and self._expect_key:
                        self._key = json.loads(text[self._string_start : i + 1])
                continue
            if char == '"':
                self._in_string, self._string_start = True, i
            elif char in "{[":
                if char == "[" and len(self._stack) == 1 and self._key == "tasks" and not self._tasks_depth:
                    self._tasks_depth = 2
                elif char == "{" and self._tasks_depth and len(self._stack) == self._tasks_depth:
                    self._item_start = i
                self._stack.append(char)
                self._expect_key = char == "{"
            elif char in "}]":
                if not self._stack:
                    continue  # stray text after the reply
                self._stack.pop()
                if char == "}" and self._item_start >= 0 and len(self._stack) == self._tasks_depth:
                    item = json.loads(text[self._item_start : i + 1])
                    self._item_start = -1
                    if isinstance(item, dict):
                        done.append(item)
                elif char == "]" and self._tasks_depth and len(self._stack) == self._tasks_depth - 1:
                    self._tasks_depth = -1  # the tasks array ended: nothing more to hand out
            elif char == ",":
                self._expect_key = bool(self._stack) and self._stack[-1] == "{"
            elif char == ":":
                self._expect_key = False
        self._pos = len(text)
        return done


class PlanStream:
    """One streamed planner reply: reads it, releases the tasks that are safe to start early, and
    settles the final plan with the released tasks as they ran.

    ``validate`` checks a draft plan (the planner's :func:`validate_plan` with the run's ids, data
    and permissions); ``release`` receives each task once it is safe."""

    def __init__(self, goal: str, registry: ToolRegistry, validate: Validate, release: Release) -> None:
        self.goal = goal
        self.registry = registry
        self._validate = validate
        self._release = release
        self._drafted: list[dict[str, Any]] = []
        self.released: dict[str, AtomicTask] = {}
        steps = goal_steps(goal)
        self._ordered = len(steps) > 1 and any(s.after_previous for s in steps[1:])

    def read(
        self,
        model: ChatModel,
        messages: Sequence[BaseMessage],
        schema: dict[str, Any],
        *,
        max_tokens: int,
        purpose: Purpose,
    ) -> dict[str, Any]:
        """Stream one reply from ``model``, releasing safe tasks as they complete; the parsed reply."""
        parser = PlanReplyParser()
        for piece in model.stream(messages, json_schema=schema, max_tokens=max_tokens, purpose=purpose):
            for item in parser.feed(piece):
                self._drafted.append(item)
                self._consider()
        return parse_json_object(parser.text, model.name)

    def _consider(self) -> None:
        """Validate the tasks read so far and release those that are now safe."""
        try:
            tasks = tasks_from_output({"tasks": self._drafted}, self.registry)
            plan, _ = self._validate(Plan(goal=self.goal, tasks=tasks))
        except (PlanError, ModelError):
            return  # not runnable yet (or broken): the complete reply is validated at the end
        safe = never_pruned(plan.tasks, self.registry, self.goal)
        for task in plan.tasks:  # validated plans are in dependency order
            if task.id in self.released or task.id not in safe or self.registry.writes_report(task.tool):
                continue
            if any(d not in self.released for d in task.depends_on):
                continue  # waits for a task held back (or dropped) before it
            if self._ordered and self.released:
                previous = list(self.released)[-1]
                if previous not in task.depends_on:
                    task = task.model_copy(update={"depends_on": [*task.depends_on, previous]})
            self.released[task.id] = task
            self._release(task)

    def settle(
        self, final: tuple[Plan, ValidationReport] | None, problem: str = ""
    ) -> tuple[Plan, ValidationReport]:
        """The plan to run: ``final`` (the whole reply, validated) with each released task as it was
        released, since it may already be running; without ``final`` (the reply broke off or was
        invalid), the released tasks alone, with ``problem`` noted."""
        if final is None:
            report = ValidationReport()
            report.dropped.append(f"the rest of the plan was unusable ({problem}); kept the tasks started")
            return Plan(goal=self.goal, tasks=list(self.released.values())), report
        plan, report = final
        tasks = [self.released.get(t.id, t) for t in plan.tasks]
        tasks += [t for tid, t in self.released.items() if tid not in plan.ids()]
        return Plan(goal=self.goal, tasks=tasks), report
