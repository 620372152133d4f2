"""Department data tools over the embedded warehouse, plus the shared tool contract."""

from atomwork.tools.base import DEPARTMENTS, Table, Tool, ToolError, ToolResult
from atomwork.tools.registry import ToolRegistry

__all__ = ["DEPARTMENTS", "Table", "Tool", "ToolError", "ToolRegistry", "ToolResult"]
