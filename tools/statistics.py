"""Robust statistics for tools: z-scores from the median and MAD, and reading a cell as a number."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from typing import Any

__all__ = ["as_number", "robust_z_scores"]


def robust_z_scores(values: Sequence[float]) -> tuple[list[float], float, float]:
    """Robust z-scores ``0.6745 * (x - median) / MAD`` with the median and the scale used.

    When the MAD is 0 (over half the values equal) the mean absolute deviation (times 1.2533)
    stands in; when that is 0 too, every score is 0."""
    if not values:
        return [], 0.0, 0.0
    median = statistics.median(values)
    mad = statistics.median(abs(v - median) for v in values)
    if mad > 0:
        return [0.6745 * (v - median) / mad for v in values], median, mad
    mean_ad = statistics.fmean(abs(v - median) for v in values)
    if mean_ad > 0:
        return [(v - median) / (1.2533 * mean_ad) for v in values], median, mean_ad
    return [0.0 for _ in values], median, 0.0


def as_number(value: Any) -> float | None:
    """A table cell as a float ("1,000", "$9,000" and "12%" included); None when it is no number."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return None if isinstance(value, float) and math.isnan(value) else float(value)
    if isinstance(value, str):
        try:
            number = float(value.replace(",", "").replace("$", "").replace("%", "").strip())
        except ValueError:
            return None
        return None if math.isnan(number) else number
    return None
