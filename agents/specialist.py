"""Department specialists: each owns only its department's tools.

A fully specified task (all required arguments present and valid) runs the tool
directly, with no model call. Otherwise the specialist asks the model for the
missing arguments, constrained to the tool's argument schema.
"""

from __future__ import annotations

import json
from typing import Any, get_args, get_origin

from langchain_core.messages import HumanMessage, SystemMessage
from pydantic import BaseModel

from atomwork.agents.plan_schema import arg_schema_for_planner
from atomwork.errors import AtomworkError, ToolError
from atomwork.models.base import ChatModel
from atomwork.models.purpose import Purpose
from atomwork.plan import AtomicTask, parse_ref
from atomwork.prompts import render
from atomwork.prompts.rendering import describe_result
from atomwork.result import TaskOutcome, TaskStatus, now
from atomwork.tools.approval import ApprovalRequest, Approver
from atomwork.tools.base import Table, Tool


class Specialist:
    """Runs the tasks of one department with that department's tools only."""

    def __init__(
        self,
        department: str,
        tools: list[Tool],
        model: ChatModel,
        *,
        data_range: str = "",
        instructions: str = "",
        user: str | None = None,
        approve: Approver | None = None,
    ) -> None:
        self.department = department
        self.tools = {t.name: t for t in tools}
        self.model = model
        self.data_range = data_range
        self.instructions = instructions
        """The department's own guidance, given to the model when it fills in arguments."""
        self.user = user
        self.approve = approve
        """Asked before each call of a tool that ``requires_approval``; None refuses them all."""

    def run(
        self, task: AtomicTask, outcomes: dict[str, TaskOutcome], goal: str, round_: int = 0
    ) -> TaskOutcome:
        """Execute ``task``; never raises for task-level problems (they become a failed outcome)."""
        outcome = TaskOutcome(task=task, status=TaskStatus.RUNNING, started_at=now(), round=round_)
        try:
            tool = self.tools.get(task.tool)
            if tool is None:
                raise ToolError(
                    f"the {self.department} specialist has no tool {task.tool!r} "
                    f"(its tools: {', '.join(sorted(self.tools)) or 'none'})"
                )
            args = resolve_args(task.args, tool, outcomes)
            missing = tool.missing_required(args)
            if missing or not _valid(tool, args):
                args = self._complete_args(task, tool, args, missing, goal)
                outcome.used_model = True
            outcome.resolved_args = _printable(args)
            if tool.requires_approval:
                self._check_approval(tool, task, outcome.resolved_args, goal)
            ctx = tool.context(
                model=self.model,
                tables={
                    tid: o.result.table
                    for tid, o in outcomes.items()
                    if o.result is not None and o.result.table is not None
                },
                goal=goal,
                task_id=task.id,
                user=self.user,
            )
            outcome.result = tool.invoke(args, ctx)
            outcome.used_model = outcome.used_model or ctx.used_model
            outcome.status = TaskStatus.DONE
        except AtomworkError as exc:
            outcome.status = TaskStatus.FAILED
            outcome.error = str(exc)
            outcome.error_type = type(exc).__name__
        except Exception as exc:  # a bug in a tool must not lose the rest of the run
            outcome.status = TaskStatus.FAILED
            outcome.error = f"{type(exc).__name__}: {exc}"
            outcome.error_type = type(exc).__name__
        outcome.finished_at = now()
        return outcome

    def _check_approval(self, tool: Tool, task: AtomicTask, args: dict[str, Any], goal: str) -> None:
        if self.approve is None:
            raise ToolError(
                f"tool {tool.name!r} needs a person's approval, and this run has no approver "
                "(give Atomwork(approve=...))"
            )
        request = ApprovalRequest(
            tool=tool.name,
            department=self.department,
            description=tool.description,
            args=args,
            task_id=task.id,
            goal=goal,
            user=self.user,
        )
        if not self.approve(request):
            raise ToolError(f"the call of {tool.name!r} was not approved")

    def _complete_args(
        self, task: AtomicTask, tool: Tool, given: dict[str, Any], missing: list[str], goal: str
    ) -> dict[str, Any]:
        """Ask the model for the arguments the plan left out (or got wrong)."""
        schema = arg_schema_for_planner(tool.json_schema())
        fixed = {k: v for k, v in given.items() if k in schema["properties"] and _is_scalar(v)}
        bad = [k for k in given if not tool.accepts(k, given[k])]
        wanted = sorted(set(missing) | set(bad))
        # Only ask for what is missing; fixed (valid) arguments are kept as planned.
        ask: dict[str, Any] = {
            "type": "object",
            "properties": {k: v for k, v in schema["properties"].items() if k not in fixed or k in wanted},
            "required": [k for k in schema["required"] if k not in fixed or k in wanted],
            "additionalProperties": False,
        }
        prompt = render(
            "specialist",
            department=self.department,
            tool=tool.name,
            description=tool.description,
            goal=goal,
            criteria=task.success_criteria or "a correct, non-empty result",
            given=json.dumps(fixed) if fixed else "none",
            missing=", ".join(wanted) or ", ".join(ask["properties"]),
            hint=" ".join(text for text in (_schema_hint(ask), self.instructions) if text),
            data_range=self.data_range or "the warehouse's dates",
        )
        proposed = self.model.tool_arguments(
            [SystemMessage(prompt), HumanMessage(f"Arguments for {tool.name}:")],
            tool_name=tool.name,
            description=tool.description,
            parameters=ask,
            purpose=Purpose.ARGS,
        )
        merged = dict(given)
        for key, value in proposed.items():
            if key in wanted or key not in merged:
                merged[key] = value
        return merged


