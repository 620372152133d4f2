"""The answer-accuracy benchmark: run systems (atomwork and the baselines) over eval cases on one
shared model, score every answer against the case's hand-written SQL, and aggregate the figures.
"""

from __future__ import annotations

import resource
import statistics
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from pydantic import BaseModel, Field

from atomwork.evals.cases import DatasetName, EvalCase, Level
from atomwork.evals.labeled import LabeledQuestion, label_run
from atomwork.models.base import ChatModel, Usage
from atomwork.tools.base import Table
from atomwork.tools.warehouse import Warehouse

if TYPE_CHECKING:
    from atomwork.sdk import Atomwork

__all__ = [
    "AtomworkSystem",
    "BenchReport",
    "CaseRecord",
    "System",
    "SystemAnswer",
    "SystemMetrics",
    "Usage",
    "WarehousePool",
    "compute_metrics",
    "peak_rss_mib",
    "run_bench",
    "usage_since",
]


# --------------------------------------------------------------------------- the system contract


class SystemAnswer(BaseModel):
    """What a system gave for one question. ``completed`` is the system's own claim of success."""

    answer: str = ""
    tables: list[Table] = Field(default_factory=list)
    completed: bool = False
    stop_reason: str = ""
    error: str | None = None


@runtime_checkable
class System(Protocol):
    """Something that answers an eval question; it uses the model it was built with."""

    name: str

    def answer(self, case: EvalCase) -> SystemAnswer: ...

    def close(self) -> None: ...


class WarehousePool:
    """One read-only warehouse per dataset, opened on first use and closed together."""

    def __init__(self, path_for: Callable[[DatasetName], Path] | None = None) -> None:
        self._path_for = path_for
        self._open: dict[DatasetName, Warehouse] = {}

    def path(self, dataset: DatasetName) -> Path:
        if self._path_for is not None:
            return self._path_for(dataset)
        from atomwork.evals.datasets import dataset_path

        return dataset_path(dataset)

    def get(self, dataset: DatasetName) -> Warehouse:
        if dataset not in self._open:
            self._open[dataset] = Warehouse.open(self.path(dataset))
        return self._open[dataset]

    def close(self) -> None:
        for warehouse in self._open.values():
            warehouse.close()
        self._open.clear()


class AtomworkSystem:
    """atomwork itself: plan, execute, evaluate, replan. One session per dataset, all on one model."""

    name = "atomwork"

    def __init__(self, session_factory: Callable[[DatasetName], Atomwork]) -> None:
        self._factory = session_factory
        self._sessions: dict[DatasetName, Atomwork] = {}
        self.labeled: list[LabeledQuestion] = []
        """Every SQL query the runs wrote, labeled by the cases' hand-written SQL (see evals/labeled.py)."""

    @classmethod
    def for_model(
        cls, model: ChatModel, path_for: Callable[[DatasetName], Path] | None = None, **options: Any
    ) -> AtomworkSystem:
        """Sessions on ``model`` over each dataset's file, without run records or plan memory
        (memory would let one question's plan leak into the next and flatter the figures)."""
        from atomwork.sdk import Atomwork

        pool = WarehousePool(path_for)

        def factory(dataset: DatasetName) -> Atomwork:
            return Atomwork(
                model=model, warehouse=pool.path(dataset), save_runs=False, memory=False, **options
            )

        return cls(factory)

    def answer(self, case: EvalCase) -> SystemAnswer:
        if case.dataset not in self._sessions:
            self._sessions[case.dataset] = self._factory(case.dataset)
        result = self._sessions[case.dataset].run(case.question)
        try:
            from atomwork.evals.datasets import expected_table

            item = label_run(case, expected_table(case), result)
        except Exception:  # labeling is a by-product; a broken case must not fail the answer
            item = None
        if item is not None:
            self.labeled.append(item)
        stop = str(result.stop_reason)
        return SystemAnswer(
            answer=result.answer,
            tables=list(result.tables.values()),
            completed=stop == "completed",
            stop_reason=stop,
        )

    def close(self) -> None:
        # Atomwork.close() would also close the shared model, which outlives this system.
        for session in self._sessions.values():
            session.warehouse.close()
        self._sessions.clear()


