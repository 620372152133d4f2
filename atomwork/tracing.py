"""OpenTelemetry spans of a run: run → plan → task → model call and tool call.

Off by default. ``RunSettings(tracing="console")`` or ``ATOMWORK_TRACING=console|otlp`` turns it on;
the OTLP exporter (gRPC) reads the standard ``OTEL_EXPORTER_OTLP_ENDPOINT`` (default
``http://localhost:4317``). When off, spans go to OpenTelemetry's global tracer provider, which
records nothing unless the application installed one, as instrumented libraries do.
"""

from __future__ import annotations

import atexit
import os
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from enum import StrEnum
from typing import Final

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SimpleSpanProcessor
from opentelemetry.trace import Span, Status, StatusCode, Tracer

from atomwork.errors import ConfigError

__all__ = [
    "TRACING_ENV",
    "Attr",
    "SpanName",
    "TracingMode",
    "annotate",
    "mark_failed",
    "run_tracing",
    "set_attributes",
    "span",
    "tracing_mode",
    "use_tracer_provider",
]

TRACING_ENV: Final = "ATOMWORK_TRACING"
_SCOPE: Final = "atomwork"
_MAX_TEXT: Final = 500
"""Longest text attribute (a goal): spans are for finding where time went, not for the data."""


class TracingMode(StrEnum):
    OFF = "off"
    """Spans go to OpenTelemetry's global provider (a no-op unless the application set one up)."""
    CONSOLE = "console"
    """Every finished span is printed to stdout as JSON."""
    OTLP = "otlp"
    """Spans are sent to an OpenTelemetry collector over OTLP/gRPC (``OTEL_EXPORTER_OTLP_ENDPOINT``)."""


class SpanName(StrEnum):
    RUN = "atomwork.run"
    PLAN = "atomwork.plan"
    REPLAN = "atomwork.replan"
    TASK = "atomwork.task"
    TOOL = "atomwork.tool"
    MODEL = "atomwork.model"
    ANSWER = "atomwork.answer"


class Attr(StrEnum):
    """Span attribute names; token counts use the OpenTelemetry GenAI conventions."""

    RUN_ID = "atomwork.run_id"
    GOAL = "atomwork.goal"
    ROUND = "atomwork.round"
    TASK_ID = "atomwork.task_id"
    TOOL = "atomwork.tool"
    DEPARTMENT = "atomwork.department"
    PURPOSE = "atomwork.purpose"
    STATUS = "atomwork.status"
    STOP_REASON = "atomwork.stop_reason"
    ROWS = "atomwork.rows"
    TASKS = "atomwork.tasks"
    MODEL = "gen_ai.request.model"
    PROMPT_TOKENS = "gen_ai.usage.input_tokens"
    COMPLETION_TOKENS = "gen_ai.usage.output_tokens"


AttrValue = str | bool | int | float


def tracing_mode(setting: TracingMode | str | None = None) -> TracingMode:
    """``setting``, or ``$ATOMWORK_TRACING`` when it is None, or off; a ConfigError for a bad value."""
    text = setting if setting is not None else os.environ.get(TRACING_ENV, "").strip().lower() or "off"
    try:
        return TracingMode(text)
    except ValueError:
        known = ", ".join(m.value for m in TracingMode)
        raise ConfigError(f"bad tracing mode {text!r} ({TRACING_ENV}); use one of: {known}") from None


_lock = threading.Lock()
_providers: dict[TracingMode, TracerProvider] = {}
_override: TracerProvider | None = None
_active: ContextVar[Tracer | None] = ContextVar("atomwork_tracer", default=None)


def _provider(mode: TracingMode) -> TracerProvider:
    """atomwork's own provider for ``mode`` (built once, flushed when the process exits)."""
    with _lock:
        provider = _providers.get(mode)
        if provider is None:
            provider = TracerProvider(resource=Resource.create({"service.name": _SCOPE}))
            if mode is TracingMode.CONSOLE:
                provider.add_span_processor(SimpleSpanProcessor(ConsoleSpanExporter()))
            else:
                # Imported here: gRPC is heavy and only this mode needs it.
                from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

                provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
            atexit.register(provider.shutdown)
            _providers[mode] = provider
        return provider


def _chosen_provider(mode: TracingMode) -> trace.TracerProvider:
    """The override of :func:`use_tracer_provider`, else atomwork's provider for ``mode``, else
    (off) OpenTelemetry's global one."""
    with _lock:
        override = _override
    if override is not None:
        return override
    if mode is TracingMode.OFF:
        return trace.get_tracer_provider()
    return _provider(mode)


@contextmanager
def use_tracer_provider(provider: TracerProvider) -> Iterator[TracerProvider]:
    """Inside the block, atomwork's spans go to ``provider`` whatever the mode (tests use an SDK
    provider with an in-memory exporter)."""
    global _override
    with _lock:
        previous, _override = _override, provider
    try:
        yield provider
    finally:
        with _lock:
            _override = previous


@contextmanager
def run_tracing(setting: TracingMode | str | None) -> Iterator[None]:
    """Spans opened inside the block (on any thread started with a copy of its context) use the
    tracer of ``setting``; finished spans are flushed at the end."""
    mode = tracing_mode(setting)
    provider = _chosen_provider(mode)
    token = _active.set(provider.get_tracer(_SCOPE))
    try:
        yield
    finally:
        _active.reset(token)
        if isinstance(provider, TracerProvider) and provider is not trace.get_tracer_provider():
            # Ours: a run's spans reach the exporter even if the process ends next (an unreachable
            # collector delays the run by at most two seconds).
            provider.force_flush(timeout_millis=2000)


def _clean(attributes: Mapping[Attr, AttrValue | None]) -> dict[str, AttrValue]:
    cleaned: dict[str, AttrValue] = {}
    for key, value in attributes.items():
        if value is None:
            continue
        cleaned[str(key)] = value[:_MAX_TEXT] if isinstance(value, str) else value
    return cleaned


@contextmanager
def span(name: SpanName, attributes: Mapping[Attr, AttrValue | None] | None = None) -> Iterator[Span]:
    """A span around the block, child of the current one; an exception marks it failed and goes on.
    Attributes whose value is None are left out."""
    tracer = _active.get() or _chosen_provider(tracing_mode()).get_tracer(_SCOPE)
    with tracer.start_as_current_span(str(name), attributes=_clean(attributes or {})) as current:
        yield current


def set_attributes(current: Span, attributes: Mapping[Attr, AttrValue | None]) -> None:
    """Add ``attributes`` (None values left out) to ``current``."""
    current.set_attributes(_clean(attributes))


def mark_failed(current: Span, reason: str) -> None:
    """Mark ``current`` failed without an exception (a task that failed its checks)."""
    current.set_status(Status(StatusCode.ERROR, reason[:_MAX_TEXT]))


def annotate(attributes: Mapping[Attr, AttrValue | None]) -> None:
    """Add ``attributes`` to the span open here (nothing when none is recording)."""
    trace.get_current_span().set_attributes(_clean(attributes))
