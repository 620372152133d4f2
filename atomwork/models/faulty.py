"""A model that misbehaves on purpose: on a seeded share of calls it fails, hangs or answers garbage
instead of passing the call to the model it wraps. For fault-injection tests and the fault bench.

Which calls fail depends only on the seed, the call's purpose and prompt, and how many times that
same call was made before, not on thread timing, so a run with parallel tasks is reproducible.
"""

from __future__ import annotations

import hashlib
import random
import threading
import time
from collections import Counter
from collections.abc import Sequence
from enum import StrEnum

from langchain_core.messages import BaseMessage

from atomwork.deadline import current_deadline
from atomwork.models.base import ChatModel, Completion
from atomwork.models.decoding import Decoding
from atomwork.models.purpose import Purpose
from atomwork.models.retry import RetryPolicy, TransientModelError

__all__ = ["Fault", "FaultyModel"]


class Fault(StrEnum):
    ERROR = "error"
    """The connection drops (a ``ConnectionResetError``): transient, so the call is tried again."""
    CRASH = "crash"
    """The backend raises an exception of its own (a ``RuntimeError``): a ModelError, not retried."""
    TIMEOUT = "timeout"
    """The backend accepts the call and never answers: it gives up when the attempt's time is up."""
    GARBAGE = "garbage"
    """The backend answers, with text no step can use."""


_GARBAGE = (
    '{"tasks": [{"tool": ',
    "Sure! Here is the plan you asked for:",
    "\x00\x1b[2J\ufffd\ufffd",
    '{"score": "excellent", "reason": 7}',
    "]]]}}}",
)


class FaultyModel(ChatModel):
    """Wraps ``inner``; a ``rate`` share of calls gets one of ``faults`` instead of an answer.

    ``hang_s`` bounds a :attr:`Fault.TIMEOUT` hang when no deadline is in force. ``injected`` counts
    the faults by kind. Calls go to ``inner``'s backend method directly, so the call log, the
    retries and the deadline are this model's."""

    def __init__(
        self,
        inner: ChatModel,
        *,
        rate: float = 0.3,
        seed: int = 0,
        faults: Sequence[Fault] = tuple(Fault),
        hang_s: float = 30.0,
        retry_policy: RetryPolicy | None = None,
    ) -> None:
        super().__init__()
        if not 0.0 <= rate <= 1.0:
            raise ValueError(f"rate must be between 0 and 1, got {rate}")
        if not faults:
            raise ValueError("give at least one fault")
        self.inner = inner
        self.name = inner.name
        self.rate = rate
        self.seed = seed
        self.faults = tuple(Fault(f) for f in faults)
        self.hang_s = hang_s
        self.retry_policy = retry_policy if retry_policy is not None else inner.retry_policy
        self.injected: Counter[Fault] = Counter()
        self._seen: Counter[str] = Counter()
        self._lock = threading.Lock()

    def _roll(self, purpose: Purpose, messages: Sequence[BaseMessage]) -> tuple[Fault | None, str]:
        """The fault for this call (None: answer it) and, for garbage, the text."""
        prompt = "\n".join(str(m.content) for m in messages)
        key = f"{purpose}|{hashlib.sha256(prompt.encode()).hexdigest()}"
        with self._lock:
            self._seen[key] += 1
            dice = random.Random(f"{self.seed}|{key}|{self._seen[key]}")
            if dice.random() >= self.rate:
                return None, ""
            fault = dice.choice(self.faults)
            self.injected[fault] += 1
        return fault, dice.choice(_GARBAGE)

    def _complete(
        self,
        messages: Sequence[BaseMessage],
        decoding: Decoding,
    ) -> str | Completion:
        fault, garbage = self._roll(decoding.purpose, messages)
        if fault is Fault.ERROR:
            raise ConnectionResetError("injected fault: connection reset by peer")
        if fault is Fault.CRASH:
            raise RuntimeError("injected fault: the backend crashed")
        if fault is Fault.TIMEOUT:
            deadline = current_deadline()
            wait = self.hang_s if deadline is None else min(self.hang_s, deadline.remaining())
            time.sleep(wait)  # a request that is never answered, until its timeout
            raise TransientModelError(f"injected fault: no answer within {wait:.2f}s")
        if fault is Fault.GARBAGE:
            return garbage
        return self.inner._complete(messages, decoding)

    def close(self) -> None:
        self.inner.close()
