"""How a model call survives a flaky backend: retries with jittered backoff inside one deadline.

Every call goes through :func:`call_with_retry`. A backend raises :class:`TransientModelError` for a
failure worth another try (no connection, a timeout, HTTP 5xx) and reads
:func:`atomwork.deadline.remaining` for its own request timeout, so a server that accepts a request and
never answers fails within :attr:`RetryPolicy.deadline_s`. :func:`backend_errors` turns whatever else a
backend raises into a one-line :class:`ModelError`.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from tenacity import (
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    stop_before_delay,
    wait_exponential,
    wait_random,
)

from atomwork.deadline import deadline_after
from atomwork.errors import AtomworkError, ConfigError, ModelError

__all__ = [
    "DEADLINE_ENV",
    "RetryPolicy",
    "TransientModelError",
    "backend_errors",
    "call_with_retry",
    "one_line",
]

T = TypeVar("T")

DEADLINE_ENV = "ATOMWORK_MODEL_DEADLINE"
"""Seconds one model call may take, retries included (overrides a backend's default)."""


class TransientModelError(ModelError):
    """A model failure worth retrying: the backend could not be reached, timed out or answered 5xx."""


class RetryPolicy(BaseModel):
    """Retries and time limits of one model call."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    attempts: int = Field(default=3, ge=1, le=10)
    """Tries per call, the first included."""
    deadline_s: float = Field(default=300.0, gt=0)
    """One call, every attempt and wait included; an enclosing deadline (a tool's) can shorten it."""
    attempt_timeout_s: float = Field(default=120.0, gt=0)
    """One attempt: the request timeout a backend sets (never past the deadline)."""
    backoff_s: float = Field(default=0.5, ge=0)
    """The first wait between attempts; it doubles each time, up to ``max_backoff_s``."""
    max_backoff_s: float = Field(default=8.0, ge=0)
    jitter_s: float = Field(default=0.5, ge=0)
    """A random extra wait of up to this many seconds, so parallel callers do not retry in step."""

    @classmethod
    def from_env(cls, **defaults: float | int) -> RetryPolicy:
        """``defaults`` with the deadline from ``$ATOMWORK_MODEL_DEADLINE`` when set."""
        values = dict(defaults)
        text = os.environ.get(DEADLINE_ENV, "").strip()
        if text:
            try:
                values["deadline_s"] = float(text)
            except ValueError:
                raise ConfigError(f"{DEADLINE_ENV} must be a number of seconds, got {text!r}") from None
        try:
            return cls.model_validate(values)
        except ValidationError as exc:
            err = exc.errors()[0]
            raise ConfigError(
                f"bad model retry policy: {'.'.join(map(str, err['loc']))}: {err['msg']}"
            ) from None


def one_line(exc: BaseException) -> str:
    """The first line of an exception's text, or its class name when it has none."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


@contextmanager
def backend_errors(what: str) -> Iterator[None]:
    """Inside the block, a non-atomwork exception becomes a one-line ModelError naming ``what``
    (OS-level ones, such as a reset connection, a TransientModelError). Assertions pass through: a
    test double's complaint is a test failure, not a model failure."""
    try:
        yield
    except (AtomworkError, AssertionError):
        raise
    except (OSError, TimeoutError) as exc:
        raise TransientModelError(f"{what} failed: {type(exc).__name__}: {one_line(exc)}") from exc
    except Exception as exc:
        raise ModelError(f"{what} failed: {type(exc).__name__}: {one_line(exc)}") from exc


def call_with_retry(attempt: Callable[[], T], *, policy: RetryPolicy, what: str) -> T:
    """``attempt()``, tried again on :class:`TransientModelError` until it returns, the attempts are
    used up or the deadline would pass; then a one-line ModelError saying how long it tried.

    Each attempt runs under a deadline of ``attempt_timeout_s`` (and never past the call's), which
    the backend reads for its request timeout."""
    start = time.monotonic()
    count = 0
    with deadline_after(policy.deadline_s) as overall:
        if overall.expired:  # e.g. a tool abandoned at its time limit, still running: no new calls
            raise ModelError(f"{what}: not made, the {overall.seconds:g}s deadline had passed")
        retrying = Retrying(
            retry=retry_if_exception_type(TransientModelError),
            stop=stop_after_attempt(policy.attempts) | stop_before_delay(overall.remaining()),
            wait=wait_exponential(multiplier=policy.backoff_s, max=policy.max_backoff_s)
            + wait_random(0, policy.jitter_s),
            reraise=True,
        )
        try:
            for state in retrying:
                with state:
                    count += 1
                    with deadline_after(policy.attempt_timeout_s), backend_errors(what):
                        return attempt()
        except TransientModelError as exc:
            spent = time.monotonic() - start
            # Fewer attempts than allowed: the deadline left no time for another.
            limit = f"{overall.seconds:g}s deadline" if count < policy.attempts else "attempts"
            raise ModelError(
                f"{one_line(exc)} (gave up after {count} attempt(s) in {spent:.1f}s: {limit} used up)"
            ) from exc
    raise AssertionError("unreachable: tenacity either returns or re-raises")  # pragma: no cover
