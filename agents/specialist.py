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

from atomwork.agents.plan_grounding import ground_columns
from atomwork.agents.plan_schema import arg_schema_for_planner
from atomwork.approval import Approval, ApprovalDesk, ApprovalRequest
from atomwork.errors import AtomworkError, PermissionDenied, ToolError
from atomwork.limits import clip_text
from atomwork.models.base import ChatModel
from atomwork.models.purpose import Purpose
from atomwork.plan import AtomicTask, parse_ref
from atomwork.policy import Access
from atomwork.prompts import render
from atomwork.prompts.rendering import DATA_RULE, describe_result, fence
from atomwork.redact import redact
from atomwork.result import TaskOutcome, TaskStatus, now
from atomwork.settings import RunSettings
from atomwork.tools.base import Table, Tool, ToolResult, table_summary
from atomwork.tools.runner import run_tool


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
        approvals: ApprovalDesk | None = None,
        access: Access | None = None,
        settings: RunSettings | None = None,
    ) -> None:
        self.department = department
        self.settings = settings if settings is not None else RunSettings()
        """Tool timeouts and result limits."""
        self.tools = {t.name: t for t in tools}
        self.model = model
        self.data_range = data_range
        self.instructions = instructions
        """The department's own guidance, given to the model when it fills in arguments."""
        self.user = user
        self.access = access
        """What the user may use and read; checked again here, where the tool runs (plan
        validation checked it first)."""
        self.approvals = approvals
        """Decides each call of a tool that ``requires_approval`` (the engine's durable desk); with
        none, such calls are refused."""

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
            refusal = tool.refusal(self.access)
            if refusal is not None:
                raise PermissionDenied(refusal)
            args = resolve_args(task.args, tool, outcomes)
            ground_columns(args, tool)  # value_column=terminations, when the table says leavers
            missing = tool.missing_required(args)
            if missing or not _valid(tool, args):
                args = self._complete_args(task, tool, args, missing, goal)
                outcome.used_model = True
            outcome.resolved_args = _printable(args)
            if tool.requires_approval:
                outcome.approval = self._approval(tool, task, outcome.resolved_args, goal)
                decision = outcome.approval.decision
                if decision is None:  # waits for a person; the rest of the plan goes on
                    outcome.status = TaskStatus.AWAITING_APPROVAL
                    return outcome
                if not decision.approved:
                    outcome.status = TaskStatus.REJECTED
                    outcome.error = f"the call of {tool.name!r} was {decision.describe()}"
                    outcome.finished_at = now()
                    return outcome
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
                access=self.access,
            )
            # On its own thread under the run's timeout: a hung or crashing tool fails this task only.
            result = run_tool(
                tool,
                args,
                ctx,
                timeout_s=self.settings.timeout_for(tool.name),
                limits=self.settings.limits,
            )
            outcome.result = self._masked(tool, result)
            outcome.used_model = outcome.used_model or ctx.used_model
            outcome.status = TaskStatus.DONE
        except AtomworkError as exc:
            outcome.status = TaskStatus.FAILED
            # The error goes into prompts and the run record: cut like any result text.
            outcome.error = clip_text(str(exc), self.settings.limits.max_text_chars)
            outcome.error_type = type(exc).__name__
        except Exception as exc:  # a bug in a tool must not lose the rest of the run
            outcome.status = TaskStatus.FAILED
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""  # not its traceback
            text = redact(f"{type(exc).__name__}: {first}")  # AtomworkErrors redact their own
            outcome.error = clip_text(text, self.settings.limits.max_text_chars)
            outcome.error_type = type(exc).__name__
        outcome.finished_at = now()
        return outcome

    def _approval(self, tool: Tool, task: AtomicTask, args: dict[str, Any], goal: str) -> Approval:
        if self.approvals is None:
            raise ToolError(f"tool {tool.name!r} needs a person's approval, and this run cannot ask for one")
        request = ApprovalRequest(
            tool=tool.name,
            department=self.department,
            description=tool.description,
            args=args,
            task_id=task.id,
            goal=goal,
            user=self.user,
        )
        return self.approvals.decide(request)

    def _masked(self, tool: Tool, result: ToolResult) -> ToolResult:
        """The result with the columns masked for the user emptied (SQL results are masked where
        the query runs; this covers tools that read the tables they declare)."""
        if self.access is None or result.table is None or not tool.tables:
            return result
        table, masked = self.access.mask_table(result.table, tool.tables)
        if not masked:
            return result
        # The tool's own summary may quote the hidden values: describe the masked table instead.
        summary = f"{table_summary(table)} Masked for you: {', '.join(masked)}."
        return result.model_copy(update={"table": table, "summary": summary})

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
            missing=", ".join(wanted) or ", ".join(ask["properties"]),
            hint=" ".join(text for text in (_schema_hint(ask), self.instructions) if text),
            data_range=self.data_range or "the warehouse's dates",
            data_rule=DATA_RULE,
        )
        # Fixed arguments may hold earlier results ("$t1.summary"): data, fenced in the user message.
        fixed_text = fence(json.dumps(fixed, default=str) if fixed else "none")
        proposed = self.model.tool_arguments(
            [
                SystemMessage(prompt),
                HumanMessage(
                    f"Arguments already fixed by the plan:\n{fixed_text}\nArguments for {tool.name}:"
                ),
            ],
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
