"""vLLM (or any OpenAI-compatible server) backend, through langchain-openai.

Structured output uses the server's ``response_format: json_schema`` (vLLM's
guided decoding); tool arguments use native tool calling with a named
``tool_choice``. Connection failures are retried a few times (tenacity), then
reported as one clear :class:`ModelError`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import httpx
from langchain_core.messages import AIMessage, BaseMessage
from langchain_openai import ChatOpenAI
from tenacity import retry, retry_if_exception_type, stop_after_attempt, wait_exponential

from atomwork.errors import ModelError
from atomwork.models.base import ChatModel

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
                return AIMessage(content=exc.completion.choices[0].message.content or "")
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
        purpose: str,
    ) -> str:
        kwargs: dict[str, Any] = {"max_tokens": max_tokens, "temperature": temperature}
        if json_schema is not None:
            kwargs["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": purpose, "schema": json_schema},
            }
        message = self._invoke(self._chat.bind(**kwargs), messages, purpose)
        return str(message.content or "")

    def tool_arguments(
        self,
        messages: Sequence[BaseMessage],
        *,
        tool_name: str,
        description: str,
        parameters: dict[str, Any],
        purpose: str = "tool_call",
    ) -> dict[str, Any]:
        spec = {
            "type": "function",
            "function": {"name": tool_name, "description": description, "parameters": parameters},
        }
        runnable = self._chat.bind_tools([spec], tool_choice=tool_name)
        message = self._invoke(runnable, messages, purpose)
        self._record(purpose, messages, parameters, str(message.tool_calls))
        for call in message.tool_calls:
            if call["name"] == tool_name:
                return dict(call["args"])
        raise ModelError(f"{self.name} did not call tool {tool_name!r} (answered {message.content!r:.200})")
