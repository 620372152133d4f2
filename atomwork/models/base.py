"""The model contract every backend implements, and the call log with its token accounting.

A backend turns chat messages into text, optionally constrained by a JSON schema; ``structured``
and ``tool_arguments`` build on ``complete``, backends with native tool calling override the latter.
"""

from __future__ import annotations

import json
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from langchain_core.messages import BaseMessage
from pydantic import BaseModel, Field

from atomwork import tracing
from atomwork.errors import ModelError
from atomwork.models.attribution import current_scope
from atomwork.models.decoding import Decoding
from atomwork.models.logprobs import TokenLogprob
from atomwork.models.purpose import Purpose
from atomwork.models.retry import RetryPolicy, backend_errors, call_with_retry
from atomwork.tracing import Attr, SpanName


class Completion(BaseModel):
    """What a backend's ``_complete`` may return instead of bare text: the text and its token counts."""

    text: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_prompt_tokens: int = 0
    """Prompt tokens served from a KV/prefix cache instead of being evaluated again."""
    endpoint: str | None = None
    """The server that answered (served backends); None for in-process models."""
    failed_endpoints: list[str] = Field(default_factory=list)
    """Servers tried first for this call that failed (connection, timeout, 5xx), in order."""
    logprobs: list[TokenLogprob] | None = None
    """Per generated token, when the caller asked for them and the backend reports them."""
    given: str = ""
    """The start of ``text`` that was given to the model (``Decoding.reply_start``) rather than
    generated: ``logprobs`` begin after it."""


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
    endpoint: str | None = None
    failed_endpoints: list[str] = Field(default_factory=list)
    streamed: bool = False
    """The reply was read as a stream (:meth:`ChatModel.stream`)."""
    run_id: str | None = None
    """The run the call was made for (see :mod:`atomwork.models.attribution`)."""
    task_id: str | None = None
    """The task the call was made for; None for run-level steps (planning, the answer)."""


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

    def merge(self, other: UsageTotals) -> None:
        """Add another sum to this one."""
        self.calls += other.calls
        self.prompt_tokens += other.prompt_tokens
        self.completion_tokens += other.completion_tokens
        self.cached_prompt_tokens += other.cached_prompt_tokens
        self.seconds += other.seconds

    def add(self, call: ModelCall) -> None:
        self.calls += 1
        self.prompt_tokens += call.prompt_tokens
        self.completion_tokens += call.completion_tokens
        self.cached_prompt_tokens += call.cached_prompt_tokens
        self.seconds += call.seconds


class Usage(UsageTotals):
    """Token and time use of a model since a mark, in total, per purpose (plan, args, score, ...) and,
    for served models, per endpoint, with the endpoint failures the calls ran into."""

    by_purpose: dict[Purpose, UsageTotals] = Field(default_factory=dict)
    by_endpoint: dict[str, UsageTotals] = Field(default_factory=dict)
    endpoint_failures: dict[str, int] = Field(default_factory=dict)
    """Failed tries per endpoint (each was skipped for another endpoint or retried)."""

    def plus(self, other: Usage) -> Usage:
        """The sum of two usages (a resumed run's earlier spending and its new one)."""
        total = Usage()
        for part in (self, other):
            total.merge(part)
            for purpose, sums in part.by_purpose.items():
                total.by_purpose.setdefault(purpose, UsageTotals()).merge(sums)
            for url, sums in part.by_endpoint.items():
                total.by_endpoint.setdefault(url, UsageTotals()).merge(sums)
            for url, count in part.endpoint_failures.items():
                total.endpoint_failures[url] = total.endpoint_failures.get(url, 0) + count
        return total

    @classmethod
    def of(cls, calls: Sequence[ModelCall]) -> Usage:
        usage = cls()
        for call in calls:
            usage.add(call)
            usage.by_purpose.setdefault(call.purpose, UsageTotals()).add(call)
            if call.endpoint is not None:
                usage.by_endpoint.setdefault(call.endpoint, UsageTotals()).add(call)
            for url in call.failed_endpoints:
                usage.endpoint_failures[url] = usage.endpoint_failures.get(url, 0) + 1
        return usage


