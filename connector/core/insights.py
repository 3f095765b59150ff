"""Routing insights: fair shares and response-time percentiles, as pure functions.

A rep's fair share of the leads is their weight times the hours they were available in
the period, over the sum of that product for every rep: a rep who works half the hours,
or has half the weight, is owed half as many leads.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime

from .availability import unavailability
from .model import Rep, RepStatus

#: at most this many samples per rep by default (hourly over 92 days)
MAX_SAMPLES = 24 * 92


def available_hours(rep: Rep, start: datetime, end: datetime, *,
                    max_samples: int = MAX_SAMPLES) -> float:
    """Hours of [start, end) within ``rep``'s working hours and not out of office, sampled
    once an hour, or ``max_samples`` times at most over the period. The rep's status is
    left out: it says how they are now, not how they were during the period."""
    if end <= start:
        return 0.0
    total_hours = (end - start).total_seconds() / 3600
    samples = max(1, min(max_samples, math.ceil(total_hours)))
    step = (end - start) / samples
    present = replace(rep, status=RepStatus.AVAILABLE)
    free = sum(1 for i in range(samples) if unavailability(present, start + step * i) is None)
    return total_hours * free / samples


def fair_shares(total: int, weights: Mapping[str, float],
                hours: Mapping[str, float]) -> dict[str, float]:
    """Each rep's fair share of ``total`` leads by weight × available hours. When no rep
    was available at all, by weight alone (someone still got the leads)."""
    products = {rep: max(0.0, weights.get(rep, 1.0)) * max(0.0, hours.get(rep, 0.0))
                for rep in weights}
    basis = sum(products.values())
    if basis <= 0:
        products = {rep: max(0.0, w) for rep, w in weights.items()}
        basis = sum(products.values())
    if basis <= 0:
        return {rep: 0.0 for rep in weights}
    return {rep: total * value / basis for rep, value in products.items()}


def percentile(values: Sequence[float], p: float) -> float | None:
    """The ``p``-th percentile (0-100) by linear interpolation; None without values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * p / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)
