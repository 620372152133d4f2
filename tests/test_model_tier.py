"""The served-model tier against real HTTP servers on loopback: concurrent calls, a bound per endpoint,
requests spread over endpoints, a dead endpoint skipped and reported, retries, the deadline, streaming."""

from __future__ import annotations

import logging
import socket
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from langchain_core.messages import HumanMessage

from atomwork.errors import ModelError
from atomwork.models.endpoints import EndpointPool, NoEndpointFree
from atomwork.models.openai_compat import OpenAICompatModel
from atomwork.models.retry import RetryPolicy
from atomwork.settings import EndpointSettings
from tests.openai_fake import fake_openai

pytestmark = pytest.mark.model_requests

FAST_RETRY = RetryPolicy(attempts=3, deadline_s=10, attempt_timeout_s=5, backoff_s=0.05, jitter_s=0.0)


def _dead_url() -> str:
    with socket.socket() as s:  # bound and closed: nothing listens there
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}/v1"


def _ask(model: OpenAICompatModel, count: int) -> list[str]:
    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(lambda i: model.complete([HumanMessage(f"q{i}")]), range(count)))


def test_calls_from_several_threads_are_in_flight_at_once():
    # the server holds each call until six are in flight, or 5 s: a client that sent them one at a
    # time would take 6 x 5 s and peak at 1
    with fake_openai(delay=0.4, gather=6) as server:
        model = OpenAICompatModel(server.url, policy=FAST_RETRY)
        assert model.name == "fake"  # discovered from /models
        start = time.perf_counter()
        assert _ask(model, 6) == ["ok"] * 6
        elapsed = time.perf_counter() - start
    assert server.peak == 6  # no lock on the client side: the server could batch them
    assert elapsed < 5
    assert all("timeout" not in body for body in server.bodies)  # a client option, not a request field


def test_requests_in_flight_are_bounded_per_endpoint():
    with fake_openai(delay=0.2, gather=2) as server:
        model = OpenAICompatModel(
            server.url, model="fake", settings=EndpointSettings(max_in_flight=2), policy=FAST_RETRY
        )
        _ask(model, 6)
    assert server.peak == 2 and server.served == 6
    assert model.pool.status()[0].peak_in_flight == 2


def test_requests_are_spread_over_endpoints():
    with fake_openai(delay=0.2, gather=4) as a, fake_openai(delay=0.2, gather=4) as b:
        model = OpenAICompatModel(
            [a.url, b.url], model="fake", settings=EndpointSettings(max_in_flight=4), policy=FAST_RETRY
        )
        mark = model.mark()
        _ask(model, 8)
        # one at a time: round-robin among equally idle endpoints
        model.complete([HumanMessage("x")])
        model.complete([HumanMessage("y")])
    assert (a.peak, b.peak) == (4, 4) and a.served == b.served == 5
    usage = model.usage_since(mark)
    assert {url: t.calls for url, t in usage.by_endpoint.items()} == {a.url: 5, b.url: 5}
    assert usage.endpoint_failures == {}


def test_a_dead_endpoint_is_skipped_and_reported(caplog):
    dead = _dead_url()
    with fake_openai() as live:
        model = OpenAICompatModel(
            [dead, live.url], model="fake", settings=EndpointSettings(down_for_s=60), policy=FAST_RETRY
        )
        with caplog.at_level(logging.WARNING, logger="atomwork.models"):
            answers = [model.complete([HumanMessage(f"q{i}")]) for i in range(4)]
    assert answers == ["ok"] * 4 and live.served == 4
    first, *rest = model.calls
    assert first.endpoint == live.url and first.failed_endpoints == [dead]  # failed over at once
    assert all(c.endpoint == live.url and not c.failed_endpoints for c in rest)  # then skipped
    assert model.usage_since(0).endpoint_failures == {dead: 1}
    dead_status = next(s for s in model.pool.status() if s.url == dead)
    assert dead_status.down and dead_status.failures == 1 and dead_status.last_error
    assert [f.url for f in model.pool.failures()] == [dead]
    assert any(dead in r.getMessage() and "skipping it for 60s" in r.getMessage() for r in caplog.records)


def test_every_endpoint_dead_is_one_clear_error():
    dead1, dead2 = _dead_url(), _dead_url()
    model = OpenAICompatModel(
        [dead1, dead2], model="fake", policy=FAST_RETRY.model_copy(update={"attempts": 2})
    )
    with pytest.raises(ModelError, match=r"cannot reach the model endpoint .*gave up after 2 attempt"):
        model.complete([HumanMessage("q")])
    assert {s.url: s.failures for s in model.pool.status()} == {dead1: 2, dead2: 2}


def test_a_5xx_answer_is_retried_on_the_same_endpoint():
    with fake_openai(fail_first=1) as server:
        model = OpenAICompatModel(server.url, model="fake", policy=FAST_RETRY)
        assert model.complete([HumanMessage("q")]) == "ok"
    assert len(server.bodies) == 2 and [f.url for f in model.pool.failures()] == [server.url]
    assert model.pool.status()[0].served == 1


