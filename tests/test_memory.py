from atomwork.memory import HashingEmbedding, PlanMemory
from atomwork.plan import AtomicTask, Plan


def _plan(goal: str, tool: str) -> Plan:
    return Plan(
        goal=goal, tasks=[AtomicTask(id="t1", department="sales", tool=tool, args={"period": "1998"})]
    )


def test_hashing_embedding_is_deterministic_and_similarity_is_meaningful():
    emb = HashingEmbedding()
    a, b, c = (
        emb.embed(t)
        for t in [
            "revenue by region last quarter",
            "revenue by region for last quarter",
            "employee attrition",
        ]
    )
    assert a == emb.embed("revenue by region last quarter")
    assert [round(float(x), 5) for x in emb(["revenue by region last quarter"])[0]] == [
        round(x, 5) for x in a
    ]
    dot = lambda x, y: sum(p * q for p, q in zip(x, y, strict=True))  # noqa: E731
    assert dot(a, b) > 0.7 > dot(a, c)


def test_plan_memory_persists_and_recalls_similar_goals(tmp_path):
    memory = PlanMemory(tmp_path / "mem")
    memory.remember("r1", _plan("revenue by region last quarter", "sales_by_region"))
    memory.remember("r2", _plan("employee attrition in 1997", "attrition"))
    reopened = PlanMemory(tmp_path / "mem")  # a new client on the same files
    assert len(reopened) == 2
    recalled = reopened.recall("sales revenue by region for the last quarter", k=1)
    assert [p.tasks[0].tool for p in recalled] == ["sales_by_region"]
    assert "sales_by_region" in reopened.examples("revenue by region last quarter")
    assert reopened.recall("completely unrelated zebra topic") == []