class _Recorded(Completion):
    """A Completion plus the decoding controls it was asked with, handed from ``complete`` to ``_record``."""

    stop: list[str] | None = None
    repeat_penalty: float | None = None
    streamed: bool = False


class ChatModel(ABC):
    """A chat model backend. Subclasses implement :meth:`_complete`."""

    name: str = "model"
    retry_policy: RetryPolicy = RetryPolicy()
    """Retries, per-attempt timeout and deadline of each call (backends set their own)."""

    def __init__(self) -> None:
        self._log_lock = threading.Lock()
        self.calls: list[ModelCall] = []

    @abstractmethod
    def _complete(
        self,
        messages: Sequence[BaseMessage],
        decoding: Decoding,
    ) -> str | Completion:
        """Return the assistant's text; with ``decoding.json_schema`` it must be JSON obeying it.

        A :class:`Completion` also reports token counts for the call log, and the tokens'
        log-probabilities when ``decoding.logprobs`` > 0 asked for them (that many alternatives each)."""

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
        prediction: str | None = None,
    ) -> str:
        """Generate the assistant's reply.

        ``stop``: strings that end generation (not included in the reply).
        ``repeat_penalty``: > 1.0 discourages repeating tokens (llama.cpp ``repeat_penalty``,
        vLLM ``repetition_penalty``); None keeps the backend's default (off).
        ``prediction``: text the reply is expected to resemble (OpenAI's "predicted outputs"). It
        does not steer what is generated; a backend that can speculate from it (llama.cpp) decodes
        the matching stretches in batches, the others ignore it."""
        return self.generate(
            messages,
            json_schema=json_schema,
            max_tokens=max_tokens,
            temperature=temperature,
            purpose=purpose,
            stop=stop,
            repeat_penalty=repeat_penalty,
            prediction=prediction,
        ).text

    def generate(
        self,
        messages: Sequence[BaseMessage],
        *,
        json_schema: dict[str, Any] | None = None,
        max_tokens: int = 512,
        temperature: float = 0.0,
        purpose: Purpose = Purpose.CHAT,
        stop: Sequence[str] | None = None,
        repeat_penalty: float | None = None,
        prediction: str | None = None,
        lookup: str | None = None,
        logprobs: int = 0,
        reply_start: str | None = None,
    ) -> Completion:
        """:meth:`complete`, returning the whole :class:`Completion`: the text, its token counts and,
        with ``logprobs`` > 0, each token's log-probability with that many alternatives (None where
        the backend does not report them). ``lookup``: text the reply is likely to quote stretches
        of; like ``prediction`` it does not steer what is generated. ``reply_start``: text the reply
        begins with, given rather than generated where the backend can (see :class:`Decoding`)."""
        purpose = Purpose.of(purpose)  # a plain string from an untyped caller fails here, not in a log
        stop = list(stop) if stop else None
        with self.call_span(purpose):
            start = time.perf_counter()
            # Transient failures are tried again within the policy's deadline; anything else a
            # backend raises becomes a one-line ModelError (see atomwork.models.retry).
            decoding = Decoding(
                purpose=purpose,
                json_schema=json_schema,
                max_tokens=max_tokens,
                temperature=temperature,
                stop=stop,
                repeat_penalty=repeat_penalty,
                prediction=prediction,
                lookup=lookup,
                logprobs=logprobs,
                reply_start=reply_start,
            )
            reply = call_with_retry(
                lambda: self._complete(messages, decoding),
                policy=self.retry_policy,
                what=f"{self.name} {purpose} call",
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
                    **done.model_dump(exclude={"stop", "repeat_penalty", "streamed", "logprobs"}),
                    stop=stop,
                    repeat_penalty=repeat_penalty,
                ),
                seconds,
            )
        return done

    @contextmanager
    def call_span(self, purpose: Purpose) -> Iterator[None]:
        """The tracing span of one model call (token counts are added when it is recorded); backends
        that override :meth:`tool_arguments` open it too."""
        with tracing.span(SpanName.MODEL, {Attr.PURPOSE: purpose, Attr.MODEL: self.name}):
            yield

    def stream(
        self,
        messages: Sequence[BaseMessage],
        *,
        json_schema: dict[str, Any] | None = None,
        max_tokens: int = 512,
        temperature: float = 0.0,
        purpose: Purpose = Purpose.CHAT,
        stop: Sequence[str] | None = None,
        repeat_penalty: float | None = None,
    ) -> Iterator[str]:
        """:meth:`complete`, yielding the reply's text in pieces as it is generated.

        The call is logged once the reply ends or the caller stops reading (like :meth:`complete`,
        not when the backend fails). A backend without streaming yields its whole reply as one piece."""
        purpose = Purpose.of(purpose)
        stop = list(stop) if stop else None
        start = time.perf_counter()
        pieces: list[str] = []
        final: Completion | None = None
        failed = False
        source = self._stream(
            messages,
            Decoding(
                purpose=purpose,
                json_schema=json_schema,
                max_tokens=max_tokens,
                temperature=temperature,
                stop=stop,
                repeat_penalty=repeat_penalty,
            ),
        )
        try:
            for item in source:
                if isinstance(item, Completion):
                    final = item
                    if pieces or not item.text:
                        continue
                    item = item.text  # a backend that answered in one piece
                pieces.append(item)
                yield item
        except Exception as exc:
            failed = True
            with backend_errors(f"{self.name} {purpose} call"):  # a one-line ModelError, as complete's
                raise exc
        finally:
            # A reader that stopped early ends the backend's generation (and frees its lock or
            # connection) now, not whenever the generator is collected.
            close = getattr(source, "close", None)
            if close is not None:
                close()
            if not failed:
                self._record_stream(
                    purpose, messages, json_schema, pieces, final, stop, repeat_penalty, start
                )

    def _record_stream(
        self,
        purpose: Purpose,
        messages: Sequence[BaseMessage],
        json_schema: dict[str, Any] | None,
        pieces: list[str],
        final: Completion | None,
        stop: list[str] | None,
        repeat_penalty: float | None,
        start: float,
    ) -> None:
        text = "".join(pieces)
        done = final.model_copy(update={"text": text}) if final is not None else Completion(text=text)
        self._record(
            purpose,
            messages,
            json_schema,
            _Recorded(
                **done.model_dump(exclude={"stop", "repeat_penalty", "streamed"}),
                stop=stop,
                repeat_penalty=repeat_penalty,
                streamed=True,
            ),
            time.perf_counter() - start,
        )

    def _stream(
        self,
        messages: Sequence[BaseMessage],
        decoding: Decoding,
    ) -> Iterator[str | Completion]:
        """Yield text pieces as they are generated; a backend that knows the token counts ends with
        a :class:`Completion` carrying them (its text is ignored once pieces were yielded).

        Default: the whole :meth:`_complete` reply at once."""
        yield self._complete(messages, decoding)

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
        scope = current_scope()
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
            endpoint=done.endpoint,
            failed_endpoints=list(done.failed_endpoints),
            streamed=asked.streamed,
            run_id=scope.run_id,
            task_id=scope.task_id,
        )
        with self._log_lock:
            self.calls.append(call)
        tracing.annotate(
            {Attr.PROMPT_TOKENS: call.prompt_tokens, Attr.COMPLETION_TOKENS: call.completion_tokens}
        )

    def mark(self) -> int:
        """A position in the call log; pass it to :meth:`usage_since` to measure what came after."""
        with self._log_lock:
            return len(self.calls)

    def usage_since(self, index: int = 0) -> Usage:
        """Calls, tokens and seconds spent since ``index`` (a :meth:`mark`), in total and per purpose."""
        with self._log_lock:
            calls = self.calls[index:]
        return Usage.of(calls)

    def usage_for(self, run_id: str, *, task_id: str | None = None, since: int = 0) -> Usage:
        """What the calls made for ``run_id`` (and ``task_id``, when given) spent, from position
        ``since`` of the log on; exact when several runs share the model at once."""
        with self._log_lock:
            calls = self.calls[since:]
        return Usage.of(
            [c for c in calls if c.run_id == run_id and (task_id is None or c.task_id == task_id)]
        )

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
