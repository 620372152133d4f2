"""Which run and task a model call is made for, so usage can be counted per run and per task.

The engine opens a :func:`call_scope` around a run and around each task; every call recorded inside
it (by the planner, a specialist, a tool through its run context, the evaluator) carries the ids.
A context variable, not a parameter, because calls are made deep inside agents and tools; threads
started by atomwork copy the context along.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from pydantic import BaseModel, ConfigDict

__all__ = ["CallScope", "call_scope", "current_scope"]


class CallScope(BaseModel):
    """The run and task model calls made now belong to (None: not known)."""

    model_config = ConfigDict(frozen=True)

    run_id: str | None = None
    task_id: str | None = None


_NONE = CallScope()
_SCOPE: ContextVar[CallScope | None] = ContextVar("atomwork_call_scope", default=None)


def current_scope() -> CallScope:
    return _SCOPE.get() or _NONE


@contextmanager
def call_scope(*, run_id: str | None = None, task_id: str | None = None) -> Iterator[CallScope]:
    """Attribute the model calls made inside the block to ``run_id`` (default: the enclosing run)
    and ``task_id`` (default: none, or the enclosing task when no new run is named)."""
    outer = current_scope()
    scope = CallScope(
        run_id=run_id if run_id is not None else outer.run_id,
        task_id=task_id if task_id is not None else (outer.task_id if run_id is None else None),
    )
    token = _SCOPE.set(scope)
    try:
        yield scope
    finally:
        _SCOPE.reset(token)
