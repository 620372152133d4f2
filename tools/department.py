"""A department: a named group of tools, with a description for people and instructions its
specialist follows. The unit users add to atomwork (their own, an MCP server's, a plug-in's).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any, TypeAlias

from langchain_core.tools import BaseTool
from pydantic import BaseModel, ConfigDict

from atomwork.errors import ConfigError
from atomwork.tools.base import Tool
from atomwork.tools.decorator import tool
from atomwork.tools.langchain import from_langchain

__all__ = ["Department", "ToolLike", "as_tool"]

ToolLike: TypeAlias = Tool | Callable[..., Any]
"""A :class:`Tool`, a typed function (made a tool with :func:`atomwork.tools.tool`), or a
LangChain ``BaseTool`` (converted as it is)."""

_NAME = re.compile(r"^[a-z][a-z0-9_-]*$")


class Department(BaseModel):
    """A named group of tools.

    ``shared``: its tools serve every department (statistics over earlier results, writing the
    report), so :meth:`ToolRegistry.restricted_to` keeps it. ``writes_report``: its output is the
    run's report, used as the final answer when one passed.

    >>> Department("shop", "Orders and products of the web shop", tools=[revenue_by_product])
    """

    model_config = ConfigDict(arbitrary_types_allowed=True, frozen=True)

    name: str
    description: str = ""
    tools: tuple[Tool, ...] = ()
    instructions: str = ""
    """Extra guidance for this department's specialist when it fills in arguments."""
    shared: bool = False
    writes_report: bool = False

    def __init__(
        self,
        name: str,
        description: str = "",
        tools: Sequence[ToolLike] = (),
        *,
        instructions: str = "",
        shared: bool = False,
        writes_report: bool = False,
    ) -> None:
        if not isinstance(name, str) or not _NAME.match(name):
            raise ConfigError(
                f"bad department name {name!r}: use lowercase letters, digits, '_' or '-', "
                "starting with a letter"
            )
        owned: list[Tool] = []
        for item in tools:
            tool = as_tool(item)
            if tool.department and tool.department != name:
                raise ConfigError(
                    f"tool {tool.name!r} belongs to department {tool.department!r}, not {name!r}"
                )
            if any(t.name == tool.name for t in owned):
                raise ConfigError(f"department {name!r} has two tools named {tool.name!r}")
            owned.append(tool if tool.department else tool.model_copy(update={"department": name}))
        super().__init__(
            name=name,
            description=description,
            tools=tuple(owned),
            instructions=instructions,
            shared=shared,
            writes_report=writes_report,
        )

    def with_tools(self, tools: Sequence[ToolLike]) -> Department:
        """This department with ``tools`` added."""
        return Department(
            self.name,
            self.description,
            [*self.tools, *tools],
            instructions=self.instructions,
            shared=self.shared,
            writes_report=self.writes_report,
        )

    def tool_names(self) -> list[str]:
        return [t.name for t in self.tools]

    def close(self) -> None:
        """Release what the department holds (an MCP server session); nothing for plain tools.

        The :class:`~atomwork.sdk.Atomwork` session closes the departments it was given."""


def as_tool(obj: Any) -> Tool:
    """A :class:`Tool` from a Tool, a LangChain ``BaseTool`` or a typed function; else ConfigError."""
    if isinstance(obj, Tool):
        return obj
    if isinstance(obj, BaseTool):
        return from_langchain(obj)
    if callable(obj):
        return tool(obj)
    raise ConfigError(f"{obj!r} is not a tool: give a Tool, a function or a LangChain BaseTool")
