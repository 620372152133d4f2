"""Tools and departments: the :func:`tool` decorator, :class:`Department`, the registry a run
uses, and the demo enterprise pack over the embedded warehouse."""

from atomwork.errors import ToolError
from atomwork.table import Table
from atomwork.tool_result import ToolResult
from atomwork.tools.base import ChoiceSource, Tool
from atomwork.tools.context import RunContext
from atomwork.tools.decorator import tool
from atomwork.tools.department import Department
from atomwork.tools.registry import ToolRegistry

__all__ = [
    "ChoiceSource",
    "Department",
    "RunContext",
    "Table",
    "Tool",
    "ToolError",
    "ToolRegistry",
    "ToolResult",
    "tool",
]
