"""Long-term memory of plans that worked, kept in a local ChromaDB."""

from atomwork.memory.plans import HashingEmbedding, PlanMemory

__all__ = ["HashingEmbedding", "PlanMemory"]
