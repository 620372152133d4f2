"""Every error atomwork raises on purpose derives from :class:`AtomworkError`.

The CLI, REPL and Slack bot print these as one clear line (no traceback); anything
else is a bug.
"""

from __future__ import annotations

from typing import Any

from atomwork.redact import redact

__all__ = [
    "AtomworkError",
    "ConfigError",
    "GoalError",
    "ModelError",
    "ModelRequestsBlocked",
    "PermissionDenied",
    "PlanError",
    "ToolError",
]


class AtomworkError(Exception):
    """Base class of atomwork's user-facing errors.

    Messages quote endpoints and exception texts, so credentials in them are masked here, once for
    every error (see :mod:`atomwork.redact`)."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*(redact(a) if isinstance(a, str) else a for a in args))


class ToolError(AtomworkError):
    """A tool refused its input or failed; the message is meant for a human."""


class PermissionDenied(ToolError):
    """The access policy forbids a tool, a table or a column to the user; the message says who and why."""


class GoalError(AtomworkError, ValueError):
    """The goal given by the user cannot be worked on (e.g. empty)."""


class ConfigError(AtomworkError, ValueError):
    """A setting is wrong: unknown department, bad model spec, missing model files."""


class ModelError(AtomworkError):
    """The language model could not be reached or returned unusable output."""


class ModelRequestsBlocked(ConfigError):
    """A real model was about to be loaded or called while tests block model requests."""


class PlanError(AtomworkError):
    """A plan is invalid and could not be repaired."""

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message if not problems else f"{message}: " + "; ".join(problems))
        self.problems = problems or []
