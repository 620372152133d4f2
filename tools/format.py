"""How tool summaries write figures: money with K/M/B suffixes, plain numbers, signed percentages."""

from __future__ import annotations

__all__ = ["PARTIAL", "money", "num", "pct"]


def money(value: float | None) -> str:
    if value is None:
        return "n/a"
    sign = "-" if value < 0 else ""
    size = abs(value)
    for limit, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "K")):
        if size >= limit:
            return f"{sign}${size / limit:,.2f}{suffix}"
    return f"{sign}${size:,.2f}"


def num(value: float | None, digits: int = 1) -> str:
    if value is None:
        return "n/a"
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.{digits}f}"


def pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:+.1f}%" if value < 0 or value > 0 else "0.0%"


PARTIAL = " (partial)"
"""Suffix of a period label (a month) only partly covered by the data; such rows are not compared."""
