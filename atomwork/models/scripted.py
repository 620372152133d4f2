"""Models that answer without a model: a strict script of replies, or a Python function.

Both are public through :mod:`atomwork.testing`; ``load_model("scripted:replies.json")`` builds a
:class:`ScriptedModel` from a JSON file, so scripts and the CLI can run without a model too.
"""

from __future__ import annotations

import json
import threading
from abc import abstractmethod
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

from langchain_core.messages import BaseMessage
from pydantic import BaseModel, ConfigDict

from atomwork.errors import ConfigError
from atomwork.models.base import ChatModel, Completion, estimate_tokens
from atomwork.models.decoding import Decoding
from atomwork.models.purpose import Purpose

__all__ = [
    "FunctionModel",
    "ModelCallInfo",
    "Reply",
    "ScriptedModel",
    "ToolSpec",
    "UnexpectedModelCall",
]

Reply = str | Mapping[str, Any] | list[Any] | BaseModel | Exception
"""What a test double answers: text, JSON (a mapping, list or pydantic model), an exception to raise,
or a :class:`Completion` (its text, with the token log-probabilities a backend would report)."""


class UnexpectedModelCall(AssertionError):
    """A scripted model was called with no reply left for the call's purpose, or replies were left unused.

    An AssertionError, so that it is not mistaken for a model failure the run may recover from."""


class ToolSpec(BaseModel):
    """The tool a call asks arguments for (set on calls made through ``tool_arguments``)."""

    model_config = ConfigDict(frozen=True)

    name: str
    description: str
    parameters: dict[str, Any]


class ModelCallInfo(Decoding):
    """Everything a model is asked in one call, handed to a :class:`FunctionModel`'s function: the
    decoding controls, the messages, and the tool whose arguments are asked for."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    index: int
    """Position of the call on this model, from 0 (calls from worker threads are numbered as they come)."""
    messages: list[BaseMessage]
    tool: ToolSpec | None = None

    @property
    def prompt(self) -> str:
        """All message texts, one per line."""
        return "\n".join(str(m.content) for m in self.messages)

    @property
    def system(self) -> str:
        """The text of the system messages."""
        return "\n".join(str(m.content) for m in self.messages if m.type == "system")

    @property
    def user(self) -> str:
        """The text of the last user message ('' when there is none)."""
        texts = [str(m.content) for m in self.messages if m.type == "human"]
        return texts[-1] if texts else ""


class _TestDouble(ChatModel):
    """Builds a :class:`ModelCallInfo` per call and turns the subclass's :class:`Reply` into a completion."""

    def __init__(self) -> None:
        super().__init__()
        self._counter_lock = threading.Lock()
        self._count = 0
        self._asking = threading.local()  # the tool of a tool_arguments call in flight on this thread

    def tool_arguments(
        self,
        messages: Sequence[BaseMessage],
        *,
        tool_name: str,
        description: str,
        parameters: dict[str, Any],
        purpose: Purpose = Purpose.TOOL_CALL,
    ) -> dict[str, Any]:
        self._asking.tool = ToolSpec(name=tool_name, description=description, parameters=parameters)
        try:
            return super().tool_arguments(
                messages, tool_name=tool_name, description=description, parameters=parameters, purpose=purpose
            )
        finally:
            self._asking.tool = None

    def _complete(
        self,
        messages: Sequence[BaseMessage],
        decoding: Decoding,
    ) -> Completion:
        with self._counter_lock:
            index, self._count = self._count, self._count + 1
        info = ModelCallInfo(
            **dict(decoding),
            index=index,
            messages=list(messages),
            tool=getattr(self._asking, "tool", None),
        )
        reply = self._reply(info)
        text = reply_text(reply)
        # Estimated counts (about four characters a token) so usage accounting can be tested.
        return Completion(
            text=text,
            prompt_tokens=estimate_tokens(info.prompt),
            completion_tokens=estimate_tokens(text),
            logprobs=reply.logprobs if isinstance(reply, Completion) and decoding.logprobs else None,
        )

    @abstractmethod
    def _reply(self, info: ModelCallInfo) -> Reply:
        """The answer to one call."""


def reply_text(reply: Reply) -> str:
    """A reply as the text a model would have produced; an exception reply is raised."""
    if isinstance(reply, BaseException):
        raise reply
    if isinstance(reply, str):
        return reply
    if isinstance(reply, Completion):
        return reply.text
    if isinstance(reply, BaseModel):
        return reply.model_dump_json()
    if isinstance(reply, Mapping | list):
        return json.dumps(reply)
    raise TypeError(f"a model reply must be text, JSON or an exception, got {type(reply).__name__}")


