"""vLLM (or any OpenAI-compatible server) backend, through langchain-openai.

Structured output uses the server's ``response_format: json_schema`` (vLLM's
guided decoding); tool arguments use native tool calling with a named
``tool_choice``. Connection failures are retried a few times (tenacity), then
reported as one clear :class:`ModelError`. Token counts come from the server's ``usage``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import httpx
from langchain_core.messages import AIMessage, BaseMessage
from langchain_openai import ChatOpenAI
from tenacity import retry, retry_if_exception_type, stop_after_attempt, wait_exponential

from atomwork.errors import ModelError
from atomwork.models.base import ChatModel, Completion
from atomwork.models.guard import check_model_requests_allowed
from atomwork.models.purpose import Purpose

T = TypeVar("T")


class _Transient(Exception):
    """A failure worth retrying (connection refused, timeout, 5xx)."""


class OpenAICompatModel(ChatModel):
    """A model served behind an OpenAI-compatible API, e.g. ``vllm serve``."""

    def __init__(
        self,
        base_url: str,
        model: str | None = None,
        *,
        api_key: str = "EMPTY",
        timeout: float = 120.0,
        attempts: int = 3,
    ) -> None:
        super().__init__()
        self.base_url = base_url.rstrip("/")
        if not self.base_url.startswith(("http://", "https://")):
            raise ModelError(f"model endpoint must be an http(s) URL, got {base_url!r}")
        self._api_key = api_key
        self._timeout = timeout
        self._attempts = attempts
        self.name = model or self._discover_model()
        self._chat = ChatOpenAI(
            base_url=self.base_url,
            model=self.name,
            api_key=api_key,  # type: ignore[arg-type]
            timeout=timeout,
            max_retries=0,  # retries are ours, see _call
            temperature=0.0,
        )

    def _discover_model(self) -> str:
        """Ask the server which model it serves (``GET /models``)."""

        def fetch() -> str:
            try:
                response = httpx.get(
                    f"{self.base_url}/models",
                    headers={"Authorization": f"Bearer {self._api_key}"},
                    timeout=min(self._timeout, 10.0),
                )
            except httpx.HTTPError as exc:
                raise _Transient(str(exc) or type(exc).__name__) from exc
            if response.status_code >= 500:
                raise _Transient(f"HTTP {response.status_code}")
            if response.status_code != 200:
                raise ModelError(
                    f"model endpoint {self.base_url} answered HTTP {response.status_code} to /models"
                )
            models = response.json().get("data") or []
            if not models:
                raise ModelError(f"model endpoint {self.base_url} serves no model")
            return str(models[0]["id"])

        return self._call(fetch)

    def _call(self, fn: Callable[[], T]) -> T:
        check_model_requests_allowed(f"request to the model endpoint {self.base_url}")
        retrying = retry(
            retry=retry_if_exception_type(_Transient),
            stop=stop_after_attempt(self._attempts),
            wait=wait_exponential(multiplier=0.5, max=4),
            reraise=True,
        )
        try:
            return retrying(fn)()
        except _Transient as exc:
            raise ModelError(
                f"cannot reach the model endpoint {self.base_url} after {self._attempts} attempts: {exc}"
            ) from exc

    def _invoke(self, runnable: Any, messages: Sequence[BaseMessage], purpose: str) -> Any:
        import openai

        def go() -> Any:
            try:
                return runnable.invoke(list(messages))
            except (openai.APIConnectionError, openai.APITimeoutError, openai.InternalServerError) as exc:
                raise _Transient(str(exc)) from exc
            except openai.LengthFinishReasonError as exc:
                # Structured output cut off by max_tokens: hand back the partial text; the caller
                # decides (the evaluator can still read a leading score, the planner retries).
                usage = exc.completion.usage
                return AIMessage(
                    content=exc.completion.choices[0].message.content or "",
                    response_metadata={"token_usage": usage.model_dump() if usage else {}},
                )
            except openai.APIStatusError as exc:
                raise ModelError(
                    f"model endpoint {self.base_url} rejected the {purpose} request: "
                    f"HTTP {exc.status_code} {exc.message}"
                ) from exc
            except openai.OpenAIError as exc:
                raise ModelError(f"model endpoint {self.base_url} failed during {purpose}: {exc}") from exc

        return self._call(go)

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
    ) -> Completion:
        kwargs: dict[str, Any] = {"max_tokens": max_tokens, "temperature": temperature}
        if stop:
            kwargs["stop"] = list(stop)
        if repeat_penalty is not None:
            # vLLM's repetition_penalty has llama.cpp's repeat_penalty semantics (multiplicative,
            # 1.0 = off); OpenAI's frequency/presence penalties are additive and not equivalent.
            # A strict OpenAI endpoint may reject the extra field: leave repeat_penalty None there.
            kwargs["extra_body"] = {"repetition_penalty": repeat_penalty}
        if json_schema is not None:
            kwargs["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": purpose, "schema": json_schema},
            }
        message = self._invoke(self._chat.bind(**kwargs), messages, purpose)
        return _completion(message, str(message.content or ""))

    def tool_arguments(
        self,
        messages: Sequence[BaseMessage],
        *,
        tool_name: str,
        description: str,
        parameters: dict[str, Any],
        purpose: Purpose = Purpose.TOOL_CALL,
    ) -> dict[str, Any]:
        purpose = Purpose.of(purpose)
        spec = {
            "type": "function",
            "function": {"name": tool_name, "description": description, "parameters": parameters},
        }
        runnable = self._chat.bind_tools([spec], tool_choice=tool_name)
        start = time.perf_counter()
        message = self._invoke(runnable, messages, purpose)
        seconds = time.perf_counter() - start
        self._record(purpose, messages, parameters, _completion(message, str(message.tool_calls)), seconds)
        for call in message.tool_calls:
            if call["name"] == tool_name:
                return dict(call["args"])
        raise ModelError(f"{self.name} did not call tool {tool_name!r} (answered {message.content!r:.200})")


def _completion(message: AIMessage, text: str) -> Completion:
    """``text`` with the token counts the server reported for ``message`` (0 where it reported none)."""
    meta = message.usage_metadata
    if meta:
        details = meta.get("input_token_details") or {}
        return Completion(
            text=text,
            prompt_tokens=meta.get("input_tokens", 0),
            completion_tokens=meta.get("output_tokens", 0),
            cached_prompt_tokens=details.get("cache_read", 0) or 0,
        )
    # No usage_metadata (e.g. the partial reply of a length-truncated structured call):
    # fall back to the raw OpenAI usage block in response_metadata.
    usage = message.response_metadata.get("token_usage") or {}
    cached = (usage.get("prompt_tokens_details") or {}).get("cached_tokens") or 0
    return Completion(
        text=text,
        prompt_tokens=usage.get("prompt_tokens") or 0,
        completion_tokens=usage.get("completion_tokens") or 0,
        cached_prompt_tokens=cached,
    )
