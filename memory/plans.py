"""Plan memory: goals of completed runs and their plans, retrieved by similarity.

The planner shows the closest past plans to the model as examples, so a goal that
worked once is planned the same way next time. Embeddings are a local hashing
vectorizer over words and character trigrams: deterministic, no model download.
"""

from __future__ import annotations

import hashlib
import math
import re
from pathlib import Path
from typing import Any

import chromadb
from chromadb.api.types import Documents, EmbeddingFunction, Embeddings
from chromadb.config import Settings

from atomwork.plan import Plan

_WORD = re.compile(r"[a-z0-9]+")


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
    """A persistent ChromaDB collection of (goal -> plan) for completed runs."""

    def __init__(self, path: str | Path, *, max_distance: float = 0.6) -> None:
        self.path = Path(path)
        self.path.mkdir(parents=True, exist_ok=True)
        self.max_distance = max_distance
        self._client = chromadb.PersistentClient(
            path=str(self.path), settings=Settings(anonymized_telemetry=False, allow_reset=False)
        )
        self._plans = self._client.get_or_create_collection(
            "plans",
            embedding_function=HashingEmbedding(),  # type: ignore[arg-type]
            metadata={"hnsw:space": "cosine"},
        )

    def remember(self, run_id: str, plan: Plan) -> None:
        self._plans.upsert(ids=[run_id], documents=[plan.goal], metadatas=[{"plan": plan.model_dump_json()}])

    def recall(self, goal: str, k: int = 2) -> list[Plan]:
        """Past plans for the most similar goals (closest first, within ``max_distance``)."""
        count = self._plans.count()
        if count == 0:
            return []
        found = self._plans.query(query_texts=[goal], n_results=min(k, count))
        plans = []
        metadatas = (found.get("metadatas") or [[]])[0]
        distances = (found.get("distances") or [[]])[0]
        for meta, distance in zip(metadatas, distances, strict=True):
            if distance <= self.max_distance:
                plans.append(Plan.model_validate_json(str(meta["plan"])))
        return plans

    def examples(self, goal: str, k: int = 2) -> str:
        """Recalled plans rendered as extra planner examples ('' when none)."""
        lines = []
        for plan in self.recall(goal, k):
            tasks = [
                t.model_dump(include={"id", "tool", "department", "args", "depends_on"}) for t in plan.tasks
            ]
            lines.append(f'Past goal that worked: "{plan.goal}"\nIts plan: {{"tasks": {_json(tasks)}}}')
        return ("\n" + "\n".join(lines)) if lines else ""

    def __len__(self) -> int:
        return int(self._plans.count())


def _json(value: Any) -> str:
    import json

    return json.dumps(value)
