"""A model that answers like another one, at a decoder's pace: a fixed time per generated token.

For benchmarks and streaming tests with a scripted model: :meth:`ChatModel.complete` returns after
the whole reply's time, :meth:`ChatModel.stream` hands out each token as its time passes, so what
streaming saves can be measured without a real model.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence

from langchain_core.messages import BaseMessage

from atomwork.models.base import ChatModel, Completion, estimate_tokens
from atomwork.models.decoding import Decoding

__all__ = ["PacedModel"]


class PacedModel(ChatModel):
    """``inner``'s replies, ``seconds_per_token`` per generated token (about four characters), plus
    ``seconds_per_call`` before the first one (prompt processing). Calls are not serialised: each
    caller waits on its own, like requests a server batches."""

    def __init__(
        self,
        inner: ChatModel,
        *,
        seconds_per_token: float,
        seconds_per_call: float = 0.0,
        chars_per_token: int = 4,
    ) -> None:
        super().__init__()
        if seconds_per_token < 0 or seconds_per_call < 0 or chars_per_token < 1:
            raise ValueError("a paced model needs non-negative delays and at least one character a token")
        self.inner = inner
        self.name = inner.name
        self.seconds_per_token = seconds_per_token
        self.seconds_per_call = seconds_per_call
        self.chars_per_token = chars_per_token

    def _reply(self, messages: Sequence[BaseMessage], decoding: Decoding) -> Completion:
        reply = self.inner._complete(messages, decoding)
        return reply if isinstance(reply, Completion) else Completion(text=reply)

    def _complete(
        self,
        messages: Sequence[BaseMessage],
        decoding: Decoding,
    ) -> Completion:
        done = self._reply(messages, decoding)
        tokens = -(-len(done.text) // self.chars_per_token)
        time.sleep(self.seconds_per_call + tokens * self.seconds_per_token)
        return done

    def _stream(
        self,
        messages: Sequence[BaseMessage],
        decoding: Decoding,
    ) -> Iterator[str | Completion]:
        done = self._reply(messages, decoding)
        time.sleep(self.seconds_per_call)
        step = self.chars_per_token
        for start in range(0, len(done.text), step):
            time.sleep(self.seconds_per_token)
            yield done.text[start : start + step]
        yield done.model_copy(
            update={"completion_tokens": done.completion_tokens or estimate_tokens(done.text)}
        )

    def close(self) -> None:
        self.inner.close()
