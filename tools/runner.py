"""One tool call under a deadline, on its own thread, so that a hung or misbehaving tool fails only
its task.

The call gets a deadline (:mod:`atomwork.deadline`): the warehouse interrupts a SQL statement still
running then, and a model call inside the tool gives up. A call still running a moment later is
abandoned with a :class:`ToolTimeout` (Python cannot kill a thread: an exception is planted in it,
which stops pure-Python loops; a blocking C call finishes in the background, its result unused).
Whatever the tool raises stays in its task, ``SystemExit`` and ``KeyboardInterrupt`` included, and
its result is cut to the run's :class:`~atomwork.settings.ResultLimits`.
"""

from __future__ import annotations

import ctypes
import threading
from contextlib import suppress
from contextvars import copy_context
from typing import Any

from atomwork import tracing
from atomwork.deadline import deadline_after
from atomwork.errors import ToolError
from atomwork.limits import clip_result
from atomwork.settings import ResultLimits
from atomwork.tool_result import ToolResult
from atomwork.tools.base import Tool
from atomwork.tools.context import RunContext
from atomwork.tracing import Attr, SpanName

__all__ = ["GRACE_S", "ToolAborted", "ToolTimeout", "run_tool"]

GRACE_S = 0.5
"""How long past its deadline a call may take to report its own error (an interrupted statement)
before it is abandoned."""


class ToolTimeout(ToolError):
    """A tool call ran past its timeout and was abandoned."""


class ToolAborted(ToolError):
    """A tool raised ``SystemExit``, ``KeyboardInterrupt`` or another non-``Exception``: its task fails."""


def run_tool(
    tool: Tool,
    args: dict[str, Any],
    ctx: RunContext,
    *,
    timeout_s: float,
    limits: ResultLimits | None = None,
) -> ToolResult:
    """``tool.invoke(args, ctx)`` within ``timeout_s`` seconds, its result cut to ``limits``.

    Raises what the tool raised (an ``Exception``), :class:`ToolTimeout` when it ran too long and
    :class:`ToolAborted` for a ``BaseException`` such as ``SystemExit``."""
    attributes = {Attr.TOOL: tool.name, Attr.DEPARTMENT: tool.department, Attr.TASK_ID: ctx.task_id or None}
    with tracing.span(SpanName.TOOL, attributes):
        result = _call_with_timeout(tool, args, ctx, timeout_s)
        if limits is not None:
            result = clip_result(result, limits)
        tracing.annotate({Attr.ROWS: len(result.table.rows) if result.table is not None else None})
    return result


def _call_with_timeout(tool: Tool, args: dict[str, Any], ctx: RunContext, timeout_s: float) -> ToolResult:
    outcome: list[ToolResult | BaseException] = []
    done = threading.Event()

    def call() -> None:
        try:
            outcome.append(tool.invoke(args, ctx))
        except BaseException as exc:  # this thread is ours: nothing a tool raises may end the process
            outcome.append(exc)
        finally:
            done.set()

    with deadline_after(timeout_s):
        context = copy_context()  # the deadline, the trace and the run's attribution go along

    def target() -> None:
        # A ToolTimeout planted just as the call ended on its own has nothing left to stop.
        with suppress(ToolTimeout):
            context.run(call)

    worker = threading.Thread(target=target, name=f"atomwork-tool-{tool.name}", daemon=True)
    worker.start()
    if not done.wait(timeout_s + GRACE_S):
        _plant(worker, ToolTimeout)
        raise ToolTimeout(f"tool {tool.name!r} ran longer than {timeout_s:g}s and was abandoned")
    got = outcome[0]
    if isinstance(got, ToolResult):
        return got
    if isinstance(got, Exception):
        raise got
    raise ToolAborted(f"tool {tool.name!r} raised {type(got).__name__}{f': {got}' if str(got) else ''}")


def _plant(thread: threading.Thread, exc_type: type[BaseException]) -> None:
    """Raise ``exc_type`` inside ``thread`` at its next Python instruction (CPython's only way to stop
    a thread); the thread's own handler catches it and ends."""
    if thread.ident is not None:
        ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread.ident), ctypes.py_object(exc_type))
