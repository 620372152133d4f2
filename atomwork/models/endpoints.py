"""Which of several model servers takes the next request: at most ``max_in_flight`` requests per
endpoint, the least busy healthy one first (round-robin among equals), a failed one skipped for a while.

Used by :class:`~atomwork.models.openai_compat.OpenAICompatModel`; nothing here speaks HTTP.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from types import TracebackType

from pydantic import BaseModel, ConfigDict, Field

from atomwork.errors import ConfigError, ModelError

__all__ = ["EndpointFailure", "EndpointPool", "EndpointStatus", "Lease", "NoEndpointFree"]

log = logging.getLogger("atomwork.models")

MAX_FAILURES_KEPT = 200
"""Failure records kept per pool (the oldest are dropped)."""


class NoEndpointFree(ModelError):
    """Every endpoint stayed at its in-flight bound until the call's deadline."""


class EndpointFailure(BaseModel):
    """One failed request: which endpoint, what went wrong, and how long it is skipped for."""

    model_config = ConfigDict(frozen=True)

    url: str
    error: str
    at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    skipped_for_s: float


class EndpointStatus(BaseModel):
    """A snapshot of one endpoint, for logs, health pages and tests."""

    model_config = ConfigDict(frozen=True)

    url: str
    in_flight: int
    peak_in_flight: int
    served: int
    failures: int
    down: bool
    """Skipped now: it failed less than ``down_for_s`` ago."""
    last_error: str = ""


@dataclass
class _Endpoint:
    url: str
    in_flight: int = 0
    peak_in_flight: int = 0
    served: int = 0
    failures: int = 0
    down_until: float = 0.0
    last_error: str = ""


class EndpointPool:
    """Hands out request slots on ``urls``, ``max_in_flight`` per endpoint.

    :meth:`lease` waits for a free slot on a healthy endpoint (the one with fewest requests in
    flight; ties go round-robin). An endpoint whose request failed is skipped for ``down_for_s``
    while another is up; when all are down, the one that failed longest ago is tried again, so a
    short outage of every server does not wait out the whole pause. Thread-safe.
    """

    def __init__(
        self,
        urls: Sequence[str],
        *,
        max_in_flight: int,
        down_for_s: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not urls:
            raise ConfigError("a model needs at least one endpoint URL")
        if len(set(urls)) != len(urls):
            raise ConfigError(f"model endpoint URLs repeat: {', '.join(urls)}")
        self._endpoints = [_Endpoint(url) for url in urls]
        self._max = max_in_flight
        self._down_for = down_for_s
        self._clock = clock
        self._turn = 0
        self._changed = threading.Condition()
        self._failures: deque[EndpointFailure] = deque(maxlen=MAX_FAILURES_KEPT)

    @property
    def urls(self) -> list[str]:
        return [e.url for e in self._endpoints]

    def lease(self, deadline: float) -> Lease:
        """A slot on the best endpoint, waiting until ``deadline`` (on :attr:`clock`'s scale) for one
        to free up; :class:`NoEndpointFree` after that."""
        with self._changed:
            while True:
                chosen = self._choose()
                if chosen is not None:
                    chosen.in_flight += 1
                    chosen.peak_in_flight = max(chosen.peak_in_flight, chosen.in_flight)
                    return Lease(self, chosen.url)
                left = deadline - self._clock()
                if left <= 0:
                    raise NoEndpointFree(
                        f"no model endpoint had a free slot before the deadline ({len(self._endpoints)} "
                        f"endpoint(s), {self._max} requests in flight each)"
                    )
                self._changed.wait(timeout=left)

    def _choose(self) -> _Endpoint | None:
        count = len(self._endpoints)
        order = [self._endpoints[(self._turn + i) % count] for i in range(count)]
        free = [e for e in order if e.in_flight < self._max]
        clock = self._clock()
        up = [e for e in free if e.down_until <= clock]
        if up:
            best = min(up, key=lambda e: e.in_flight)  # min keeps the first of equals: round-robin
        elif free and all(e.down_until > clock for e in self._endpoints):
            best = min(free, key=lambda e: e.down_until)  # every endpoint is down: probe the oldest
        else:
            return None  # the healthy endpoints are busy: wait for one rather than use a broken one
        self._turn = (self._endpoints.index(best) + 1) % count
        return best

    def _release(self, url: str, error: str | None, used: bool = True) -> None:
        with self._changed:
            endpoint = next(e for e in self._endpoints if e.url == url)
            endpoint.in_flight -= 1
            if used and error is not None:
                endpoint.failures += 1
                endpoint.last_error = error
                endpoint.down_until = self._clock() + self._down_for
                self._failures.append(EndpointFailure(url=url, error=error, skipped_for_s=self._down_for))
            elif used:
                endpoint.served += 1
                endpoint.down_until = 0.0  # it answered: up again
            self._changed.notify_all()
        if error is not None:
            others = len(self._endpoints) - 1
            log.warning(
                "model endpoint %s failed (%s); %s",
                url,
                error,
                f"skipping it for {self._down_for:g}s" if others else "retrying it",
            )

    def status(self) -> list[EndpointStatus]:
        with self._changed:
            clock = self._clock()
            return [
                EndpointStatus(
                    url=e.url,
                    in_flight=e.in_flight,
                    peak_in_flight=e.peak_in_flight,
                    served=e.served,
                    failures=e.failures,
                    down=e.down_until > clock,
                    last_error=e.last_error,
                )
                for e in self._endpoints
            ]

    def failures(self) -> list[EndpointFailure]:
        """The latest failed requests, oldest first."""
        with self._changed:
            return list(self._failures)


class Lease:
    """One request slot on :attr:`url`; give it back with :meth:`release` or by leaving a ``with``
    block (an exception leaving the block is not the endpoint's fault unless :meth:`fail` was called)."""

    def __init__(self, pool: EndpointPool, url: str) -> None:
        self._pool = pool
        self.url = url
        self._open = True

    def release(self, error: str | None = None) -> None:
        """Free the slot; ``error`` marks the endpoint failed (skipped for a while). Idempotent."""
        if self._open:
            self._open = False
            self._pool._release(self.url, error)

    def fail(self, error: str) -> None:
        self.release(error)

    def cancel(self) -> None:
        """Give the slot back unused: the endpoint is neither credited nor blamed."""
        if self._open:
            self._open = False
            self._pool._release(self.url, None, used=False)

    def __enter__(self) -> Lease:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()
