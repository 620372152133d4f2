"""The model contract every backend implements, and the call log with its token accounting.

A backend turns chat messages into text, optionally constrained by a JSON schema; ``structured``
and ``tool_arguments`` build on ``complete``, backends with native tool calling override the latter.
"""

from __future__ import annotations

import json
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any

from langchain_core.messages import BaseMessage
from pydantic import BaseModel, Field

from atomwork.errors import ModelError
from atomwork.models.purpose import Purpose


class Completion(BaseModel):
    """What a backend's ``_complete`` may return instead of bare text: the text and its token counts."""

    text: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_prompt_tokens: int = 0
    """Prompt tokens served from a KV/prefix cache instead of being evaluated again."""


class ModelCall(BaseModel):
    """One call made to a model, kept for logs, tests and token accounting.

    Token counts are the backend's own (llama.cpp's and the server's ``usage``); 0 means
    the backend did not report them. ``stop`` and ``repeat_penalty`` are the decoding
    controls the caller asked for (None: the backend's default)."""

    purpose: Purpose
    prompt: str
    schema_name: str | None = None
    output: str = ""
    seconds: float = 0.0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_prompt_tokens: int = 0
    stop: list[str] | None = None
    repeat_penalty: float | None = None


class UsageTotals(BaseModel):
    """Sums over a set of model calls."""

    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_prompt_tokens: int = 0
    seconds: float = 0.0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def add(self, call: ModelCall) -> None:
        self.calls += 1
        self.prompt_tokens += call.prompt_tokens
        self.completion_tokens += call.completion_tokens
        self.cached_prompt_tokens += call.cached_prompt_tokens
        self.seconds += call.seconds


class Usage(UsageTotals):
    """Token and time use of a model since a mark, in total and per purpose (plan, args, score, ...)."""

    by_purpose: dict[Purpose, UsageTotals] = Field(default_factory=dict)

    @classmethod
    def of(cls, calls: Sequence[ModelCall]) -> Usage:
        usage = cls()
        for call in calls:
            usage.add(call)
            usage.by_purpose.setdefault(call.purpose, UsageTotals()).add(call)
        return usage


class _Recorded(Completion):
    """A Completion plus the decoding controls it was asked with, handed from ``complete`` to ``_record``."""

    stop: list[str] | None = None
    repeat_penalty: float | None = None


