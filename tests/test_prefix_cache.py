"""The KV prefix-state cache: RAM first, and one state per long prompt family kept on disk for the
next process (no model needed: states are plain objects)."""

from __future__ import annotations

from pathlib import Path

import llama_cpp
import numpy as np
import pytest

from atomwork.models.llamacpp_cache import MIN_DISK_TOKENS, PrefixStateCache


def state(tokens: list[int]) -> llama_cpp.LlamaState:
    return llama_cpp.LlamaState(
        input_ids=np.array(tokens, dtype=np.intc),
        scores=np.zeros((1, 4), dtype=np.single),
        n_tokens=len(tokens),
        llama_state=bytes(len(tokens)),
        llama_state_size=len(tokens),
        seed=0,
    )


SCHEMA = list(range(MIN_DISK_TOKENS + 100))  # a long shared system prompt
ONE = [*SCHEMA, 7, 8, 9]
TWO = [*SCHEMA, 5, 6]


def test_a_new_process_restores_the_prompt_family_from_disk(tmp_path: Path):
    first = PrefixStateCache(1 << 20, tmp_path)
    first[ONE] = state(ONE)
    first[[*ONE, 10]] = state([*ONE, 10])  # the same family: the disk already holds most of it
    assert first.disk_writes == 1
    first.close()

    later = PrefixStateCache(1 << 20, tmp_path)
    restored = later[TWO]  # shares the schema prefix with the stored state
    assert restored.input_ids.tolist() == ONE and later.disk_reads == 1
    later[TWO]  # now from RAM
    assert later.disk_reads == 1
    later.close()


def test_short_prompts_stay_in_ram_and_a_miss_is_a_key_error(tmp_path: Path):
    cache = PrefixStateCache(1 << 20, tmp_path)
    cache[[1, 2, 3]] = state([1, 2, 3])
    assert cache.disk_writes == 0 and [1, 2, 3, 4] in cache
    with pytest.raises(KeyError):
        cache[[99]]
    cache.close()


def test_without_a_directory_it_is_a_ram_cache():
    cache = PrefixStateCache(1 << 20, None)
    cache[ONE] = state(ONE)
    assert cache[TWO].input_ids.tolist() == ONE and cache.disk_writes == 0
