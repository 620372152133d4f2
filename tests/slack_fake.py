"""A fake Slack Web API on 127.0.0.1 for the Slack bot tests: it answers the methods the bot calls
the way Slack does and records every call, so tests assert on what the bot really sent."""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

BOT_USER = "UBOT"
BOT_TOKEN = "xoxb-test-token"


@dataclass
class Call:
    method: str
    args: dict[str, Any]
    token: str | None
    at: float = field(default_factory=time.monotonic)


class FakeSlack:
    """``FakeSlack().start()`` serves ``base_url`` (``http://127.0.0.1:PORT/api/``).

    ``fail[method] = "error_code"`` makes the next calls of ``method`` answer ``ok: false``."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.uploads: dict[str, bytes] = {}
        self.fail: dict[str, str] = {}
        self._lock = threading.Lock()
        self._ts = itertools.count(1)
        self._files = itertools.count(1)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def base_url(self) -> str:
        return f"{self.url}/api/"

    def start(self) -> FakeSlack:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    # -- what tests read -------------------------------------------------------------------
    def of(self, method: str) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == method]

    def wait_for(self, predicate: Callable[[FakeSlack], bool], timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate(self):
                return
            time.sleep(0.02)
        methods = [c.method for c in self.calls]
        raise AssertionError(f"condition not met within {timeout}s; calls so far: {methods}")

    # -- the API ----------------------------------------------------------------------------
    def _answer(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        if method in self.fail:
            return {"ok": False, "error": self.fail[method]}
        if method == "auth.test":
            return {"ok": True, "user_id": BOT_USER, "bot_id": "BBOT", "team_id": "T1", "user": "atomwork"}
        if method == "apps.connections.open":
            return {"ok": True, "url": "wss://127.0.0.1/socket-not-used-by-these-tests"}
        if method == "chat.postMessage":
            ts = f"1700000000.{next(self._ts):06d}"
            message = {"ts": ts, "text": args.get("text", ""), "blocks": args.get("blocks", [])}
            return {"ok": True, "channel": args.get("channel"), "ts": ts, "message": message}
        if method == "chat.update":
            return {
                "ok": True,
                "channel": args.get("channel"),
                "ts": args.get("ts"),
                "text": args.get("text"),
            }
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": f"1700000000.{next(self._ts):06d}"}
        if method == "files.getUploadURLExternal":
            file_id = f"F{next(self._files):05d}"
            return {"ok": True, "file_id": file_id, "upload_url": f"{self.url}/upload/{file_id}"}
        if method == "files.completeUploadExternal":
            files = args.get("files")
            listed = json.loads(files) if isinstance(files, str) else files or []
            return {"ok": True, "files": [{"id": f["id"], "title": f.get("title")} for f in listed]}
        return {"ok": False, "error": "unknown_method"}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                path = urlparse(self.path).path
                if path.startswith("/upload/"):
                    file_id = path.rsplit("/", 1)[1]
                    with fake._lock:
                        fake.uploads[file_id] = body
                        fake.calls.append(Call("upload", {"file_id": file_id, "bytes": len(body)}, None))
                    self._send(200, "OK", "text/plain")
                    return
                if path.startswith("/respond/"):  # a slash command's response_url
                    with fake._lock:
                        fake.calls.append(Call("response_url", json.loads(body or b"{}"), None))
                    self._send(200, "ok", "text/plain")
                    return
                method = path.removeprefix("/api/")
                kind = self.headers.get("Content-Type", "")
                if "json" in kind:
                    args = json.loads(body or b"{}")
                else:
                    args = {k: v[0] for k, v in parse_qs(body.decode()).items()}
                token = (self.headers.get("Authorization") or "").removeprefix("Bearer ") or None
                with fake._lock:
                    fake.calls.append(Call(method, args, token))
                    answer = fake._answer(method, args)
                self._send(200, json.dumps(answer), "application/json")

            def _send(self, status: int, text: str, kind: str) -> None:
                data = text.encode()
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return Handler