# --------------------------------------------------------------------------- usage accounting


def usage_since(model: ChatModel, mark: int) -> Usage:
    """Model usage since ``mark`` (= ``len(model.calls)`` taken before the case)."""
    return model.usage_since(mark)


def peak_rss_mib() -> float:
    """Peak resident memory of this process so far (Linux reports ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --------------------------------------------------------------------------- records and metrics


class CaseRecord(BaseModel):
    """One system's attempt at one question, scored."""

    system: str
    model: str
    case_id: str
    dataset: str
    level: str
    department: str
    question: str
    answer: str
    expected: str
    correct: bool
    detail: str
    completed: bool
    stop_reason: str
    error: str | None = None
    seconds: float
    calls: int
    prompt_tokens: int
    completion_tokens: int
    cached_prompt_tokens: int = 0
    """Prompt tokens a backend served from its prefix cache (part of ``prompt_tokens``)."""

    @property
    def completed_but_wrong(self) -> bool:
        return self.completed and not self.correct

    @property
    def unverified_but_right(self) -> bool:
        return self.stop_reason == "unverified" and self.correct


class SystemMetrics(BaseModel):
    """Aggregates for one system on one model. Rates are fractions (0..1) of all its cases."""

    system: str
    model: str
    cases: int
    exact: float
    exact_by_level: dict[str, float | None]
    """None for a level without cases."""
    exact_by_dataset: dict[str, float]
    completed_but_wrong: float
    """Claimed completed AND wrong: the dangerous outcome."""
    honest_failure: float
    """Did not claim completion (right or wrong)."""
    unverified_but_right: float
    errors: int
    mean_calls: float
    mean_prompt_tokens: float
    mean_completion_tokens: float
    mean_cached_prompt_tokens: float = 0.0
    mean_seconds: float
    p50_seconds: float
    mean_seconds_by_level: dict[str, float | None]
    p50_seconds_by_level: dict[str, float | None]
    peak_rss_mib: float
    """Process peak RSS when this system finished: the process-wide high-water mark so far (the model's
    memory included), so a later system can only read the same or higher."""


def _rate(flags: Iterable[bool], total: int) -> float:
    return sum(1 for f in flags if f) / total if total else 0.0


def _mean(values: Sequence[float]) -> float:
    return statistics.fmean(values) if values else 0.0


def compute_metrics(records: Sequence[CaseRecord], *, peak_mib: float = 0.0) -> SystemMetrics:
    """Aggregate one system's records (all on the same model)."""
    if not records:
        raise ValueError("no records to aggregate")
    n = len(records)
    by_level: dict[str, list[CaseRecord]] = {level.value: [] for level in Level}
    by_dataset: dict[str, list[CaseRecord]] = {}
    for record in records:
        by_level.setdefault(record.level, []).append(record)
        by_dataset.setdefault(record.dataset, []).append(record)
    return SystemMetrics(
        system=records[0].system,
        model=records[0].model,
        cases=n,
        exact=_rate((r.correct for r in records), n),
        exact_by_level={
            level: _rate((r.correct for r in group), len(group)) if group else None
            for level, group in by_level.items()
        },
        exact_by_dataset={
            name: _rate((r.correct for r in group), len(group)) for name, group in sorted(by_dataset.items())
        },
        completed_but_wrong=_rate((r.completed_but_wrong for r in records), n),
        honest_failure=_rate((not r.completed for r in records), n),
        unverified_but_right=_rate((r.unverified_but_right for r in records), n),
        errors=sum(1 for r in records if r.error),
        mean_calls=_mean([r.calls for r in records]),
        mean_prompt_tokens=_mean([r.prompt_tokens for r in records]),
        mean_completion_tokens=_mean([r.completion_tokens for r in records]),
        mean_cached_prompt_tokens=_mean([r.cached_prompt_tokens for r in records]),
        mean_seconds=_mean([r.seconds for r in records]),
        p50_seconds=statistics.median(r.seconds for r in records),
        mean_seconds_by_level={
            level: _mean([r.seconds for r in group]) if group else None for level, group in by_level.items()
        },
        p50_seconds_by_level={
            level: statistics.median(r.seconds for r in group) if group else None
            for level, group in by_level.items()
        },
        peak_rss_mib=peak_mib,
    )


