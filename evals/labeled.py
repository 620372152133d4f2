"""A labeled set of real SQL results, for measuring the verifier itself.

Every query the SQL analyst wrote during a bench run is kept with its result and labeled right or
wrong by the eval set's hand-written SQL. Replaying the verifier's rule (the answer checks hold
and an independently written query agrees) over the stored set gives its precision and recall
for "pass" without running a model, so a change to the checks can be measured at once.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path

from pydantic import BaseModel, Field

from atomwork.agents.answer_checks import check_sql_answer
from atomwork.agents.answerer import table_text
from atomwork.agents.data_probe import DataProbe, warehouse_probe
from atomwork.agents.sql_analyst import SURE, period_hints, results_agree
from atomwork.evals.cases import DatasetName, EvalCase
from atomwork.evals.scoring import score_answer
from atomwork.result import RunResult
from atomwork.tools.base import Table
from atomwork.tools.glossary import STANDARD
from atomwork.tools.schema import SchemaCatalog

LABELED_PATH = Path(__file__).with_name("labeled_sql.jsonl")


class LabeledAttempt(BaseModel):
    sql: str
    table: Table
    correct: bool
    repeat_chance: float | None = None
    """What the model's token probabilities gave a verifying sample (None: not recorded)."""


class LabeledQuestion(BaseModel):
    case_id: str
    dataset: DatasetName
    question: str
    model: str
    attempts: list[LabeledAttempt] = Field(default_factory=list)


class VerifierFigures(BaseModel):
    """The verifier's decisions against the labels, one decision per stored query."""

    queries: int
    right: int
    passed: int
    true_pass: int
    wrong_rejected: int

    @property
    def precision(self) -> float:
        return self.true_pass / self.passed if self.passed else 0.0

    @property
    def recall(self) -> float:
        return self.true_pass / self.right if self.right else 0.0

    @property
    def wrong_rejected_rate(self) -> float:
        wrong = self.queries - self.right
        return self.wrong_rejected / wrong if wrong else 1.0


def label_run(case: EvalCase, expected: Table, result: RunResult) -> LabeledQuestion | None:
    """The run's SQL attempts that produced a table, each labeled by the case's expected answer."""
    item = LabeledQuestion(case_id=case.id, dataset=case.dataset, question=case.question, model=result.model)
    for outcome in result.outcomes.values():
        provenance = outcome.result.provenance if outcome.result else None
        if provenance is None:
            continue
        for attempt in provenance.attempts:
            if attempt.table is None or attempt.question is not None:
                continue  # no result, or the answer to one part, which the case's answer does not label
            score = score_answer(case, expected, table_text(attempt.table), [attempt.table])
            item.attempts.append(
                LabeledAttempt(
                    sql=attempt.sql,
                    table=attempt.table,
                    correct=score.correct,
                    repeat_chance=attempt.repeat_chance,
                )
            )
    return item if item.attempts else None


def verifier_passes(
    question: LabeledQuestion, catalog: SchemaCatalog, probe: DataProbe | None = None
) -> list[bool]:
    """Replay the verifier's rule on each stored query of one question: it passes the answer checks
    (run again here) and agrees with another passing query, or its recorded token probabilities
    made it sure alone."""
    hints = period_hints(question.question, catalog.data_end)
    years = sorted({str(y) for h in hints for y in (h.start.year, h.end.year)})
    glossary = STANDARD.for_schema(catalog)
    clean = [
        not check_sql_answer(
            question.question,
            a.sql,
            a.table,
            catalog,
            period_years=years,
            glossary=glossary,
            probe=probe,
        )
        for a in question.attempts
    ]
    decisions = []
    for i, attempt in enumerate(question.attempts):
        agrees = any(
            clean[j] and results_agree(attempt.table, other.table)
            for j, other in enumerate(question.attempts)
            if j != i
        )
        # Or sure on its own: a verifying sample would have written it again (see SqlAnalyst).
        sure = attempt.repeat_chance is not None and attempt.repeat_chance >= SURE
        decisions.append(clean[i] and (agrees or sure))
    return decisions


def measure(
    items: Sequence[LabeledQuestion],
    catalog_for: Callable[[DatasetName], SchemaCatalog],
    probe_for: Callable[[DatasetName], DataProbe] | None = None,
) -> VerifierFigures:
    queries = right = passed = true_pass = wrong_rejected = 0
    for item in items:
        probe = probe_for(item.dataset) if probe_for else None
        decisions = verifier_passes(item, catalog_for(item.dataset), probe)
        for attempt, ok in zip(item.attempts, decisions, strict=True):
            queries += 1
            right += attempt.correct
            passed += ok
            true_pass += ok and attempt.correct
            wrong_rejected += (not ok) and (not attempt.correct)
    return VerifierFigures(
        queries=queries, right=right, passed=passed, true_pass=true_pass, wrong_rejected=wrong_rejected
    )


def save(items: Sequence[LabeledQuestion], path: Path = LABELED_PATH) -> Path:
    """Merge ``items`` into the stored set (one line per case and model; newer replaces older)."""
    stored = {(i.case_id, i.model): i for i in load(path)} if path.exists() else {}
    stored.update({(i.case_id, i.model): i for i in items})
    path.write_text("".join(i.model_dump_json() + "\n" for i in stored.values()), encoding="utf-8")
    return path


def load(path: Path = LABELED_PATH) -> list[LabeledQuestion]:
    if not path.exists():
        return []
    return [
        LabeledQuestion.model_validate(json.loads(line)) for line in path.read_text().splitlines() if line
    ]


def evaluate_labeled(model: object = None) -> dict[str, float]:
    """Verifier precision/recall on the stored labeled set (the model is not needed)."""
    from atomwork.evals.datasets import dataset_path
    from atomwork.tools.warehouse import Warehouse

    items = load()
    catalogs: dict[DatasetName, SchemaCatalog] = {}
    warehouses: dict[DatasetName, Warehouse] = {}

    def warehouse_for(name: DatasetName) -> Warehouse:
        if name not in warehouses:
            warehouses[name] = Warehouse.open(dataset_path(name))
        return warehouses[name]

    def catalog_for(name: DatasetName) -> SchemaCatalog:
        if name not in catalogs:
            catalogs[name] = SchemaCatalog.read(warehouse_for(name))
        return catalogs[name]

    try:
        figures = measure(items, catalog_for, lambda name: warehouse_probe(warehouse_for(name)))
    finally:
        for warehouse in warehouses.values():
            warehouse.close()
    return {
        "questions": float(len(items)),
        "queries": float(figures.queries),
        "right": float(figures.right),
        "passed": float(figures.passed),
        "precision": figures.precision,
        "recall": figures.recall,
        "wrong_rejected": figures.wrong_rejected_rate,
    }