class ChatModel(ABC):
    """A chat model backend. Subclasses implement :meth:`_complete`."""

    name: str = "model"

    def __init__(self) -> None:
        self._log_lock = threading.Lock()
        self.calls: list[ModelCall] = []

    @abstractmethod
    def _complete(
        self,
        messages: Sequence[BaseMessage],
        *,
        json_schema: dict[str, Any] | None,
        max_tokens: int,
        temperature: float,
        purpose: Purpose,
        stop: Sequence[str] | None = None,
        repeat_penalty: float | None = None,
    ) -> str | Completion:
        """Return the assistant's text; with ``json_schema`` it must be JSON obeying it.

        ``purpose`` names the agent step (plan, args, score, ...) for logs, usage and fakes.
        A :class:`Completion` also reports token counts for the call log."""

    def complete(
        self,
        messages: Sequence[BaseMessage],
        *,
        json_schema: dict[str, Any] | None = None,
        max_tokens: int = 512,
        temperature: float = 0.0,
        purpose: Purpose = Purpose.CHAT,
        stop: Sequence[str] | None = None,
        repeat_penalty: float | None = None,
    ) -> str:
        """Generate the assistant's reply.

        ``stop``: strings that end generation (not included in the reply).
        ``repeat_penalty``: > 1.0 discourages repeating tokens (llama.cpp ``repeat_penalty``,
        vLLM ``repetition_penalty``); None keeps the backend's default (off)."""
        purpose = Purpose.of(purpose)  # a plain string from an untyped caller fails here, not in a log
        stop = list(stop) if stop else None
        start = time.perf_counter()
        reply = self._complete(
            messages,
            json_schema=json_schema,
            max_tokens=max_tokens,
            temperature=temperature,
            purpose=purpose,
            stop=stop,
            repeat_penalty=repeat_penalty,
        )
        seconds = time.perf_counter() - start
        done = reply if isinstance(reply, Completion) else Completion(text=reply)
        # The decoding controls travel inside the Completion so that ``_record`` keeps its
        # five-argument signature (tests override it with that signature).
        self._record(
            purpose,
            messages,
            json_schema,
            _Recorded(
                **done.model_dump(exclude={"stop", "repeat_penalty"}),
                stop=stop,
                repeat_penalty=repeat_penalty,
            ),
            seconds,
        )
        return done.text

    def structured(
        self,
        messages: Sequence[BaseMessage],
        schema: dict[str, Any],
        *,
        max_tokens: int = 1024,
        purpose: Purpose = Purpose.STRUCTURED,
        stop: Sequence[str] | None = None,
        repeat_penalty: float | None = None,
    ) -> dict[str, Any]:
        """Generate a JSON object constrained by ``schema`` and parse it.

        ``max_tokens`` caps the call, but the grammar alone cannot stop a value from eating the
        whole budget (a 300-digit number, an endless string); give schemas integer
        ``maximum``/``minimum``, string ``maxLength`` and array ``maxItems`` so it can."""
        text = self.complete(
            messages,
            json_schema=schema,
            max_tokens=max_tokens,
            purpose=purpose,
            stop=stop,
            repeat_penalty=repeat_penalty,
        )
        return parse_json_object(text, self.name)

    def tool_arguments(
        self,
        messages: Sequence[BaseMessage],
        *,
        tool_name: str,
        description: str,
        parameters: dict[str, Any],
        purpose: Purpose = Purpose.TOOL_CALL,
    ) -> dict[str, Any]:
        """Arguments for a call of the named tool. Default: constrained JSON of ``parameters``."""
        return self.structured(messages, parameters, purpose=purpose)

    def _record(
        self,
        purpose: Purpose,
        messages: Sequence[BaseMessage],
        schema: dict[str, Any] | None,
        output: str | Completion,
        seconds: float = 0.0,
    ) -> None:
        """Append one call to the log; ``output`` is the text, or a Completion with its token counts."""
        prompt = "\n".join(f"[{m.type}] {m.content}" for m in messages)
        name = schema.get("title") if isinstance(schema, dict) else None
        done = output if isinstance(output, Completion) else Completion(text=output)
        asked = done if isinstance(done, _Recorded) else _Recorded(text=done.text)
        call = ModelCall(
            purpose=purpose,
            prompt=prompt,
            schema_name=name,
            output=done.text,
            seconds=seconds,
            prompt_tokens=done.prompt_tokens,
            completion_tokens=done.completion_tokens,
            cached_prompt_tokens=done.cached_prompt_tokens,
            stop=asked.stop,
            repeat_penalty=asked.repeat_penalty,
        )
        with self._log_lock:
            self.calls.append(call)

    def mark(self) -> int:
        """A position in the call log; pass it to :meth:`usage_since` to measure what came after."""
        with self._log_lock:
            return len(self.calls)

    def usage_since(self, index: int = 0) -> Usage:
        """Calls, tokens and seconds spent since ``index`` (a :meth:`mark`), in total and per purpose."""
        with self._log_lock:
            calls = self.calls[index:]
        return Usage.of(calls)

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release resources (servers, native handles)."""


def estimate_tokens(text: str) -> int:
    """A cheap token estimate (about four characters a token) for backends that report none."""
    return (len(text) + 3) // 4


def parse_json_object(text: str, model_name: str) -> dict[str, Any]:
    """Parse a model's JSON output, tolerating code fences; ModelError otherwise."""
    cleaned = text.strip()
    if cleaned.startswith("```"):
        cleaned = cleaned.strip("`")
        cleaned = cleaned[cleaned.find("{") :] if "{" in cleaned else cleaned
    try:
        value = json.loads(cleaned)
    except json.JSONDecodeError as exc:
        start, end = cleaned.find("{"), cleaned.rfind("}")
        if start != -1 and end > start:
            try:
                value = json.loads(cleaned[start : end + 1])
            except json.JSONDecodeError:
                raise ModelError(f"{model_name} returned invalid JSON: {text[:200]!r}") from exc
        else:
            raise ModelError(f"{model_name} returned invalid JSON: {text[:200]!r}") from exc
    if not isinstance(value, dict):
        raise ModelError(f"{model_name} returned JSON that is not an object: {text[:200]!r}")
    return value
