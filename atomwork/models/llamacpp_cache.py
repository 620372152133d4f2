"""KV prefix states for llama.cpp, in RAM and on disk.

The SQL analyst's schema prompt is 2-3k tokens; on two cores a 1.5B model reads it in about a
minute. Kept in RAM, that minute is paid once per process, but the CLI asks one question per
process. So the first state of each long prompt family (a warehouse's schema prompt, the planner's
catalog) is also written to disk, and a new process restores it instead of re-reading the prompt.

Only a state whose prompt the disk does not already mostly hold is written (a few tens of MB each,
one per family, not one per call); the disk is bounded and least-recently-used states go first.
A state is tied to the model file and context size, which name its directory.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import diskcache
import llama_cpp

DISK_CACHE_BYTES = 2 << 30

MIN_DISK_TOKENS = 512
"""Shorter prompts cost a few seconds to read: not worth a disk write."""

NEW_FAMILY = 0.8
"""A state is written when the disk holds less than this share of its tokens as a prefix."""


def common_prefix(a: Sequence[int], b: Sequence[int]) -> int:
    """How many leading tokens ``a`` and ``b`` share."""
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


class PrefixStateCache(llama_cpp.BaseLlamaCache):
    """An LRU of KV states in RAM, backed by a directory that outlives the process."""

    def __init__(
        self, capacity_bytes: int, directory: Path | None, disk_bytes: int = DISK_CACHE_BYTES
    ) -> None:
        super().__init__(capacity_bytes)
        self.ram = llama_cpp.LlamaRAMCache(capacity_bytes=capacity_bytes)
        self.disk = (
            diskcache.Cache(str(directory), size_limit=disk_bytes, eviction_policy="least-recently-used")
            if directory is not None
            else None
        )
        self.disk_reads = 0
        self.disk_writes = 0

    @property
    def cache_size(self) -> int:
        return int(self.ram.cache_size)

    def _disk_best(self, key: tuple[int, ...]) -> tuple[tuple[int, ...] | None, int]:
        best: tuple[tuple[int, ...] | None, int] = (None, 0)
        if self.disk is None:
            return best
        for stored in self.disk.iterkeys():
            length = common_prefix(stored, key)
            if length > best[1]:
                best = (stored, length)
        return best

    def __getitem__(self, key: Sequence[int]) -> llama_cpp.LlamaState:
        wanted = tuple(key)
        ram_key = self.ram._find_longest_prefix_key(wanted)
        ram_length = common_prefix(ram_key, wanted) if ram_key is not None else 0
        disk_key, disk_length = self._disk_best(wanted)
        if disk_key is not None and self.disk is not None and disk_length > ram_length:
            state = self.disk.get(disk_key)
            if isinstance(state, llama_cpp.LlamaState):
                self.disk_reads += 1
                self.ram[disk_key] = state
                return state
        if ram_key is None:
            raise KeyError("no cached state shares a prefix with the prompt")
        return self.ram[wanted]

    def __contains__(self, key: Sequence[int]) -> bool:
        wanted = tuple(key)
        return self.ram._find_longest_prefix_key(wanted) is not None or self._disk_best(wanted)[0] is not None

    def settled(self, key: Sequence[int], live: int) -> bool:
        """Whether a completion of ``key`` may leave this cache alone: RAM holds a state of its
        prompt family (sharing :data:`NEW_FAMILY` of its tokens) that shares no more of them than the
        ``live`` tokens the context already holds. Nothing then needs restoring, and another state of
        the family (a copy of the whole context, about 0.1 s) would only crowd out other families."""
        wanted = tuple(key)
        kept = self.ram._find_longest_prefix_key(wanted)
        shared = common_prefix(kept, wanted) if kept is not None else 0
        return NEW_FAMILY * len(wanted) <= shared <= live

    def __setitem__(self, key: Sequence[int], value: llama_cpp.LlamaState) -> None:
        stored = tuple(key)
        self.ram[stored] = value
        if self.disk is None or len(stored) < MIN_DISK_TOKENS:
            return
        if self._disk_best(stored)[1] < NEW_FAMILY * len(stored):
            self.disk.set(stored, value)
            self.disk_writes += 1

    def close(self) -> None:
        if self.disk is not None:
            self.disk.close()
