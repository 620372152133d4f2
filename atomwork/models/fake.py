"""A scripted model for unit tests of the orchestration logic.

It answers from canned replies and logs estimated token counts (about four characters a token).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from langchain_core.messages import BaseMessage

from atomwork.errors import ModelError
from atomwork.models.base import ChatModel, Completion, estimate_tokens
from atomwork.models.decoding import Decoding
from atomwork.models.purpose import Purpose

Responder = Callable[[Purpose, Sequence[BaseMessage], dict[str, Any] | None], Any]
"""``(purpose, messages, json_schema) -> str | dict``; a dict is sent as JSON."""


class ScriptedModel(ChatModel):
    """Answers from a responder function or from queues of canned replies per purpose.

    ``ScriptedModel({"plan": [plan_json], "score": [{"score": 8, "reason": "ok"}]})``
    pops replies in order for each purpose; a purpose with a single remaining reply
    keeps returning it. An unscripted purpose raises ModelError, so a test notices
    calls it did not expect.

    Token counts in the call log are estimates (``len(text) / 4``), enough for tests of
    usage accounting; ``stop`` and ``repeat_penalty`` are ignored but logged.
    """

    name = "scripted"

    def __init__(self, script: Mapping[Purpose | str, list[Any]] | Responder) -> None:
        super().__init__()
        self._responder = script if callable(script) else None
        # Keys are checked up front: a misspelt purpose would otherwise only show as a missing reply.
        self._queues = (
            {Purpose.of(k): list(v) for k, v in script.items()} if isinstance(script, Mapping) else {}
        )
        self._lock = threading.Lock()

    def _complete(
        self,
        messages: Sequence[BaseMessage],
        decoding: Decoding,
    ) -> Completion:
        if self._responder is not None:
            reply = self._responder(decoding.purpose, messages, decoding.json_schema)
        else:
            with self._lock:
                queue = self._queues.get(decoding.purpose)
                if not queue:
                    raise ModelError(f"scripted model has no reply for purpose {decoding.purpose!r}")
                reply = queue.pop(0) if len(queue) > 1 else queue[0]
        if isinstance(reply, Exception):
            raise reply
        text = reply if isinstance(reply, str) else json.dumps(reply)
        prompt = "".join(str(m.content) for m in messages)
        return Completion(
            text=text, prompt_tokens=estimate_tokens(prompt), completion_tokens=estimate_tokens(text)
        )

    def purposes(self) -> list[Purpose]:
        return [c.purpose for c in self.calls]
