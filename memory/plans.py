"""Plan memory: goals of completed runs and their plans, retrieved by similarity.

The planner shows the closest past plans to the model as examples, so a goal that
worked once is planned the same way next time. Embeddings are a local hashing
vectorizer over words and character trigrams: deterministic, no model download.

Plans are kept per scope (a user or tenant), each scope in its own collection: one user's goals
and SQL are never shown to another.
The store is bounded (the oldest plans go first), private to its owner, and a damaged store or
entry costs the examples, never the run.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import re
import threading
import time
from collections.abc import Iterator
from collections.abc import Set as AbstractSet
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import chromadb
from chromadb.api.models.Collection import Collection
from chromadb.api.types import Documents, EmbeddingFunction, Embeddings
from chromadb.config import Settings

from atomwork.errors import ConfigError
from atomwork.plan import Plan

_WORD = re.compile(r"[a-z0-9]+")
log = logging.getLogger("atomwork.memory")

MAX_PLANS = 500
"""Plans kept per memory; the oldest are forgotten first."""


class HashingEmbedding(EmbeddingFunction[Documents]):
    """Feature hashing of words and character trigrams into a unit vector."""

    def __init__(self, dimensions: int = 512) -> None:
        self.dimensions = dimensions

    def __call__(self, input: Documents) -> Embeddings:
        return [self.embed(text) for text in input]  # type: ignore[misc]

    @staticmethod
    def name() -> str:
        return "atomwork-hashing"

    def get_config(self) -> dict[str, Any]:
        return {"dimensions": self.dimensions}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> HashingEmbedding:
        return HashingEmbedding(int(config.get("dimensions", 512)))

    def embed(self, text: str) -> list[float]:
        vector = [0.0] * self.dimensions
        words = _WORD.findall(text.lower())
        features = words + [w[i : i + 3] for w in words for i in range(max(1, len(w) - 2))]
        for feature in features:
            digest = hashlib.blake2b(feature.encode(), digest_size=8).digest()
            index = int.from_bytes(digest[:4], "little") % self.dimensions
            vector[index] += 1.0 if digest[4] & 1 else -1.0
        norm = math.sqrt(sum(v * v for v in vector)) or 1.0
        return [v / norm for v in vector]


class PlanMemory:
    """Persistent ChromaDB collections of (goal -> plan) for completed runs, one per scope.

    A store that cannot be opened or read is one :class:`ConfigError` line (a session then runs
    without memory); at most ``max_plans`` plans are kept per scope."""

    def __init__(self, path: str | Path, *, max_distance: float = 0.6, max_plans: int = MAX_PLANS) -> None:
        self.path = Path(path)
        self.max_distance = max_distance
        self.max_plans = max_plans
        self._lock = threading.Lock()
        self._collections: dict[str, Collection] = {}
        with self._guarded("opening it"):
            self.path.mkdir(parents=True, exist_ok=True, mode=0o700)
            self.path.chmod(0o700)  # past goals and SQL are private to their owner
            self._client = chromadb.PersistentClient(
                path=str(self.path), settings=Settings(anonymized_telemetry=False, allow_reset=False)
            )
            self._collection("")  # a damaged store fails here, not in the middle of a run

    @contextmanager
    def _guarded(self, doing: str) -> Iterator[None]:
        try:
            yield
        except Exception as exc:  # chromadb raises its own, sqlite's and OS errors for a damaged store
            raise ConfigError(f"plan memory {self.path}: {doing} failed: {_first_line(exc)}") from None

    def _collection(self, scope: str) -> Collection:
        """The scope's own collection: plans of one user are never even queried for another."""
        name = "plans-" + hashlib.sha256(scope.encode("utf-8")).hexdigest()[:32]
        with self._lock:
            found = self._collections.get(name)
            if found is None:
                found = self._collections[name] = self._client.get_or_create_collection(
                    name,
                    embedding_function=HashingEmbedding(),  # type: ignore[arg-type]
                    metadata={"hnsw:space": "cosine"},
                )
        return found

    def remember(self, run_id: str, plan: Plan, *, scope: str = "") -> None:
        """Keep ``plan`` for ``scope`` (a user or tenant; "" for runs that name nobody)."""
        with self._guarded("remembering a plan"):
            plans = self._collection(scope)
            plans.upsert(
                ids=[run_id],
                documents=[plan.goal],
                metadatas=[{"plan": plan.model_dump_json(), "at": time.time()}],
            )
            extra = plans.count() - self.max_plans
            if extra > 0:  # forget the oldest
                found = plans.get(include=["metadatas"])
                stamped = sorted(
                    zip(found["ids"], found.get("metadatas") or [], strict=True),
                    key=lambda item: _stamp(item[1].get("at") if item[1] else None),
                )
                plans.delete(ids=[old for old, _ in stamped[:extra]])

    def recall(self, goal: str, k: int = 2, *, scope: str = "") -> list[Plan]:
        """``scope``'s past plans for the most similar goals (closest first, within
        ``max_distance``); an entry that does not read as a plan is skipped."""
        with self._guarded("recalling plans"):
            plans = self._collection(scope)
            count = plans.count()
            if count == 0:
                return []
            found = plans.query(query_texts=[goal], n_results=min(k, count))
        recalled = []
        metadatas = (found.get("metadatas") or [[]])[0]
        distances = (found.get("distances") or [[]])[0]
        for meta, distance in zip(metadatas, distances, strict=True):
            if distance > self.max_distance:
                continue
            try:
                recalled.append(Plan.model_validate_json(str(meta["plan"])))
            except (KeyError, TypeError, ValueError):
                log.warning("plan memory %s: a damaged entry was skipped", self.path)
        return recalled

    def examples(
        self, goal: str, k: int = 2, *, scope: str = "", tools: AbstractSet[str] | None = None
    ) -> str:
        """Recalled plans rendered as extra planner examples ('' when none). With ``tools``, only
        plans whose every tool is among them (a plan the user may not run is no example)."""
        lines = []
        for plan in self.recall(goal, k, scope=scope):
            if tools is not None and any(t.tool not in tools for t in plan.tasks):
                continue
            tasks = [
                t.model_dump(include={"id", "tool", "department", "args", "depends_on"}) for t in plan.tasks
            ]
            lines.append(f'Past goal that worked: "{plan.goal}"\nIts plan: {{"tasks": {json.dumps(tasks)}}}')
        return ("\n" + "\n".join(lines)) if lines else ""

    def count(self, *, scope: str = "") -> int:
        """Plans kept for ``scope``."""
        with self._guarded("counting plans"):
            return int(self._collection(scope).count())

    def __len__(self) -> int:
        return self.count()


def _stamp(value: object) -> float:
    """When a plan was remembered (0 for entries from before plans were stamped)."""
    return float(value) if isinstance(value, int | float) else 0.0


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
