"""A small planning-quality suite: for each goal, which tools a sensible plan must use.

The figures (plan validity, tool recall, stop reasons, scores, time) are printed
by ``benchmarks/run_benchmarks.py``; nothing here asserts a threshold.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from pydantic import BaseModel, Field

from atomwork.errors import AtomworkError
from atomwork.sdk import Atomwork


class EvalCase(BaseModel):
    goal: str
    expected_tools: set[str] = Field(description="tools any good plan uses (at least one of each group)")


DEFAULT_CASES: list[EvalCase] = [
    EvalCase(goal="Revenue by region for 1997", expected_tools={"sales_by_region"}),
    EvalCase(goal="Support ticket counts by priority last quarter", expected_tools={"ticket_stats"}),
    EvalCase(goal="Headcount by department", expected_tools={"headcount_by_department"}),
    EvalCase(
        goal="Analyze last quarter's sales by region, flag anomalies, draft a report for the sales director",
        expected_tools={"sales_by_region", "detect_anomalies", "draft_report"},
    ),
]


class CaseResult(BaseModel):
    goal: str
    planned_tools: list[str] = Field(default_factory=list)
    tool_recall: float = 0.0
    stop_reason: str = ""
    tasks_passed: int = 0
    tasks_total: int = 0
    final_score: float | None = None
    seconds: float = 0.0
    error: str | None = None


class EvalReport(BaseModel):
    model: str
    cases: list[CaseResult]

    @property
    def mean_recall(self) -> float:
        return sum(c.tool_recall for c in self.cases) / max(1, len(self.cases))

    @property
    def completed(self) -> int:
        return sum(1 for c in self.cases if c.stop_reason == "completed")


def run_suite(session: Atomwork, cases: Sequence[EvalCase] = DEFAULT_CASES) -> EvalReport:
    results = []
    for case in cases:
        start = time.perf_counter()
        try:
            run = session.run(case.goal)
        except AtomworkError as exc:
            results.append(CaseResult(goal=case.goal, error=str(exc), seconds=time.perf_counter() - start))
            continue
        tools = [t.tool for t in run.plan.tasks]
        results.append(
            CaseResult(
                goal=case.goal,
                planned_tools=tools,
                tool_recall=len(case.expected_tools & set(tools)) / len(case.expected_tools),
                stop_reason=str(run.stop_reason),
                tasks_passed=sum(1 for o in run.outcomes.values() if o.ok),
                tasks_total=len(run.outcomes),
                final_score=run.final_evaluation.score if run.final_evaluation else None,
                seconds=time.perf_counter() - start,
            )
        )
    return EvalReport(model=session.model.name, cases=results)
