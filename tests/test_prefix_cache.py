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


def test_a_kept_family_is_settled_only_while_the_context_holds_as_much_of_it():
    cache = PrefixStateCache(1 << 20, None)
    cache[ONE] = state(ONE)
    assert cache.settled(TWO, live=len(SCHEMA))  # the context holds the schema prompt: nothing to do
    assert not cache.settled(TWO, live=10)  # another family in the context: the state is restored
    assert not cache.settled(list(range(5000, 5600)), live=600)  # a new family: its state is kept


def test_a_completion_in_a_settled_family_neither_restores_nor_keeps_a_state():
    from atomwork.models.llamacpp_draft import drafting_llama

    class _Completer:  # llama_cpp.Llama's create_completion, noting the cache it would use
        def __init__(self) -> None:
            self.input_ids, self.n_tokens, self.used = np.zeros(2048, dtype=np.intc), 0, []

        def create_completion(self, prompt, **kwargs):
            self.used.append(self.cache)
            self.input_ids[: len(prompt)], self.n_tokens = prompt, len(prompt)
            return prompt

    llama = drafting_llama(_Completer)()
    llama.cache = cache = PrefixStateCache(1 << 20, None)
    llama.create_completion(ONE)  # a new family: the cache restores and keeps as usual
    cache[ONE] = state(ONE)
    llama.create_completion(TWO)  # the context holds the schema prompt and RAM a state of it
    llama.create_completion(TWO, stream=True)  # a stream saves as it ends: left as it is
    assert llama.used == [cache, None, cache] and llama.cache is cache
