"""Evaluation suites: run fixed goals through atomwork and report quality figures.

``EvalCase`` here is the planning suite's case; the answer-accuracy case is ``atomwork.evals.cases.EvalCase``.
"""

from atomwork.evals.cases import DatasetName, Expect, Level
from atomwork.evals.datasets import all_cases, dataset_path, expected_table, select_cases
from atomwork.evals.scoring import Score, extract_numbers, score_answer
from atomwork.evals.suite import DEFAULT_CASES, EvalCase, EvalReport, run_suite

__all__ = [
    "DEFAULT_CASES",
    "DatasetName",
    "EvalCase",
    "EvalReport",
    "Expect",
    "Level",
    "Score",
    "all_cases",
    "dataset_path",
    "expected_table",
    "extract_numbers",
    "run_suite",
    "score_answer",
    "select_cases",
]
