"""OpenTelemetry spans of a scripted run, read back from the SDK's in-memory exporter."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator

import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

from atomwork import tracing
from atomwork.engine import Engine
from atomwork.errors import ConfigError
from atomwork.models import ScriptedModel
from atomwork.outcome import StopReason
from atomwork.settings import RunSettings
from atomwork.tracing import TRACING_ENV, TracingMode, tracing_mode, use_tracer_provider

from .fakes import make_registry, task

GOOD = {"reason": "meets the criteria", "score": 8}


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    with use_tracer_provider(provider):
        yield exporter
    provider.shutdown()


def _run(**settings):
    plan = {
        "tasks": [
            task("t1", "sales_by_region", "sales", {"period": "1998-Q2"}),
            task("t2", "sales_by_region", "sales", {"period": "broken"}),
            task("t3", "top_value", "analysis", {"table": "$t1", "value_column": "revenue"}, ["t1"]),
        ]
    }
    model = ScriptedModel({"plan": [plan], "score": [GOOD], "score_final": [GOOD], "answer": ["done"]})
    chosen = RunSettings(max_replans=0, score_tasks_with_model=True, **settings)
    return Engine(model, make_registry(), settings=chosen).run("sales by region for 1998-Q2, top region")


def _one(spans: list[ReadableSpan], name: str, **attributes) -> ReadableSpan:
    found = [
        s
        for s in spans
        if s.name == name and all(s.attributes.get(k) == v for k, v in attributes.items())  # type: ignore[union-attr]
    ]
    assert len(found) == 1, f"{len(found)} spans {name} {attributes}: {[s.name for s in spans]}"
    return found[0]


def test_a_run_is_traced_as_run_plan_task_tool_and_model_spans(spans):
    result = _run()
    finished = list(spans.get_finished_spans())
    run = _one(finished, "atomwork.run")
    assert run.parent is None
    assert run.attributes["atomwork.run_id"] == result.run_id
    assert run.attributes["atomwork.goal"] == "sales by region for 1998-Q2, top region"
    assert run.attributes["atomwork.stop_reason"] == str(result.stop_reason) == "replan_budget_exhausted"
    assert run.attributes["atomwork.tasks"] == 3
    assert run.attributes["gen_ai.usage.input_tokens"] == result.usage.prompt_tokens > 0
    trace_ids = {s.context.trace_id for s in finished}
    assert trace_ids == {run.context.trace_id}, "every span belongs to the run's trace"

    plan = _one(finished, "atomwork.plan")
    assert plan.parent.span_id == run.context.span_id and plan.attributes["atomwork.tasks"] == 3
    plan_call = _one(finished, "atomwork.model", **{"atomwork.purpose": "plan"})
    assert plan_call.parent.span_id == plan.context.span_id
    assert plan_call.attributes["gen_ai.request.model"] == "scripted"
    assert plan_call.attributes["gen_ai.usage.input_tokens"] > 0
    assert plan_call.attributes["gen_ai.usage.output_tokens"] > 0

    good = _one(finished, "atomwork.task", **{"atomwork.task_id": "t1"})
    assert good.parent.span_id == run.context.span_id  # tasks run on worker threads, under the run
    assert good.attributes["atomwork.tool"] == "sales_by_region"
    assert good.attributes["atomwork.department"] == "sales"
    assert good.attributes["atomwork.status"] == "done" and good.attributes["atomwork.rows"] == 5
    assert good.status.status_code != StatusCode.ERROR
    tool = _one(finished, "atomwork.tool", **{"atomwork.task_id": "t1"})
    assert tool.parent.span_id == good.context.span_id
    assert tool.attributes["atomwork.tool"] == "sales_by_region" and tool.attributes["atomwork.rows"] == 5
    scores = [
        s for s in finished if s.name == "atomwork.model" and s.attributes["atomwork.purpose"] == "score"
    ]
    assert good.context.span_id in {s.parent.span_id for s in scores}  # the task's own evaluation

    bad = _one(finished, "atomwork.task", **{"atomwork.task_id": "t2"})
    assert bad.attributes["atomwork.status"] == "failed"
    assert bad.status.status_code == StatusCode.ERROR and "broken" in bad.status.description
    bad_tool = _one(finished, "atomwork.tool", **{"atomwork.task_id": "t2"})
    assert bad_tool.status.status_code == StatusCode.ERROR
    assert any(e.name == "exception" for e in bad_tool.events)  # the ToolError, recorded

    answer = _one(finished, "atomwork.answer")
    assert answer.parent.span_id == run.context.span_id
    written = _one(finished, "atomwork.model", **{"atomwork.purpose": "answer"})
    assert written.parent.span_id == answer.context.span_id


def test_the_mode_comes_from_the_setting_or_the_environment(monkeypatch):
    monkeypatch.delenv(TRACING_ENV, raising=False)
    assert tracing_mode() is TracingMode.OFF
    monkeypatch.setenv(TRACING_ENV, "OTLP")
    assert tracing_mode() is TracingMode.OTLP
    monkeypatch.setenv(TRACING_ENV, "jaeger")
    with pytest.raises(
        ConfigError, match="bad tracing mode 'jaeger' \\(ATOMWORK_TRACING\\); use one of: off"
    ):
        tracing_mode()
    assert tracing_mode("console") is TracingMode.CONSOLE  # a setting wins over the environment


def test_console_tracing_prints_the_spans_of_a_run():
    code = """
