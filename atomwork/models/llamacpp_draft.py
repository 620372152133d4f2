"""Speculative decoding from a predicted reply, for the llama.cpp backend.

A caller that expects the reply to resemble a text it already has (a corrected query, a second
sample of the same query) passes it as ``prediction``. After each generated token the stretch of the
prediction that follows the last few generated tokens is proposed as draft tokens; llama.cpp
evaluates them in one batch and the sampler keeps them only while it picks the same tokens itself,
so the reply is drawn as plain decoding draws it (greedy or sampled), and the matching stretches
cost one batched step instead of one step per token. (A batch rounds differently from single steps:
a near-tie may go either way, as it may between a cached and a fresh prompt.) Imported only when
llama-cpp-python is installed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import llama_cpp
import numpy as np
import numpy.typing as npt
from llama_cpp.llama_speculative import LlamaDraftModel

from atomwork.models.llamacpp_cache import PrefixStateCache, common_prefix
from atomwork.models.logprobs import TokenAlternative, TokenLogprob

__all__ = [
    "DRAFT_WINDOW",
    "LOOKUP_MIN_NGRAM",
    "SCORE_ROWS",
    "DraftingLlama",
    "PredictionDraft",
    "drafting_llama",
]

DRAFT_WINDOW = 10
"""Tokens drafted at a time."""

LOOKUP_MIN_NGRAM = 2
"""Tokens a reply must share with a looked-up text (not a predicted reply) before what follows them
there is drafted: a single shared token (a newline, a comma) is mostly followed by something else,
and a draft that fails costs a wider batch. Measured on SQL calls quoting their question's notes."""

SCORE_ROWS = DRAFT_WINDOW + 6
"""Rows kept of llama-cpp-python's score buffer: the chat formats' stop-token check indexes one per
token sampled in a batch (it reads the token, not the logits)."""


class PredictionDraft(LlamaDraftModel):
    """Drafts the continuation of the last ``max_ngram`` generated tokens in the predicted tokens
    (of at least the last ``min_ngram`` of them)."""

    def __init__(
        self,
        tokens: Sequence[int],
        *,
        max_ngram: int = 3,
        min_ngram: int = 1,
        window: int = DRAFT_WINDOW,
    ) -> None:
        self.tokens = np.asarray(tokens, dtype=np.intc)
        self.max_ngram = max_ngram
        self.min_ngram = min_ngram
        self.window = window
        self._cursor = 0  # where the last match ended: a later match there wins over an earlier one

    def __call__(self, input_ids: npt.NDArray[np.intc], /, **kwargs: Any) -> npt.NDArray[np.intc]:
        predicted = self.tokens
        for size in range(min(self.max_ngram, len(input_ids), len(predicted)), self.min_ngram - 1, -1):
            tail = input_ids[-size:]
            windows = np.lib.stride_tricks.sliding_window_view(predicted, size)
            starts = np.nonzero(np.all(windows == tail, axis=1))[0]
            if len(starts) == 0:
                continue
            ahead = starts[starts + size >= self._cursor]
            start = int(ahead[0] if len(ahead) else starts[-1]) + size
            if start >= len(predicted):
                continue
            self._cursor = start
            return predicted[start : start + self.window]
        return np.array([], dtype=np.intc)


if TYPE_CHECKING:
    _LlamaBase = llama_cpp.Llama
else:  # a mixin at run time: its base is the llama_cpp.Llama of the moment (see drafting_llama)
    _LlamaBase = object