class BenchReport(BaseModel):
    """Every system's figures and per-case records on one model."""

    model: str
    started_at: datetime
    finished_at: datetime
    metrics: list[SystemMetrics]
    records: list[CaseRecord]
    machine: dict[str, Any] = Field(default_factory=dict)
    """Filled in by :func:`atomwork.evals.report.save_report`."""


# --------------------------------------------------------------------------- the runner

Expected = Callable[[EvalCase], Table]
Scorer = Callable[[EvalCase, Table, str, Sequence[Table]], Any]


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text.splitlines()[0] if text else ''}".rstrip(": ")


def run_bench(
    systems: Sequence[System],
    cases: Sequence[EvalCase],
    model: ChatModel,
    *,
    expected: Expected | None = None,
    score: Scorer | None = None,
    close: bool = True,
    on_record: Callable[[CaseRecord], None] | None = None,
) -> BenchReport:
    """Run every system on every case, one at a time (timings stay clean on a shared CPU).

    An exception from a system is that case's failure (not completed, with the message), never the
    end of the run. ``expected``/``score`` default to the eval set's SQL and scorer; ``close`` closes
    the systems at the end (not the model, which the caller owns)."""
    if expected is None:
        from atomwork.evals.datasets import expected_table

        expected = expected_table
    if score is None:
        from atomwork.evals.scoring import score_answer

        score = score_answer
    started = datetime.now(UTC)
    truth: dict[str, Table | str] = {}
    for case in cases:
        try:
            truth[case.id] = expected(case)
        except Exception as exc:  # a broken case must not sink the run; it scores as wrong for everyone
            truth[case.id] = f"expected answer unavailable: {_first_line(exc)}"
    records: list[CaseRecord] = []
    metrics: list[SystemMetrics] = []
    try:
        for system in systems:
            mine: list[CaseRecord] = []
            for case in cases:
                record = _run_case(system, case, model, truth[case.id], score)
                mine.append(record)
                if on_record is not None:
                    on_record(record)
            records.extend(mine)
            if mine:
                metrics.append(compute_metrics(mine, peak_mib=peak_rss_mib()))
    finally:
        if close:
            for system in systems:
                system.close()
    return BenchReport(
        model=model.name, started_at=started, finished_at=datetime.now(UTC), metrics=metrics, records=records
    )


def _run_case(
    system: System, case: EvalCase, model: ChatModel, truth: Table | str, score: Scorer
) -> CaseRecord:
    mark = len(model.calls)
    start = time.perf_counter()
    try:
        got = system.answer(case)
    except Exception as exc:
        got = SystemAnswer(completed=False, stop_reason="error", error=_first_line(exc))
    seconds = time.perf_counter() - start
    usage = usage_since(model, mark)
    if isinstance(truth, str):
        correct, detail, expected_text = False, truth, ""
    else:
        try:
            verdict = score(case, truth, got.answer, got.tables)
            correct, detail, expected_text = bool(verdict.correct), verdict.detail, verdict.expected
        except Exception as exc:
            correct, detail, expected_text = False, f"scoring failed: {_first_line(exc)}", ""
    return CaseRecord(
        system=system.name,
        model=model.name,
        case_id=case.id,
        dataset=str(case.dataset),
        level=str(case.level),
        department=case.department,
        question=case.question,
        answer=got.answer,
        expected=expected_text,
        correct=correct,
        detail=detail,
        completed=got.completed,
        stop_reason=got.stop_reason,
        error=got.error,
        seconds=round(seconds, 3),
        calls=usage.calls,
        prompt_tokens=usage.prompt_tokens,
        completion_tokens=usage.completion_tokens,
        cached_prompt_tokens=usage.cached_prompt_tokens,
    )