from atomwork.engine import Engine
from atomwork.models import ScriptedModel
from atomwork.settings import RunSettings
from tests.fakes import make_registry, task
plan = {"tasks": [task("t1", "sales_by_region", "sales", {"period": "1998"})]}
model = ScriptedModel({"plan": [plan], "answer": ["done"]})
Engine(model, make_registry(), settings=RunSettings(tracing="console")).run("sales by region for 1998")
"""
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    printed = []
    decoder = json.JSONDecoder()
    text = done.stdout
    while text.strip():
        text = text.lstrip()
        span, end = decoder.raw_decode(text)
        printed.append(span)
        text = text[end:]
    names = {span["name"] for span in printed}
    assert {"atomwork.run", "atomwork.plan", "atomwork.task", "atomwork.tool", "atomwork.model"} <= names
    run = next(span for span in printed if span["name"] == "atomwork.run")
    assert run["attributes"]["atomwork.stop_reason"] == "completed"
    assert run["resource"]["attributes"]["service.name"] == "atomwork"


def test_a_run_with_tracing_off_sets_up_no_exporter(monkeypatch):
    monkeypatch.delenv(TRACING_ENV, raising=False)
    assert _run().stop_reason == StopReason.REPLAN_BUDGET_EXHAUSTED
    assert tracing._providers == {}  # no console or OTLP exporter was built


def test_otlp_tracing_sends_the_spans_to_the_collector_named_by_the_environment(tmp_path):
    from concurrent import futures

    import grpc
    from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc

    received: list[str] = []

    class Collector(trace_service_pb2_grpc.TraceServiceServicer):
        def Export(self, request, context):
            for resource in request.resource_spans:
                for scope in resource.scope_spans:
                    received.extend(span.name for span in scope.spans)
            return trace_service_pb2.ExportTraceServiceResponse()

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    trace_service_pb2_grpc.add_TraceServiceServicer_to_server(Collector(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    code = """
from atomwork.engine import Engine
from atomwork.models import ScriptedModel
from tests.fakes import make_registry, task
plan = {"tasks": [task("t1", "sales_by_region", "sales", {"period": "1998"})]}
model = ScriptedModel({"plan": [plan], "answer": ["done"]})
Engine(model, make_registry()).run("sales by region for 1998")
"""
    env = {
        **os.environ,
        TRACING_ENV: "otlp",
        "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{port}",
        "OTEL_EXPORTER_OTLP_INSECURE": "true",
    }
    try:
        subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, timeout=120, check=True)
    finally:
        server.stop(grace=None)
    assert {"atomwork.run", "atomwork.plan", "atomwork.task", "atomwork.tool", "atomwork.model"} <= set(
        received
    )