def test_the_deadline_bounds_a_server_that_never_answers():
    with fake_openai(delay=5) as server:
        policy = RetryPolicy(attempts=5, deadline_s=1.0, attempt_timeout_s=30, backoff_s=0.05, jitter_s=0)
        model = OpenAICompatModel(server.url, model="fake", policy=policy)
        start = time.perf_counter()
        with pytest.raises(ModelError):
            model.complete([HumanMessage("q")])
        assert time.perf_counter() - start < 3.0


def test_waiting_for_a_slot_ends_at_the_deadline():
    pool = EndpointPool(["http://a/v1"], max_in_flight=1, down_for_s=1)
    held = pool.lease(time.monotonic() + 1)
    with pytest.raises(NoEndpointFree, match="no model endpoint had a free slot"):
        pool.lease(time.monotonic() + 0.2)
    held.release()
    pool.lease(time.monotonic() + 0.2).release()
    assert pool.status()[0].served == 2


def test_stream_yields_pieces_as_they_come_and_logs_one_call():
    text = '{"task_count": 1, "tasks": []}'
    with fake_openai(delay=0.3, reply=lambda body: text) as server:
        model = OpenAICompatModel(server.url, model="fake", policy=FAST_RETRY)
        arrivals = []
        start = time.perf_counter()
        pieces = []
        for piece in model.stream([HumanMessage("plan")], json_schema={"type": "object"}, purpose="plan"):
            pieces.append(piece)
            arrivals.append(time.perf_counter() - start)
    assert "".join(pieces) == text and len(pieces) > 3
    assert arrivals[0] < arrivals[-1] - 0.15  # the first piece came well before the last
    body = server.bodies[0]
    assert body["stream"] is True and body["response_format"]["type"] == "json_schema"
    (call,) = model.calls
    assert call.streamed and call.output == text and call.endpoint == server.url
    assert call.completion_tokens == len(text) // 4 and call.prompt_tokens > 0
    assert model.pool.status()[0].in_flight == 0  # the slot was given back


def test_a_stream_read_halfway_gives_its_slot_back():
    with fake_openai(delay=0.2, reply=lambda body: "x" * 80) as server:
        model = OpenAICompatModel(server.url, model="fake", policy=FAST_RETRY)
        for _piece in model.stream([HumanMessage("q")]):
            break
    assert model.pool.status()[0].in_flight == 0 and model.calls[0].output == "xxxx"


class _FakeLlama:
    """Stands in for llama_cpp.Llama: streams a reply one token a chunk (as llama-cpp-python does)."""

    def __init__(self, reply: list[str], prompt_tokens: int) -> None:
        self.reply = reply
        self.prompt_tokens = prompt_tokens
        self.n_tokens = 0
        self.ctx = object()
        self.asked: dict = {}
        self.logprob_top = -1  # not yet started

    def start_generation(self, logprob_top: int = 0) -> None:
        self.logprob_top = logprob_top

    def create_chat_completion(self, **kwargs):
        self.asked = kwargs
        assert kwargs["stream"] is True
        assert self.logprob_top == 0, "a stream keeps no token log-probabilities"
        yield {"choices": [{"index": 0, "delta": {"role": "assistant"}, "finish_reason": None}]}
        for n, piece in enumerate(self.reply, start=1):
            self.n_tokens = self.prompt_tokens + n
            yield {"choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}]}
        yield {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}


class _FakePerf:
    def __init__(self, llama: _FakeLlama, evaluated: int) -> None:
        self.llama, self.evaluated = llama, evaluated

    def llama_perf_context_reset(self, ctx) -> None:
        pass

    def llama_perf_context(self, ctx):
        return type("Perf", (), {"n_p_eval": self.evaluated, "n_eval": len(self.llama.reply)})()


def test_llamacpp_streams_under_its_lock_and_counts_tokens():
    import threading

    from atomwork.models.base import ChatModel
    from atomwork.models.llamacpp import LlamaCppModel

    llama = _FakeLlama(['{"a"', ": ", "1}"], prompt_tokens=40)
    model = LlamaCppModel.__new__(LlamaCppModel)  # no GGUF: the native handle is the fake above
    ChatModel.__init__(model)  # the call log
    model.name, model._llm, model._llama_cpp = "fake-gguf", llama, _FakePerf(llama, evaluated=10)
    model._lock = threading.Lock()
    pieces = []
    for piece in model.stream([HumanMessage("q")], json_schema={"type": "object"}, purpose="plan"):
        assert model._lock.locked()  # one generation at a time, also while the reader reads
        pieces.append(piece)
    assert pieces == ['{"a"', ": ", "1}"] and not model._lock.locked()
    assert llama.asked["response_format"] == {"type": "json_object", "schema": {"type": "object"}}
    (call,) = model.calls
    assert call.streamed and call.output == '{"a": 1}'
    assert (call.prompt_tokens, call.completion_tokens, call.cached_prompt_tokens) == (40, 3, 30)
