"""The chance that a sample repeats a reply, from the reply's token log-probabilities."""

from __future__ import annotations

import math

import pytest

from atomwork.models.logprobs import TokenAlternative, TokenLogprob, repeat_chance


def token(text: str, p: float, *others: tuple[str, float]) -> TokenLogprob:
    alternatives = sorted([(text, p), *others], key=lambda a: -a[1])
    return TokenLogprob(
        token=text,
        logprob=math.log(p),
        top=[TokenAlternative(token=t, logprob=math.log(q)) for t, q in alternatives],
    )


def test_certain_tokens_are_always_repeated():
    assert repeat_chance([token("SELECT", 1.0), token(" 1", 1.0)], 0.4) == pytest.approx(1.0)
    assert repeat_chance([], 0.4) == 1.0


def test_a_lower_temperature_sharpens_the_choice():
    tokens = [token(" count", 0.6, (" sum", 0.4))]
    assert repeat_chance(tokens, 1.0) == pytest.approx(0.6)
    assert repeat_chance(tokens, 0.4) == pytest.approx(0.6**2.5 / (0.6**2.5 + 0.4**2.5))
    # Positions multiply: two such choices are each to be repeated.
    assert repeat_chance(tokens * 2, 0.4) == pytest.approx(repeat_chance(tokens, 0.4) ** 2)


def test_unlisted_tokens_count_against_a_repeat():
    listed = [token("a", 0.5, ("b", 0.1))]  # 0.4 of the probability is spread over unlisted tokens
    bound = 0.5**2.5 / (0.5**2.5 + 0.1**2.5 + 0.4 * 0.1**1.5)
    assert repeat_chance(listed, 0.4) == pytest.approx(bound)
    alone = [TokenLogprob(token="a", logprob=math.log(0.5))]  # nothing known of the rest: one token
    assert repeat_chance(alone, 0.4) == pytest.approx(0.5**2.5 / (0.5**2.5 + 0.5**2.5))


def test_an_equivalent_alternative_counts_as_a_repeat():
    tokens = [token(" COUNT", 0.5, (" count", 0.45), (" sum", 0.05))]
    plain = repeat_chance(tokens, 0.4)
    same_case = repeat_chance(tokens, 0.4, equivalent=lambda i, alt: alt.strip().lower() == "count")
    assert same_case > 0.99 > plain


def test_the_temperature_must_be_a_sampling_one():
    with pytest.raises(ValueError, match="temperature"):
        repeat_chance([token("a", 0.9, ("b", 0.1))], 0.0)
