"""vLLM (or any OpenAI-compatible server) backend, through langchain-openai; one or several endpoints.

Structured output uses the server's ``response_format: json_schema`` (vLLM's guided decoding); tool
arguments use native tool calling with a named ``tool_choice``; :meth:`ChatModel.stream` reads the
reply as server-sent events. Calls are not serialised: specialists on worker threads send theirs at
once so vLLM's continuous batching can work. An :class:`~atomwork.models.endpoints.EndpointPool`
bounds the requests in flight per endpoint (:class:`~atomwork.settings.EndpointSettings`) and spreads
them; a request that fails (no connection, timeout, 5xx) moves at once to another endpoint that is
up, and the call is retried with backoff within its deadline (:mod:`atomwork.models.retry`), then
reported as one clear :class:`ModelError`. Token counts come from the server's ``usage``; each call
records the endpoint that answered and the ones that failed it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

import httpx
from langchain_core.messages import AIMessage, BaseMessage, convert_to_openai_messages
from langchain_openai import ChatOpenAI

from atomwork.deadline import remaining
from atomwork.errors import ModelError
from atomwork.models.base import ChatModel, Completion
from atomwork.models.decoding import Decoding
from atomwork.models.endpoints import EndpointPool, Lease
from atomwork.models.guard import check_model_requests_allowed
from atomwork.models.logprobs import TokenLogprob
from atomwork.models.purpose import Purpose
from atomwork.models.retry import RetryPolicy, TransientModelError, call_with_retry, one_line
from atomwork.settings import EndpointSettings

T = TypeVar("T")


class OpenAICompatModel(ChatModel):
    """A model served behind OpenAI-compatible APIs, e.g. ``vllm serve``.

    ``base_url``: one endpoint URL, or several serving the same model (requests are spread over
    them, a failing one is skipped). ``model`` None asks the first reachable endpoint (``GET
    /models``). ``settings``: requests in flight per endpoint and how long a failed one is skipped;
    ``policy``: tries, deadline and request timeout of one call (``timeout`` and ``attempts`` are
    shorthands for two of its fields). ``http_client``: the httpx client to send requests with
    (proxies, test transports)."""

    def __init__(
        self,
        base_url: str | Sequence[str],
        model: str | None = None,
        *,
        api_key: str = "EMPTY",
        settings: EndpointSettings | None = None,
        policy: RetryPolicy | None = None,
        timeout: float | None = None,
        attempts: int | None = None,
        http_client: httpx.Client | None = None,
    ) -> None:
        super().__init__()
        urls = [base_url] if isinstance(base_url, str) else list(base_url)
        if not urls:
            raise ModelError("no model endpoint given")
        for url in urls:
            if not url.strip().startswith(("http://", "https://")):
                raise ModelError(f"model endpoint must be an http(s) URL, got {url!r}")
        self.urls = [url.strip().rstrip("/") for url in urls]
        self.base_url = self.urls[0]
        self.settings = settings if settings is not None else EndpointSettings()
        policy = policy if policy is not None else RetryPolicy.from_env()
        if timeout is not None:
            policy = policy.model_copy(update={"attempt_timeout_s": timeout})
        if attempts is not None:
            policy = policy.model_copy(update={"attempts": attempts})
        self.retry_policy = policy  # ChatModel.complete retries each call under it
        self.pool = EndpointPool(
            self.urls, max_in_flight=self.settings.max_in_flight, down_for_s=self.settings.down_for_s
        )
        self._api_key = api_key
        self._http_client = http_client
        self.name = model or self._discover_model()
        self._chats = {
            url: ChatOpenAI(
                base_url=url,
                model=self.name,
                api_key=api_key,  # type: ignore[arg-type]
                timeout=policy.attempt_timeout_s,
                max_retries=0,  # retries are ours: ChatModel.complete, _opened
                temperature=0.0,
                http_client=http_client,
            )
            for url in self.urls
        }

    @property
    def _where(self) -> str:
        if len(self.urls) == 1:
            return f"model endpoint {self.urls[0]}"
        return "model endpoints " + ", ".join(self.urls)

    def _discover_model(self) -> str:
        """Ask a server which model it serves (``GET /models``)."""

        def fetch(url: str, timeout: float) -> str:
            try:
                response = (self._http_client or httpx).get(
                    f"{url}/models",
                    headers={"Authorization": f"Bearer {self._api_key}"},
                    timeout=min(timeout, 10.0),
                )
            except httpx.HTTPError as exc:
                raise TransientModelError(f"cannot reach the model endpoint {url}: {one_line(exc)}") from exc
            if response.status_code >= 500:
                raise TransientModelError(f"model endpoint {url} answered HTTP {response.status_code}")
            if response.status_code != 200:
                raise ModelError(f"model endpoint {url} answered HTTP {response.status_code} to /models")
            models = response.json().get("data") or []
            if not models:
                raise ModelError(f"model endpoint {url} serves no model")
            return str(models[0]["id"])

        return self._call("discovery", fetch)[0]

    # -- requests: endpoint choice, failover, retries ---------------------------------------------
    def _open(self, fn: Callable[[str, float], T], failed: list[str]) -> tuple[T, Lease]:
        """One attempt: ``fn(url, timeout)`` on the best endpoint, moving at once to another endpoint
        that is up when it fails transiently; the value with its lease, still held (the caller
        releases it). Endpoints that failed are appended to ``failed``. When every endpoint failed,
        the last :class:`TransientModelError` is raised for the retry loop to wait and try again."""
        tried: set[str] = set()
        last: TransientModelError | None = None
        while True:
            lease = self.pool.lease(time.monotonic() + remaining(self.retry_policy.deadline_s))
            if lease.url in tried:  # nothing new to fail over to in this attempt
                lease.cancel()
                assert last is not None
                raise last
            tried.add(lease.url)
            try:
                value = fn(lease.url, remaining(self.retry_policy.attempt_timeout_s))
            except TransientModelError as exc:
                lease.fail(one_line(exc))
                failed.append(lease.url)
                last = exc
                continue
            except BaseException:
                lease.release()  # the request was refused or cut short, the endpoint is not broken
                raise
            return value, lease

    def _opened(
        self, purpose: str, fn: Callable[[str, float], T], *, retry: bool = True
    ) -> tuple[T, Lease, list[str]]:
        """``fn(url, timeout)`` with failover (and retries unless ``retry`` is False, for a caller
        that retries itself): ``(value, held lease, failed urls)``."""
        check_model_requests_allowed(f"{purpose} request to the {self._where}")
        failed: list[str] = []
        if not retry:
            return (*self._open(fn, failed), failed)
        value, lease = call_with_retry(
            lambda: self._open(fn, failed),
            policy=self.retry_policy,
            what=f"{purpose} request to the {self._where}",
        )
        return value, lease, failed

    def _call(
        self, purpose: str, fn: Callable[[str, float], T], *, retry: bool = True
    ) -> tuple[T, str, list[str]]:
        """``fn(url, timeout)`` with failover and retries: ``(value, url, failed urls)``."""
        value, lease, failed = self._opened(purpose, fn, retry=retry)
        lease.release()
        return value, lease.url, failed

    def _invoke(self, runnable: Any, messages: Sequence[BaseMessage], purpose: str, url: str = "") -> Any:
        """One request through a langchain runnable, its failures sorted: transient ones become a
        :class:`TransientModelError` (retried), the rest a :class:`ModelError`."""
        import openai

        where = url or self.base_url
        try:
            return runnable.invoke(list(messages))
        except (openai.APIConnectionError, openai.APITimeoutError, openai.InternalServerError) as exc:
            raise TransientModelError(f"cannot reach the model endpoint {where}: {one_line(exc)}") from exc
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
                f"model endpoint {where} rejected the {purpose} request: HTTP {exc.status_code} {exc.message}"
            ) from exc
        except openai.OpenAIError as exc:
            raise ModelError(f"model endpoint {where} failed during {purpose}: {exc}") from exc

    def _request(
        self,
        purpose: str,
        messages: Sequence[BaseMessage],
        runnable: Callable[[ChatOpenAI, float], Any],
        *,
        retry: bool = True,
    ) -> tuple[AIMessage, str, list[str]]:
        return self._call(
            purpose,
            lambda url, timeout: self._invoke(runnable(self._chats[url], timeout), messages, purpose, url),
            retry=retry,
        )

    # -- ChatModel --------------------------------------------------------------------------------
    @staticmethod
    def _body(decoding: Decoding) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"max_tokens": decoding.max_tokens, "temperature": decoding.temperature}
        if decoding.stop:
            kwargs["stop"] = list(decoding.stop)
        if decoding.repeat_penalty is not None:
            # vLLM's repetition_penalty has llama.cpp's repeat_penalty semantics (multiplicative,
            # 1.0 = off); OpenAI's frequency/presence penalties are additive and not equivalent.
            # A strict OpenAI endpoint may reject the extra field: leave repeat_penalty None there.
            kwargs["extra_body"] = {"repetition_penalty": decoding.repeat_penalty}
        if decoding.reply_start:
            # vLLM's chat template then continues the last (assistant) message instead of opening a
            # new turn; a strict OpenAI endpoint rejects these fields: leave reply_start None there.
            extra = kwargs.setdefault("extra_body", {})
            extra.update(continue_final_message=True, add_generation_prompt=False)
        if decoding.json_schema is not None:
            kwargs["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": decoding.purpose, "schema": decoding.json_schema},
            }
        return kwargs

    def _complete(
        self,
        messages: Sequence[BaseMessage],
        decoding: Decoding,
    ) -> Completion:
        purpose, logprobs = decoding.purpose, decoding.logprobs
        body = self._body(decoding)
        if logprobs:
            body.update(logprobs=True, top_logprobs=logprobs)
        # ``prediction`` is not sent: vLLM's server has no predicted-outputs field (its speculative
        # decoding is a server setting), and OpenAI's rejects it alongside several other options.
        # One attempt (with failover across endpoints): ChatModel.complete retries it.
        given = decoding.reply_start or ""
        asked = [*messages, AIMessage(given)] if given else messages
        message, url, failed = self._request(
            purpose, asked, lambda chat, timeout: chat.bind(**body, timeout=timeout), retry=False
        )
        done = _completion(message, given + str(message.content or ""))
        return done.model_copy(
            update={
                "endpoint": url,
                "failed_endpoints": failed,
                "logprobs": _logprobs(message) if logprobs else None,
                "given": given,
            }
        )

    def _stream(
        self,
        messages: Sequence[BaseMessage],
        decoding: Decoding,
    ) -> Iterator[str | Completion]:
        import openai

        purpose = decoding.purpose
        body = self._body(decoding)
        payload = convert_to_openai_messages(list(messages))

        def start(url: str, timeout: float) -> Any:
            try:
                return self._chats[url].root_client.chat.completions.create(
                    model=self.name,
                    messages=payload,
                    stream=True,
                    stream_options={"include_usage": True},
                    timeout=timeout,
                    **body,
                )
            except (openai.APIConnectionError, openai.APITimeoutError, openai.InternalServerError) as exc:
                raise TransientModelError(f"cannot reach the model endpoint {url}: {one_line(exc)}") from exc
            except openai.APIStatusError as exc:
                raise ModelError(
                    f"model endpoint {url} rejected the {purpose} request: "
                    f"HTTP {exc.status_code} {exc.message}"
                ) from exc

        # The slot stays taken while the reply streams: it is a request in flight on that server.
        events, lease, failed = self._opened(purpose, start)
        usage: Any = None
        try:
            for event in events:
                usage = event.usage or usage
                for choice in event.choices:
                    if choice.delta.content:
                        yield choice.delta.content
        except (openai.APIError, httpx.HTTPError) as exc:
            lease.fail(one_line(exc))
            raise ModelError(f"model endpoint {lease.url} broke off the {purpose} reply: {exc}") from exc
        finally:
            events.close()  # a reader that stopped early must not leave the response open
            lease.release()
        cached = getattr(getattr(usage, "prompt_tokens_details", None), "cached_tokens", None) or 0
        yield Completion(
            text="",
            prompt_tokens=getattr(usage, "prompt_tokens", 0) or 0,
            completion_tokens=getattr(usage, "completion_tokens", 0) or 0,
            cached_prompt_tokens=cached,
            endpoint=lease.url,
            failed_endpoints=failed,
        )

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
        with self.call_span(purpose):
            start = time.perf_counter()
            message, url, failed = self._request(
                purpose,
                messages,
                lambda chat, timeout: chat.bind_tools([spec], tool_choice=tool_name).bind(timeout=timeout),
            )
            seconds = time.perf_counter() - start
            done = _completion(message, str(message.tool_calls))
            self._record(
                purpose,
                messages,
                parameters,
                done.model_copy(update={"endpoint": url, "failed_endpoints": failed}),
                seconds,
            )
        for call in message.tool_calls:
            if call["name"] == tool_name:
                return dict(call["args"])
        raise ModelError(f"{self.name} did not call tool {tool_name!r} (answered {message.content!r:.200})")


def _logprobs(message: AIMessage) -> list[TokenLogprob] | None:
    """The token log-probabilities of an OpenAI chat reply (``logprobs.content``), None if absent."""
    content = (message.response_metadata.get("logprobs") or {}).get("content")
    if not content:
        return None
    # Entries carry token, logprob, bytes and top_logprobs; the bytes are not kept.
    return [TokenLogprob.model_validate({**e, "top": e.get("top_logprobs") or []}) for e in content]


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