def _schema_hint(schema: dict[str, Any]) -> str:
    parts = []
    for name, prop in schema["properties"].items():
        if "enum" in prop:
            parts.append(f"{name} is one of {', '.join(map(str, prop['enum']))}")
    return ("Allowed values: " + "; ".join(parts) + ".") if parts else ""


def _is_scalar(value: Any) -> bool:
    return isinstance(value, str | int | float | bool) or value is None


def _valid(tool: Tool, args: dict[str, Any]) -> bool:
    try:
        tool.validate_args(args)
    except ToolError:
        return False
    return True


def _printable(args: dict[str, Any]) -> dict[str, Any]:
    """Arguments for the record: tables shown by size, not content."""
    return {
        key: f"<table {len(v.rows)} rows: {', '.join(v.columns)}>" if isinstance(v, Table) else v
        for key, v in args.items()
    }


def resolve_args(args: dict[str, Any], tool: Tool, outcomes: dict[str, TaskOutcome]) -> dict[str, Any]:
    """Replace ``$tN`` references with earlier outputs, shaped for the argument's type.

    A ``Table`` argument gets the referenced table; a text argument gets the summary;
    a list of texts gets one summary per reference.
    """
    resolved: dict[str, Any] = {}
    for name, value in args.items():
        field = tool.args_model.model_fields.get(name)
        annotation = field.annotation if field is not None else str
        resolved[name] = _resolve_value(value, annotation, outcomes)
    return resolved


def _resolve_value(value: Any, annotation: Any, outcomes: dict[str, TaskOutcome]) -> Any:
    if isinstance(value, list):
        inner = get_args(annotation)[0] if get_origin(annotation) is list and get_args(annotation) else str
        return [_resolve_value(item, inner, outcomes) for item in value]
    ref = parse_ref(value)
    if ref is None:
        return value
    task_id, part = ref
    outcome = outcomes.get(task_id)
    if outcome is None or outcome.result is None:
        raise ToolError(f"argument references ${task_id}, which has no output")
    result = outcome.result
    wants_table = _wants(annotation, Table)
    if part == "table" or (part is None and wants_table):
        if result.table is None:
            raise ToolError(f"${task_id} produced no table")
        return result.table if wants_table else result.table.to_markdown()
    return describe_result(task_id, outcome)


def _wants(annotation: Any, cls: type[BaseModel]) -> bool:
    if annotation is cls:
        return True
    return any(_wants(arg, cls) for arg in get_args(annotation))
