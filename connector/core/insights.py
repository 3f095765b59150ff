"""Routing insights: fair shares and response-time percentiles, as pure functions.

A rep's fair share of the leads is their weight times the hours they were available in
the period, over the sum of that product for every rep: a rep who works half the hours,
or has half the weight, is owed half as many leads.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

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


# --- routing measures by router, rep and day -------------------------------------------

@dataclass(frozen=True)
class RoutingFact:
    """One decision that reached the choice of a rep: assigned (to ``rep_id``, perhaps
    the backup user) or not (no rep available, caps reached)."""

    decision_id: str
    router_id: str | None
    object_id: str | None
    rep_id: str | None
    at: datetime
    assigned: bool
    via_backup: bool = False


@dataclass(frozen=True)
class SlaFact:
    """One SLA clock: its owner, start, deadline and how it ended (if it did)."""

    rep_id: str | None
    record_key: str | None
    started_at: datetime
    deadline_at: datetime
    stopped_at: datetime | None = None
    breached_at: datetime | None = None


def sla_state(clock: SlaFact, now: datetime) -> str:
    """``met`` (stopped by the deadline), ``breached`` (marked, stopped late, or still
    running past the deadline) or ``open`` (running, deadline ahead)."""
    if clock.breached_at is not None:
        return "breached"
    if clock.stopped_at is not None:
        return "met" if clock.stopped_at <= clock.deadline_at else "breached"
    return "breached" if clock.deadline_at < now else "open"


def _blank() -> dict[str, Any]:
    return {"decisions": 0, "assigned": 0, "unassigned": 0, "backup": 0, "reassignments": 0,
            "touched": 0, "seconds": [], "sla_met": 0, "sla_breached": 0, "sla_open": 0}


def routing_measures(facts: Sequence[RoutingFact], touches: Mapping[str, Sequence[datetime]],
                     clocks: Sequence[SlaFact], *, group_by: str, now: datetime,
                     ) -> tuple[dict[str, Any], dict[str | None, dict[str, Any]]]:
    """(totals, groups) of the measures; ``group_by`` is ``router``, ``rep``, ``day`` or
    ``total``.

    * speed to lead: from an assignment to the record's first activity at or after it and
      before the record's next assignment (each owner is timed on their own turn);
    * a reassignment: an assignment of a record that had an earlier one in the facts;
    * unassigned and backup rates: over the decisions that reached the choice of a rep;
    * SLA: a clock counts for the rep that owns it, the day it started, and the router of
      the record's latest assignment at or before its start.
    """
    def key(router: str | None, rep: str | None, at: datetime) -> str | None:
        if group_by == "router":
            return router
        if group_by == "rep":
            return rep
        if group_by == "day":
            return at.date().isoformat()
        return "total"

    ordered = sorted(facts, key=lambda f: (f.at, f.decision_id))
    turns: dict[str, list[RoutingFact]] = {}
    for fact in ordered:
        if fact.assigned and fact.object_id is not None:
            turns.setdefault(fact.object_id, []).append(fact)
    positions = {f.decision_id: i for mine in turns.values() for i, f in enumerate(mine)}
    ordered_touches: dict[str, list[datetime]] = {}
    groups: dict[str | None, dict[str, Any]] = {}
    totals = _blank()
    for fact in ordered:
        targets = (groups.setdefault(key(fact.router_id, fact.rep_id, fact.at), _blank()),
                   totals)
        for g in targets:
            g["decisions"] += 1
            g["assigned" if fact.assigned else "unassigned"] += 1
            g["backup"] += int(fact.assigned and fact.via_backup)
        if not fact.assigned or fact.object_id is None:
            continue
        mine = turns[fact.object_id]
        position = positions[fact.decision_id]
        following = mine[position + 1].at if position + 1 < len(mine) else None
        times = ordered_touches.setdefault(fact.object_id,
                                           sorted(touches.get(fact.object_id, ())))
        at = bisect_left(times, fact.at)
        first = times[at] if at < len(times) and (following is None
                                                  or times[at] < following) else None
        for g in targets:
            g["reassignments"] += int(position > 0)
            if first is not None:
                g["touched"] += 1
                g["seconds"].append((first - fact.at).total_seconds())
    for clock in clocks:
        owner = None
        for fact in turns.get(clock.record_key or "", []):
            if fact.at <= clock.started_at:
                owner = fact.router_id
        state = sla_state(clock, now)
        for g in (groups.setdefault(key(owner, clock.rep_id, clock.started_at), _blank()),
                  totals):
            g[f"sla_{state}"] += 1
    return _finish(totals), {k: _finish(v) for k, v in groups.items()}


def _finish(g: dict[str, Any]) -> dict[str, Any]:
    seconds = g.pop("seconds")
    decided = g["sla_met"] + g["sla_breached"]
    g["speed_to_lead_seconds"] = {"p50": _r(percentile(seconds, 50)),
                                  "p90": _r(percentile(seconds, 90))}
    g["unassigned_rate"] = round(g["unassigned"] / g["decisions"], 4) if g["decisions"] \
        else 0.0
    g["backup_rate"] = round(g["backup"] / g["assigned"], 4) if g["assigned"] else 0.0
    g["sla_met_pct"] = round(100 * g["sla_met"] / decided, 2) if decided else None
    return g


def _r(value: float | None) -> float | None:
    return None if value is None else round(value, 1)
