"""A real OpenAI-compatible HTTP server on 127.0.0.1 for tests: it answers chat completions (plain or
streamed as server-sent events) after a delay, and records how many requests it had in flight at once.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Reply = Callable[[dict[str, Any]], str]
"""The assistant's text for a request body."""


class FakeOpenAIServer:
    """Serves ``/v1/models`` and ``/v1/chat/completions``.

    ``delay``: seconds each completion takes (spread over the pieces when streamed). ``fail_first``:
    that many completion requests answer HTTP 500 first. ``reply``: the text for a request (default:
    ``"ok"``). ``gather``: completions wait (at most 5 s) until that many have been in flight at
    once, so a concurrency test does not hang on how fast a busy machine starts client threads.
    Records ``bodies``, the current and ``peak`` number of completions in flight."""

    def __init__(
        self,
        *,
        delay: float = 0.0,
        fail_first: int = 0,
        reply: Reply | None = None,
        model: str = "fake",
        gather: int = 0,
    ) -> None:
        self.delay = delay
        self.gather = gather
        self.fail_first = fail_first
        self.reply = reply or (lambda body: "ok")
        self.model = model
        self.lock = threading.Lock()
        self.arrived = threading.Condition(self.lock)
        self.in_flight = 0
        self.peak = 0
        self.served = 0
        self.bodies: list[dict[str, Any]] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/v1"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> FakeOpenAIServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # quiet test output
                pass

            def _json(self, status: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                if self.path.rstrip("/") == "/v1/models":
                    self._json(200, {"object": "list", "data": [{"id": fake.model, "object": "model"}]})
                else:
                    self._json(404, {"error": {"message": "not found"}})

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))))
                with fake.lock:
                    fake.bodies.append(body)
                    failing = fake.fail_first > 0
                    fake.fail_first -= 1 if failing else 0
                    fake.in_flight += 1
                    fake.peak = max(fake.peak, fake.in_flight)
                    fake.arrived.notify_all()
                    fake.arrived.wait_for(lambda: fake.peak >= fake.gather, timeout=5)
                try:
                    if failing:
                        self._json(500, {"error": {"message": "overloaded"}})
                    elif body.get("stream"):
                        self._stream(body)
                    else:
                        time.sleep(fake.delay)
                        self._json(200, _completion(fake.model, fake.reply(body)))
                finally:
                    with fake.lock:
                        fake.in_flight -= 1
                        fake.served += 0 if failing else 1

            def _stream(self, body: dict[str, Any]) -> None:
                text = fake.reply(body)
                pieces = [text[i : i + 4] for i in range(0, len(text), 4)] or [""]
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Connection", "close")
                self.end_headers()
                for piece in pieces:
                    time.sleep(fake.delay / len(pieces))
                    self._event(_chunk(fake.model, {"content": piece}))
                self._event({**_chunk(fake.model, {}), "choices": [], "usage": _usage(body, text)})
                self.wfile.write(b"data: [DONE]\n\n")
                self.wfile.flush()
                self.close_connection = True

            def _event(self, payload: dict[str, Any]) -> None:
                self.wfile.write(b"data: " + json.dumps(payload).encode() + b"\n\n")
                self.wfile.flush()

        return Handler


def _usage(body: dict[str, Any], text: str) -> dict[str, int]:
    prompt = sum(len(str(m.get("content", ""))) for m in body.get("messages", [])) // 4
    return {
        "prompt_tokens": prompt,
        "completion_tokens": len(text) // 4,
        "total_tokens": prompt + len(text) // 4,
    }


def _completion(model: str, text: str) -> dict[str, Any]:
    return {
        "id": "cmpl",
        "object": "chat.completion",
        "created": 0,
        "model": model,
        "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": text}}],
        "usage": {"prompt_tokens": 10, "completion_tokens": 2, "total_tokens": 12},
    }


def _chunk(model: str, delta: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": "cmpl",
        "object": "chat.completion.chunk",
        "created": 0,
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": None}],
    }


@contextmanager
def fake_openai(**options: Any) -> Iterator[FakeOpenAIServer]:
    server = FakeOpenAIServer(**options).start()
    try:
        yield server
    finally:
        server.stop()
