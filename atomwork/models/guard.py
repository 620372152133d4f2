"""The switch that keeps unit tests away from real models.

Real backends call :func:`check_model_requests_allowed` before they load weights or send a
request; test doubles never do. ``atomwork.testing.block_model_requests()`` flips it.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from atomwork.errors import ModelRequestsBlocked

__all__ = [
    "BLOCK_ENV",
    "check_model_requests_allowed",
    "model_requests_allowed",
    "override_model_requests",
]

BLOCK_ENV = "ATOMWORK_BLOCK_MODEL_REQUESTS"
"""Set to 1 to block real model requests in this process and in the subprocesses it starts."""

_lock = threading.Lock()
_override: bool | None = None
"""An explicit allow/block set by :func:`override_model_requests`; None follows ``BLOCK_ENV``."""


def model_requests_allowed() -> bool:
    """Whether a real model may be loaded or called now."""
    with _lock:
        override = _override
    if override is not None:
        return override
    return os.environ.get(BLOCK_ENV, "").strip().lower() not in ("1", "true", "yes", "on")


def check_model_requests_allowed(what: str) -> None:
    """Raise :class:`ModelRequestsBlocked` naming ``what`` (e.g. "load embedded model") when blocked."""
    if not model_requests_allowed():
        raise ModelRequestsBlocked(
            f"real model requests are blocked ({what}): pass model=ScriptedModel(...) or "
            f"FunctionModel(...) from atomwork.testing, or allow them (unset {BLOCK_ENV})"
        )


@contextmanager
def override_model_requests(allow: bool) -> Iterator[None]:
    """Allow (True) or block (False) real model requests inside the block, whatever ``BLOCK_ENV`` says.

    The switch is process-wide, not per thread, because tools and specialists run on worker threads."""
    global _override
    with _lock:
        previous, _override = _override, allow
    try:
        yield
    finally:
        with _lock:
            _override = previous
