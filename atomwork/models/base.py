"""The model contract every backend implements.

A backend turns chat messages into text, optionally constrained by a JSON schema
(structured output). ``structured`` and ``tool_arguments`` build on ``complete``;
backends with native tool calling (vLLM) override ``tool_arguments``.
"""

from __future__ import annotations

import json
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any

from langchain_core.messages import BaseMessage
from pydantic import BaseModel

from atomwork.errors import ModelError


class ModelCall(BaseModel):
    """One call made to a model, kept for logs and tests."""

    purpose: str
    prompt: str
    schema_name: str | None = None
    output: str = ""
    seconds: float = 0.0


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
        purpose: str,
    ) -> str:
        """Return the assistant's text; with ``json_schema`` it must be JSON obeying it.

        ``purpose`` names the agent step (plan, args, score, ...) for logs and fakes."""

    def complete(
        self,
        messages: Sequence[BaseMessage],
        *,
        json_schema: dict[str, Any] | None = None,
        max_tokens: int = 512,
        temperature: float = 0.0,
        purpose: str = "chat",
    ) -> str:
        start = time.perf_counter()
        text = self._complete(
            messages, json_schema=json_schema, max_tokens=max_tokens, temperature=temperature, purpose=purpose
        )
        self._record(purpose, messages, json_schema, text, time.perf_counter() - start)
        return text

    def structured(
        self,
        messages: Sequence[BaseMessage],
        schema: dict[str, Any],
        *,
        max_tokens: int = 1024,
        purpose: str = "structured",
    ) -> dict[str, Any]:
        """Generate a JSON object constrained by ``schema`` and parse it."""
        text = self.complete(messages, json_schema=schema, max_tokens=max_tokens, purpose=purpose)
        return parse_json_object(text, self.name)

    def tool_arguments(
        self,
        messages: Sequence[BaseMessage],
        *,
        tool_name: str,
        description: str,
        parameters: dict[str, Any],
        purpose: str = "tool_call",
    ) -> dict[str, Any]:
        """Arguments for a call of the named tool. Default: constrained JSON of ``parameters``."""
        return self.structured(messages, parameters, purpose=purpose)

    def _record(
        self,
        purpose: str,
        messages: Sequence[BaseMessage],
        schema: dict[str, Any] | None,
        output: str,
        seconds: float = 0.0,
    ) -> None:
        prompt = "\n".join(f"[{m.type}] {m.content}" for m in messages)
        name = schema.get("title") if isinstance(schema, dict) else None
        with self._log_lock:
            self.calls.append(
                ModelCall(purpose=purpose, prompt=prompt, schema_name=name, output=output, seconds=seconds)
            )

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release resources (servers, native handles)."""


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
