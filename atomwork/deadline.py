"""Deadlines that travel with the work: a tool call's or a model call's "finish by" time.

A scope opened with :func:`deadline_after` holds for the code it wraps (and for threads started with
a copy of its context); nested scopes keep the earliest time. Code that can block reads
:func:`remaining` to bound its own waits: the warehouse interrupts a SQL statement, a model backend
sets its request timeout.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from pydantic import BaseModel, ConfigDict

__all__ = ["Deadline", "current_deadline", "deadline_after", "remaining"]


class Deadline(BaseModel):
    """A point in ``time.monotonic()`` time, and the budget in seconds that set it."""

    model_config = ConfigDict(frozen=True)

    at: float
    seconds: float
    """The budget the innermost scope was given (for messages: "within 30s")."""

    def remaining(self) -> float:
        """Seconds left; 0 once passed."""
        return max(0.0, self.at - time.monotonic())

    @property
    def expired(self) -> bool:
        return time.monotonic() >= self.at


_current: ContextVar[Deadline | None] = ContextVar("atomwork_deadline", default=None)


def current_deadline() -> Deadline | None:
    """The innermost deadline in force here; None when nothing bounds this code."""
    return _current.get()


@contextmanager
def deadline_after(seconds: float) -> Iterator[Deadline]:
    """Bound the block to ``seconds`` from now, or to the enclosing deadline if that is earlier."""
    outer = _current.get()
    mine = Deadline(at=time.monotonic() + max(0.0, seconds), seconds=seconds)
    chosen = outer if outer is not None and outer.at <= mine.at else mine
    token = _current.set(chosen)
    try:
        yield chosen
    finally:
        _current.reset(token)


def remaining(default: float) -> float:
    """``default`` seconds, or less when the deadline in force ends sooner."""
    deadline = _current.get()
    return default if deadline is None else min(default, deadline.remaining())
