"""Test your own tools and departments without a model.

- :class:`ScriptedModel`: strict canned replies per purpose; fails on an unexpected call and on
  replies left unused. :class:`FunctionModel`: answers from your function, which gets a typed
  :class:`ModelCallInfo`.
- :class:`FaultyModel`: wraps a model and fails, hangs or answers garbage on a seeded share of calls.
- :func:`block_model_requests`: real models (embedded, GGUF, vLLM) refuse to load or answer inside
  it; ``ATOMWORK_BLOCK_MODEL_REQUESTS=1`` does the same for a whole test run.
- :func:`check_tool` / :func:`check_department`: a conformance check for what you wrote.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from jsonschema.exceptions import ValidationError as SchemaValidationError
from pydantic_core import PydanticSerializationError

from atomwork.agents.plan_schema import arg_schema_for_planner
from atomwork.errors import AtomworkError, ModelRequestsBlocked
from atomwork.models.faulty import Fault, FaultyModel
from atomwork.models.guard import BLOCK_ENV, override_model_requests
from atomwork.models.purpose import Purpose
from atomwork.models.scripted import (
    FunctionModel,
    ModelCallInfo,
    Reply,
    ScriptedModel,
    ToolSpec,
    UnexpectedModelCall,
)
from atomwork.tool_result import ToolResult
from atomwork.tools.base import Tool
from atomwork.tools.context import RunContext
from atomwork.tools.department import Department, ToolLike, as_tool

__all__ = [
    "BLOCK_ENV",
    "Fault",
    "FaultyModel",
    "FunctionModel",
    "ModelCallInfo",
    "ModelRequestsBlocked",
    "Purpose",
    "Reply",
    "ScriptedModel",
    "ToolConformanceError",
    "ToolSpec",
    "UnexpectedModelCall",
    "allow_model_requests",
    "block_model_requests",
    "check_department",
    "check_tool",
]

_TOOL_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
"""What function-calling APIs (OpenAI, vLLM) accept as a tool name."""


@contextmanager
def block_model_requests() -> Iterator[None]:
    """Inside the block, loading or calling a real model raises :class:`ModelRequestsBlocked`.

    Test doubles (:class:`ScriptedModel`, :class:`FunctionModel`) are not affected."""
    with override_model_requests(False):
        yield


@contextmanager
def allow_model_requests() -> Iterator[None]:
    """Inside the block, real models may be used even when ``ATOMWORK_BLOCK_MODEL_REQUESTS`` is set."""
    with override_model_requests(True):
        yield


class ToolConformanceError(AssertionError):
    """A tool or department breaks the contract atomwork relies on; the message lists every problem."""

    def __init__(self, subject: str, problems: list[str]) -> None:
        super().__init__(f"{subject} does not conform: " + "; ".join(problems))
        self.problems = problems


def check_tool(
    tool: ToolLike,
    args: Mapping[str, Any] | None = None,
    *,
    ctx: RunContext | None = None,
    invoke: bool | None = None,
) -> ToolResult | None:
    """Check that ``tool`` is usable by atomwork's planner and specialists, and call it once.

    Checked: a function-calling-safe name and a description; an argument schema that is valid
    JSON Schema (also in the form the planner decodes with), with a description per argument;
    example arguments (``args``, else each required argument's ``examples`` or first enum value)
    that the schema and the args model both accept and that survive a JSON round trip; and a call
    with them that returns a well-formed :class:`ToolResult` (rows as wide as the columns, JSON
    values, columns among the declared ``output_columns``).

    ``ctx``: the run context for tools that take one (default: the tool's own, with its bound
    warehouse). ``invoke``: call the tool (default: unless it ``requires_approval``).
    Returns the result of the call (None when not invoked); raises :class:`ToolConformanceError`
    listing every problem found."""
    checked = as_tool(tool)
    problems, result = _tool_problems(checked, args, ctx, invoke)
    if problems:
        raise ToolConformanceError(f"tool {checked.name!r}", problems)
    return result


def check_department(
    department: Department,
    args: Mapping[str, Mapping[str, Any]] | None = None,
    *,
    ctx: RunContext | None = None,
) -> dict[str, ToolResult | None]:
    """:func:`check_tool` for every tool of ``department`` (``args`` by tool name), plus a
    description and at least one tool. Returns each tool's result by name; raises one
    :class:`ToolConformanceError` listing the problems of all tools."""
    problems: list[str] = []
    if not department.description.strip():
        problems.append("no description: the planner picks departments by it")
    if not department.tools:
        problems.append("no tools")
    results: dict[str, ToolResult | None] = {}
    for tool in department.tools:
        if tool.department != department.name:
            problems.append(f"tool {tool.name!r} says it belongs to {tool.department!r}")
        found, results[tool.name] = _tool_problems(tool, (args or {}).get(tool.name), ctx, None)
        problems += [f"{tool.name}: {p}" for p in found]
    unknown = sorted(set(args or {}) - set(results))
    if unknown:
        problems.append(f"example args for tools it does not have: {', '.join(unknown)}")
    if problems:
        raise ToolConformanceError(f"department {department.name!r}", problems)
    return results


def _tool_problems(
    tool: Tool, args: Mapping[str, Any] | None, ctx: RunContext | None, invoke: bool | None
) -> tuple[list[str], ToolResult | None]:
    problems: list[str] = []
    if not _TOOL_NAME.match(tool.name):
        problems.append("name must be 1-64 letters, digits, '_' or '-' (function-calling APIs reject others)")
    if not tool.description.strip() or tool.description.strip() == tool.name:
        problems.append("no description: the planner chooses tools by it (write a docstring)")
    schema = tool.json_schema()
    problems += _schema_problems(schema)
    fields = tool.args_model.model_fields
    problems += [
        f"choices given for {name!r}, which is not an argument" for name in tool.choices if name not in fields
    ]
    problems += [
        f"numeric column {c!r} is not among output_columns"
        for c in tool.numeric_columns
        if tool.output_columns and c not in tool.output_columns
    ]
    if args is not None:
        example = dict(args)
    else:
        example, missing = _example_args(schema)
        problems += [
            f"no example value for required argument {name!r}: pass args=... or give it Field(examples=[...])"
            for name in missing
        ]
        if missing:
            return problems, None
    unusable = _round_trip_problems(tool, schema, example)
    problems += unusable
    if unusable or invoke is False or (invoke is None and tool.requires_approval):
        return problems, None
    try:
        result = tool.invoke(example, ctx)
    except Exception as exc:  # a ToolError or a bug in the tool: finding either is the point
        return [*problems, f"calling it with {example} raised {type(exc).__name__}: {exc}"], None
    return problems + _result_problems(tool, result), result


def _schema_problems(schema: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    for label, candidate in (("argument schema", schema), ("planner's argument schema", None)):
        try:
            if candidate is None:
                candidate = arg_schema_for_planner(schema)
            Draft202012Validator.check_schema(candidate)
        except SchemaError as exc:
            problems.append(f"{label} is not valid JSON Schema: {exc.message}")
        except Exception as exc:  # the planner's conversion itself failed on this schema
            problems.append(f"{label} cannot be built: {type(exc).__name__}: {exc}")
    if schema.get("type") != "object":
        problems.append("argument schema must describe an object")
    for name, prop in (schema.get("properties") or {}).items():
        if not isinstance(prop, dict) or not str(prop.get("description", "")).strip():
            problems.append(
                f"argument {name!r} has no description "
                "(Annotated[..., Field(description=...)] or the docstring's Args section)"
            )
    return problems


def _example_args(schema: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """Required arguments from the schema's own examples, enums and consts (optional ones keep
    their defaults), and the required arguments it has no value for."""
    example: dict[str, Any] = {}
    missing: list[str] = []
    props = schema.get("properties") or {}
    for name in schema.get("required") or []:
        prop = props.get(name) or {}
        if prop.get("examples"):
            example[name] = prop["examples"][0]
        elif prop.get("enum"):
            example[name] = prop["enum"][0]
        elif "const" in prop:
            example[name] = prop["const"]
        else:
            missing.append(name)
    return example, missing


def _round_trip_problems(tool: Tool, schema: dict[str, Any], example: dict[str, Any]) -> list[str]:
    """The example must be accepted as JSON (what a model writes) by both schema and args model."""
    try:
        validated = tool.validate_args(example)
    except AtomworkError as exc:
        return [f"example args {example} rejected: {exc}"]
    try:
        wire = json.loads(json.dumps(validated.model_dump(mode="json", by_alias=True)))
    except (TypeError, ValueError) as exc:
        return [f"validated args are not JSON: {exc}"]
    problems: list[str] = []
    try:
        Draft202012Validator(schema).validate(wire)
    except SchemaValidationError as exc:
        problems.append(f"args {wire} (validated, as JSON) break the argument schema: {exc.message}")
    except SchemaError:
        pass  # already reported by _schema_problems
    try:
        again = tool.validate_args(wire)
    except AtomworkError as exc:
        return [*problems, f"args do not survive a JSON round trip: {exc}"]
    if again.model_dump() != validated.model_dump():
        problems.append(f"args change in a JSON round trip: {validated.model_dump()} -> {again.model_dump()}")
    return problems


def _result_problems(tool: Tool, result: ToolResult) -> list[str]:
    problems: list[str] = []
    if not result.summary.strip():
        problems.append("result has an empty summary")
    table = result.table
    if table is not None:
        if len(set(table.columns)) != len(table.columns):
            problems.append(f"result table repeats a column name: {table.columns}")
        bad = [i for i, row in enumerate(table.rows) if len(row) != len(table.columns)]
        if bad:
            problems.append(f"result rows {bad[:5]} do not have {len(table.columns)} cells")
        undeclared = [c for c in table.columns if tool.output_columns and c not in tool.output_columns]
        if undeclared:
            problems.append(f"result columns {undeclared} are not among output_columns {tool.output_columns}")
    try:
        json.dumps(result.model_dump(mode="json"))
    except (TypeError, ValueError, PydanticSerializationError) as exc:
        problems.append(f"result is not JSON-serializable (runs are saved as JSON): {exc}")
    return problems