class ScriptedModel(_TestDouble):
    """Answers each call with the next scripted reply for its purpose, and nothing else.

    >>> model = ScriptedModel(plan=[{"tasks": [...]}], score=[{"reason": "ok", "score": 8}])

    Replies are queued per :class:`Purpose` (calls of different purposes interleave when tasks
    run in parallel; calls of one purpose are answered in order). The model is strict: a call
    whose purpose has no reply left raises :class:`UnexpectedModelCall`, and
    :meth:`assert_consumed` (run on leaving a ``with`` block) fails when a call was unexpected or
    replies were left unused, so a test notices when the flow it scripted changes.
    """

    name = "scripted"

    def __init__(
        self, replies: Mapping[Purpose | str, Sequence[Reply]] | None = None, /, **by_purpose: Sequence[Reply]
    ) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._queues: dict[Purpose, deque[Reply]] = {}
        for key, queue in [*(replies or {}).items(), *by_purpose.items()]:
            try:
                purpose = Purpose.of(key)
            except ValueError as exc:
                raise ConfigError(str(exc)) from None
            if isinstance(queue, str | bytes | Mapping) or not isinstance(queue, Sequence):
                raise ConfigError(f"replies for purpose {purpose.value!r} must be a list of replies")
            self._queues.setdefault(purpose, deque()).extend(queue)
        self.unexpected: list[ModelCallInfo] = []
        """Calls that found no reply (also raised at the call; kept so a swallowed one still fails)."""
        self.check_on_close = False
        """Run :meth:`assert_consumed` in :meth:`close`: set for a model read from a file, whose
        user (a script, the CLI) closes the model but cannot call ``assert_consumed`` itself."""

    @classmethod
    def from_file(cls, path: str | Path) -> ScriptedModel:
        """A model scripted by a JSON file: ``{"plan": [reply, ...], "score": [...], ...}``; it checks
        on :meth:`close` that every reply was used."""
        file = Path(path).expanduser()
        try:
            data = json.loads(file.read_text(encoding="utf-8"))
        except OSError as exc:
            raise ConfigError(f"cannot read scripted replies {file}: {exc.strerror or exc}") from None
        except json.JSONDecodeError as exc:
            raise ConfigError(f"scripted replies {file} are not JSON: {exc}") from None
        if not isinstance(data, dict):
            raise ConfigError(f"scripted replies {file} must be a JSON object of purpose -> list of replies")
        model = cls(data)
        model.check_on_close = True
        return model

    def _reply(self, info: ModelCallInfo) -> Reply:
        with self._lock:
            queue = self._queues.get(info.purpose)
            if queue:
                return queue.popleft()
            self.unexpected.append(info)
            left = ", ".join(f"{p.value} ({len(q)})" for p, q in self._queues.items() if q) or "none"
        last = _clip(info.messages[-1].content if info.messages else "")
        raise UnexpectedModelCall(
            f"unexpected {info.purpose.value!r} model call #{info.index}: no scripted reply left for it "
            f"(replies left: {left}); last message: {last}"
        )

    def remaining(self) -> dict[Purpose, int]:
        """How many replies are still unused, per purpose (purposes with none left are omitted)."""
        with self._lock:
            return {p: len(q) for p, q in self._queues.items() if q}

    def assert_consumed(self) -> None:
        """Fail when a call found no reply or scripted replies were never asked for."""
        problems = [f"unexpected {c.purpose.value!r} call #{c.index}" for c in self.unexpected]
        problems += [
            f"{n} unused {p.value!r} repl{'y' if n == 1 else 'ies'}" for p, n in self.remaining().items()
        ]
        if problems:
            raise UnexpectedModelCall("scripted model: " + "; ".join(problems))

    def purposes(self) -> list[Purpose]:
        """The purposes of the calls made so far, in order."""
        return [c.purpose for c in self.calls]

    def close(self) -> None:
        if self.check_on_close:
            self.assert_consumed()

    def __enter__(self) -> ScriptedModel:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc_type is None:  # an error inside the block says more than the leftovers it caused
            self.assert_consumed()


class FunctionModel(_TestDouble):
    """Answers every call with ``function(info)``; ``info`` is a typed :class:`ModelCallInfo`.

    >>> def reply(info: ModelCallInfo) -> Reply:
    ...     return {"reason": "ok", "score": 9} if info.purpose is Purpose.SCORE else "fine"
    >>> model = FunctionModel(reply)
    """

    def __init__(self, function: Callable[[ModelCallInfo], Reply], *, name: str = "function") -> None:
        super().__init__()
        self.function = function
        self.name = name

    def _reply(self, info: ModelCallInfo) -> Reply:
        return self.function(info)


def _clip(content: Any, limit: int = 160) -> str:
    text = " ".join(str(content).split())
    return repr(text if len(text) <= limit else text[: limit - 3] + "...")
