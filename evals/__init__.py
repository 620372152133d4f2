"""Evaluation suites: run fixed goals through atomwork and report quality figures."""

from atomwork.evals.suite import DEFAULT_CASES, EvalCase, EvalReport, run_suite

__all__ = ["DEFAULT_CASES", "EvalCase", "EvalReport", "run_suite"]
