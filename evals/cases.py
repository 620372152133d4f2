"""The answer-accuracy eval set's data model: a business question, the dataset it runs on,
and the hand-written SQL whose result is the right answer.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, Field

__all__ = ["DatasetName", "EvalCase", "Expect", "Level"]


class Level(StrEnum):
    """How much work a question takes: one figure, a breakdown, or several steps."""

    FACT = "fact"
    GROUPED = "grouped"
    MULTI = "multi"


class DatasetName(StrEnum):
    """The database a question runs on (see :func:`atomwork.evals.datasets.dataset_path`)."""

    DEMO = "demo"
    TPCH = "tpch"
    CRM = "crm"


class Expect(StrEnum):
    """The shape of the expected answer, i.e. of the result of the case's SQL.

    - ``NUMBER``: 1 row x 1 numeric column; the answer must state that number.
    - ``ENTITY``: 1 row; column 1 names the entity, which the answer must name.
    - ``ROWS``: 2..25 rows of (label, number, ...); each label with its first number must appear.
    - ``REPORT``: the figures a correct report contains, (label, number) rows or one row of numbers.
    """

    NUMBER = "number"
    ENTITY = "entity"
    ROWS = "rows"
    REPORT = "report"


class EvalCase(BaseModel, frozen=True):
    """One question of the answer-accuracy set; the right answer is ``sql`` run on ``dataset``."""

    id: str = Field(description="unique, stable identifier, e.g. demo-sales-01")
    dataset: DatasetName
    level: Level
    department: str = Field(description="sales, finance, hr, marketing, support, operations, ...")
    question: str = Field(description="the question as a manager would type it")
    sql: str = Field(description="hand-written DuckDB SQL whose result is the expected answer")
    expect: Expect
    rel_tol: float = Field(default=0.005, ge=0, description="relative tolerance for non-integer numbers")
    note: str = Field(default="", description="conventions used (e.g. what 'revenue' means)")
