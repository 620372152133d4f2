"""atomwork: break a business goal into a DAG of atomic tool calls, run them with
department specialists, evaluate every output and replan what failed."""

from typing import TYPE_CHECKING, Any

from atomwork.errors import AtomworkError, ConfigError, GoalError, ModelError, PlanError, ToolError
from atomwork.plan import AtomicTask, Plan
from atomwork.result import Evaluation, Event, RunResult, StopReason, TaskOutcome, TaskStatus

if TYPE_CHECKING:
    from atomwork.sdk import Atomwork, run

__all__ = [
    "AtomicTask",
    "Atomwork",
    "AtomworkError",
    "ConfigError",
    "Evaluation",
    "Event",
    "GoalError",
    "ModelError",
    "Plan",
    "PlanError",
    "RunResult",
    "StopReason",
    "TaskOutcome",
    "TaskStatus",
    "ToolError",
    "run",
]
__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    # The SDK pulls in the warehouse and LangGraph; load it on first use only.
    if name in ("Atomwork", "run"):
        from atomwork import sdk

        return getattr(sdk, name)
    raise AttributeError(f"module 'atomwork' has no attribute {name!r}")