class DraftingLlama(_LlamaBase):
    """A ``Llama`` that, while a draft model is set, has llama.cpp compute the logits of every
    position of a batch (the sampler checks each drafted token against its own) without copying
    them into ``scores`` as ``logits_all`` would: that buffer is trimmed to :data:`SCORE_ROWS`
    rows (see :class:`atomwork.models.llamacpp.LlamaCppModel`). Built by :func:`drafting_llama`.

    Each completion's prompt also passes through it on its way to llama-cpp-python: a reply's given
    start is appended there, and a settled prompt family skips the prefix-state cache."""

    prompt_evaluated = 0
    """Prompt tokens the last generation evaluated (the rest came from the KV cache); llama.cpp's
    own counter adds the drafted batches to them. Reset by :meth:`start_generation`."""
    decode_steps = 0
    """Evaluations after the prompt in the last generation: one per token, fewer while drafts match."""
    _prompt_done = False
    logprob_top = 0
    """Alternatives to record with each sampled token's log-probability (0: none recorded)."""
    token_logprobs: list[TokenLogprob]
    reply_start: list[int] | None = None
    """Tokens the next completions' replies begin with, appended to their prompts (set per call)."""

    def create_completion(self, prompt: Any, *args: Any, **kwargs: Any) -> Any:
        # Every chat format ends by calling this with the prompt's tokens: the reply's given start
        # goes after them, whatever template rendered them.
        if not isinstance(prompt, list):
            return super().create_completion(prompt, *args, **kwargs)
        if self.reply_start:
            prompt = [*prompt, *self.reply_start]
        cache = self.cache
        settled = (
            not kwargs.get("stream")  # a stream saves its state as it ends: left as it is
            and isinstance(cache, PrefixStateCache)
            and cache.settled(prompt, common_prefix(self.input_ids[: self.n_tokens].tolist(), prompt))
        )
        if not settled:
            return super().create_completion(prompt, *args, **kwargs)
        self.cache = None  # the next question on the same schema prompt: its state is kept already
        try:
            return super().create_completion(prompt, *args, **kwargs)
        finally:
            self.cache = cache

    def start_generation(self, logprob_top: int = 0) -> None:
        self.prompt_evaluated, self.decode_steps, self._prompt_done = 0, 0, False
        self.logprob_top, self.token_logprobs = logprob_top, []

    def sample(self, *args: Any, **kwargs: Any) -> int:
        token: int = super().sample(*args, **kwargs)
        if self.logprob_top:
            idx = kwargs.get("idx")  # generate passes the position sampled by keyword
            self._note_logprob(token, -1 if idx is None else idx - self.n_tokens)
        return token

    def _note_logprob(self, token: int, row: int) -> None:
        """The sampled token's log-probability and the likeliest alternatives at its position, read
        from llama.cpp's raw logits (temperature 1, before the sampler's cuts)."""
        logits = np.ctypeslib.as_array(self._ctx.get_logits_ith(row), shape=(self.n_vocab(),))
        peak = float(logits.max())
        log_total = peak + float(np.log(np.exp(logits - peak, dtype=np.float64).sum()))
        top = np.argpartition(logits, -self.logprob_top)[-self.logprob_top :]
        top = top[np.argsort(-logits[top])]

        def text(t: int) -> str:
            return self.detokenize([t]).decode("utf-8", errors="replace")

        self.token_logprobs.append(
            TokenLogprob(
                token=text(token),
                logprob=float(logits[token]) - log_total,
                top=[TokenAlternative(token=text(int(t)), logprob=float(logits[t]) - log_total) for t in top],
            )
        )

    def eval(self, tokens: Sequence[int]) -> None:
        if not self._prompt_done:  # a generation's first evaluation is its prompt's uncached part
            self.prompt_evaluated, self._prompt_done = len(tokens), True
        else:
            self.decode_steps += 1
        if self.draft_model is None:
            super().eval(tokens)
            return
        self._ctx.kv_cache_seq_rm(-1, self.n_tokens, -1)
        for i in range(0, len(tokens), self.n_batch):
            batch = tokens[i : min(len(tokens), i + self.n_batch)]
            n_past = self.n_tokens
            # Logits for every position only on the short batches drafting makes; a long prompt
            # needs its last position's alone, and the vocabulary projection of each is costly.
            self._batch.set_batch(batch=batch, n_past=n_past, logits_all=len(batch) <= 1 + 32)
            self._ctx.decode(self._batch)
            self.input_ids[n_past : n_past + len(batch)] = batch
            self.n_tokens += len(batch)
            self._requires_eval = False


_CLASSES: dict[type, type[DraftingLlama]] = {}


def drafting_llama(base: type) -> type[DraftingLlama]:
    """:class:`DraftingLlama` on ``base``, the ``llama_cpp.Llama`` of the moment: bound when the
    model is built, not when this module is imported (tests stand a fake in for it)."""
    if base not in _CLASSES:
        _CLASSES[base] = type(f"Drafting{base.__name__}", (DraftingLlama, base), {})
    return _CLASSES[base]
