"""atomwork: break a business goal into a DAG of atomic tool calls, run them with
department specialists, evaluate every output and replan what failed."""

from typing import TYPE_CHECKING, Any

from atomwork.errors import (
    AtomworkError,
    ConfigError,
    GoalError,
    ModelError,
    PermissionDenied,
    PlanError,
    ToolError,
)
from atomwork.events import Event
from atomwork.models.purpose import Purpose
from atomwork.plan import AtomicTask, Plan
from atomwork.policy import Policy
from atomwork.result import Evaluation, RunResult, StopReason, TaskOutcome, TaskStatus
from atomwork.settings import ResultLimits, RunBudget, RunSettings, TokenBudgets
from atomwork.table import Table
from atomwork.tool_result import ToolResult

if TYPE_CHECKING:
    from atomwork.conversation import Conversation
    from atomwork.sdk import Atomwork, run
    from atomwork.streaming import RunStream
    from atomwork.tools import Department, RunContext, Tool, tool

__all__ = [
    "AtomicTask",
    "Atomwork",
    "AtomworkError",
    "ConfigError",
    "Conversation",
    "Department",
    "Evaluation",
    "Event",
    "GoalError",
    "ModelError",
    "PermissionDenied",
    "Plan",
    "PlanError",
    "Policy",
    "Purpose",
    "ResultLimits",
    "RunBudget",
    "RunContext",
    "RunResult",
    "RunSettings",
    "RunStream",
    "StopReason",
    "Table",
    "TaskOutcome",
    "TaskStatus",
    "TokenBudgets",
    "Tool",
    "ToolError",
    "ToolResult",
    "run",
    "tool",
]
__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    # The SDK pulls in the warehouse and LangGraph; load it on first use only.
    if name in ("Atomwork", "run"):
        from atomwork import sdk

        return getattr(sdk, name)
    if name == "Conversation":
        from atomwork.conversation import Conversation

        return Conversation
    if name == "RunStream":
        from atomwork.streaming import RunStream

        return RunStream
    # The tool API loads the warehouse (DuckDB): also on first use.
    if name in ("Department", "RunContext", "Tool", "tool"):
        from atomwork import tools

        return getattr(tools, name)
    raise AttributeError(f"module 'atomwork' has no attribute {name!r}")
