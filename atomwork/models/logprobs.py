"""Token log-probabilities of a reply, and the chance that sampling would repeat it.

A caller that asks for ``logprobs`` gets, per generated token, its log-probability and the
likeliest tokens at its position (temperature 1, before any sampler truncation), as OpenAI's and
vLLM's ``top_logprobs`` report them. From them :func:`repeat_chance` bounds the chance that a
sample at a lower temperature would have produced the same reply token for token: what a second
sample of a greedy reply would show, known without paying for it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from pydantic import BaseModel, Field

__all__ = ["TokenAlternative", "TokenLogprob", "repeat_chance"]


class TokenAlternative(BaseModel):
    token: str
    logprob: float


class TokenLogprob(BaseModel):
    """One generated token."""

    token: str
    logprob: float
    top: list[TokenAlternative] = Field(default_factory=list)
    """The likeliest tokens at this position, most likely first (the generated one among them when
    it is one of them)."""


def repeat_chance(
    tokens: Sequence[TokenLogprob],
    temperature: float,
    *,
    equivalent: Callable[[int, str], bool] | None = None,
) -> float:
    """A lower bound on the chance that sampling at ``temperature`` (0 < t <= 1) repeats ``tokens``.

    At each position the sampler keeps token i with probability p_i^(1/t) / sum_j p_j^(1/t). The
    listed alternatives give the largest terms; the unlisted rest holds probability 1 - sum(listed),
    none of it above the smallest listed p_min, so it adds at most rest * p_min^(1/t - 1). Samplers
    that also cut the tail (llama.cpp's min-p) only make a repeat likelier.

    ``equivalent(i, alternative)``: whether choosing ``alternative`` at position ``i`` still leads
    to an equivalent reply (another spelling of the same thing); such alternatives count as
    repeats. The bound then assumes that the equivalent path is as certain as the one taken."""
    if not 0 < temperature <= 1:
        raise ValueError(f"repeat_chance needs a temperature in (0, 1], got {temperature}")
    scale = 1 / temperature
    total = 0.0
    for i, token in enumerate(tokens):
        listed = [(a.logprob, a.token) for a in token.top]
        if not any(math.isclose(lp, token.logprob, abs_tol=1e-6) for lp, _ in listed):
            listed.append((token.logprob, token.token))
        probs = [math.exp(lp) for lp, _ in listed]
        rest = max(0.0, 1.0 - sum(probs))
        # With no alternatives listed, all of the rest might be one token.
        spread = rest**scale if len(listed) == 1 else rest * min(probs) ** (scale - 1)
        kept = math.exp(token.logprob * scale)
        if equivalent is not None:
            kept += sum(
                p**scale
                for p, (lp, text) in zip(probs, listed, strict=True)
                if not math.isclose(lp, token.logprob, abs_tol=1e-6) and equivalent(i, text)
            )
        total += math.log(kept) - math.log(sum(p**scale for p in probs) + spread)
    return min(1.0, math.exp(total))
