"""LangChain ``BaseTool``s as atomwork tools, accepted as they are.

The arguments come from the tool's ``args_schema`` (a pydantic model, or a JSON schema); the
tool's return value becomes a :class:`ToolResult` (a Table or text as it is, anything else as
JSON text). The LangChain tool's own errors become one-line ToolErrors.
"""

from __future__ import annotations

import json
from typing import Any

from langchain_core.tools import BaseTool
from pydantic import BaseModel
from pydantic_core import to_jsonable_python

from atomwork.errors import AtomworkError, ConfigError, ToolError
from atomwork.table import Table
from atomwork.tool_result import ToolResult
from atomwork.tools.args_schema import args_model_from_json_schema
from atomwork.tools.base import Tool, as_result

__all__ = ["from_langchain"]


def from_langchain(lc_tool: BaseTool, *, department: str = "", requires_approval: bool = False) -> Tool:
    """An atomwork :class:`Tool` that calls ``lc_tool`` with the validated arguments."""
    args_model = _args_model(lc_tool)

    def call(**kwargs: Any) -> ToolResult:
        # Skip arguments left at None so LangChain tools keep their own defaults for them.
        payload = {k: v for k, v in kwargs.items() if v is not None}
        try:
            output = lc_tool.invoke(to_jsonable_python(payload))
        except AtomworkError:
            raise
        except Exception as exc:  # the LangChain tool's own failure, for the person and the replanner
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise ToolError(f"LangChain tool {lc_tool.name!r} failed: {first}") from exc
        return _result(output, lc_tool.name)

    return Tool(
        name=lc_tool.name,
        description=" ".join((lc_tool.description or lc_tool.name).split()),
        args_model=args_model,
        fn=call,
        department=department,
        requires_approval=requires_approval,
    )


def _args_model(lc_tool: BaseTool) -> type[BaseModel]:
    """The tool's ``args_schema`` as a pydantic (v2) model; a tool without one gets the schema
    LangChain reads from its ``_run`` signature."""
    schema: Any = lc_tool.args_schema if lc_tool.args_schema is not None else lc_tool.get_input_schema()
    if isinstance(schema, type) and issubclass(schema, BaseModel):
        return schema
    if isinstance(schema, dict):
        return args_model_from_json_schema(f"{lc_tool.name}_args", schema)
    v1_schema = getattr(schema, "schema", None)  # a pydantic v1 model class
    if isinstance(schema, type) and callable(v1_schema):
        return args_model_from_json_schema(f"{lc_tool.name}_args", v1_schema())
    raise ConfigError(f"LangChain tool {lc_tool.name!r} has an unreadable args_schema: {schema!r}")


def _result(output: Any, name: str) -> ToolResult:
    if isinstance(output, ToolResult | Table | str):
        return as_result(output, name)
    content = getattr(output, "content", None)  # a ToolMessage (tools with response_format)
    if isinstance(content, str):
        return ToolResult(summary=content)
    return ToolResult(summary=json.dumps(to_jsonable_python(output), default=str))
