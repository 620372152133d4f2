"""Runnable examples: ``python -m atomwork.examples.quarterly_sales``."""
