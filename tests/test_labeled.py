"""The verifier's own figures: replaying its rule on labeled SQL results."""

from __future__ import annotations

from atomwork.evals.cases import DatasetName
from atomwork.evals.labeled import LabeledAttempt, LabeledQuestion, measure, verifier_passes
from atomwork.tools.schema import SchemaCatalog
from atomwork.tools.warehouse import Warehouse

RIGHT = "SELECT count(*) AS orders FROM orders WHERE year(o_orderdate) = 1996"
WRONG = "SELECT count(*) AS orders FROM lineitem WHERE year(l_shipdate) = 1996"


def attempt(warehouse: Warehouse, sql: str, correct: bool) -> LabeledAttempt:
    return LabeledAttempt(sql=sql, table=warehouse.query(sql), correct=correct)


def test_agreeing_checked_queries_pass_and_a_lone_or_failing_one_does_not(warehouse):
    catalog = SchemaCatalog.read(warehouse)
    question = "How many orders were placed in 1996?"
    item = LabeledQuestion(
        case_id="q1",
        dataset=DatasetName.DEMO,
        question=question,
        model="m",
        attempts=[
            attempt(warehouse, RIGHT, True),
            attempt(warehouse, RIGHT, True),
            attempt(warehouse, WRONG, False),
        ],
    )
    assert verifier_passes(item, catalog) == [True, True, False]
    figures = measure([item], lambda _: catalog)
    assert (figures.queries, figures.right, figures.passed, figures.true_pass) == (3, 2, 2, 2)
    assert figures.precision == 1.0 and figures.recall == 1.0 and figures.wrong_rejected_rate == 1.0
    lone = item.model_copy(update={"attempts": [attempt(warehouse, RIGHT, True)]})
    assert verifier_passes(lone, catalog) == [False]  # nothing confirmed it
    # Unless its token probabilities made it sure alone, as the analyst decided when it ran.
    sure = attempt(warehouse, RIGHT, True).model_copy(update={"repeat_chance": 0.95})
    assert verifier_passes(lone.model_copy(update={"attempts": [sure]}), catalog) == [True]
    doubtful = sure.model_copy(update={"repeat_chance": 0.3})
    assert verifier_passes(lone.model_copy(update={"attempts": [doubtful]}), catalog) == [False]
    # Sure of a query that fails a check is still a failure.
    wrong_but_sure = attempt(warehouse, WRONG, False).model_copy(update={"repeat_chance": 0.99})
    assert verifier_passes(lone.model_copy(update={"attempts": [wrong_but_sure]}), catalog) == [False]
