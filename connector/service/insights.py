"""``GET /v1/insights/routing``: per rep, rule or day, the leads assigned, each rep's
share against a fair share (weight × hours available), the time from assignment to the
first activity (p50, p90) and the activities' outcomes.

A rep's weight is their highest weight in the account's routers (1 when in none); the
hours available come from their working hours and out of office in the period.
"""

from __future__ import annotations

import csv
import io
from collections import Counter, defaultdict
from datetime import datetime
from typing import Any

from connector.core.insights import (
    RoutingFact,
    SlaFact,
    available_hours,
    fair_shares,
    percentile,
    routing_measures,
)
from connector.store import insights_reads, repositories, reps_repo
from connector.store import leads_repo as repo
from connector.store.db import Database
from connector.store.reads import detached

from .activities import OUTCOMES
from .v1_errors import V1Error

GROUPS = ("rep", "rule", "day")
MEASURE_GROUPS = ("router", "rep", "day", "total")
#: decisions (and SLA clocks) read for one report at most, bounding its CPU and memory
MAX_FACTS = 100_000
MAX_DAYS = 366
#: availability samples for all reps together, so many reps or a long period cost a
#: bounded amount of CPU (coarser sampling instead)
SAMPLE_BUDGET = 50_000


def routing(db: Database, account_id: str, start: datetime, end: datetime,
            group_by: str) -> dict[str, Any]:
    _check_period(start, end)
    with detached(db) as session:
        leads = repo.leads_between(session, account_id, start, end)
        activities = repo.activities_of_contacts(
            session, account_id, sorted({x.contact_id for x in leads if x.contact_id}))
        domain, weights = _reps_and_weights(session, account_id)
    by_contact: dict[str, list[Any]] = defaultdict(list)
    for activity in activities:
        by_contact[activity.contact_id].append(activity)

    def key_of(lead) -> str | None:
        if group_by == "rep":
            return lead.owner_rep_id
        if group_by == "rule":
            return lead.rule_id
        return lead.created_at.date().isoformat()

    groups: dict[str | None, dict[str, Any]] = {}
    for lead in leads:
        group = groups.setdefault(key_of(lead), {"leads": 0, "assigned": 0, "minutes": [],
                                                 "outcomes": Counter()})
        group["leads"] += 1
        if lead.owner_rep_id is None:
            continue
        group["assigned"] += 1
        after = [a for a in by_contact.get(lead.contact_id or "", [])
                 if lead.created_at <= a.occurred_at < end]
        if after:
            group["minutes"].append((after[0].occurred_at - lead.created_at)
                                    .total_seconds() / 60)
        group["outcomes"].update(a.outcome for a in after if a.outcome)
    assigned_total = sum(g["assigned"] for g in groups.values())
    fair: dict[str, float] = {}
    if group_by == "rep":
        fair = _fair(domain, weights, start, end, assigned_total)
        for rep_id in domain:
            groups.setdefault(rep_id, {"leads": 0, "assigned": 0, "minutes": [],
                                       "outcomes": Counter()})
    rows = []
    for key, group in sorted(groups.items(), key=lambda kv: (kv[0] is None, kv[0] or "")):
        row: dict[str, Any] = {
            "key": key, "leads": group["leads"], "leads_assigned": group["assigned"],
            "share": round(group["assigned"] / assigned_total, 4) if assigned_total else 0.0,
            "first_activity_minutes": {"p50": _round(percentile(group["minutes"], 50)),
                                       "p90": _round(percentile(group["minutes"], 90))},
            "outcomes": {o: group["outcomes"].get(o, 0) for o in OUTCOMES},
        }
        if group_by == "rep" and key is not None:
            expected = fair.get(key, 0.0)
            row.update(fair_share=round(expected / assigned_total, 4) if assigned_total
                       else 0.0, fair_share_leads=round(expected, 2),
                       weight=weights.get(key, 1.0))
        rows.append(row)
    return {"from": start, "to": end, "group_by": group_by, "total_leads": len(leads),
            "leads_assigned": assigned_total, "groups": rows}


def _reps_and_weights(session, account_id: str) -> tuple[dict[str, Any], dict[str, float]]:
    """The account's reps (domain objects) and each one's highest router weight."""
    rep_rows = reps_repo.for_account(session, account_id)
    weights: dict[str, float] = {r.id: 1.0 for r in rep_rows}
    for router in reps_repo.routers_of(session, account_id):
        for member in (router.settings or {}).get("users", []):
            if member.get("user_id") in weights:
                weights[member["user_id"]] = max(weights[member["user_id"]],
                                                 float(member.get("weight", 1)))
    return {r.id: repositories.rep_to_domain(r) for r in rep_rows}, weights


def _fair(domain: dict[str, Any], weights: dict[str, float], start: datetime,
          end: datetime, total: int) -> dict[str, float]:
    per_rep = max(24, SAMPLE_BUDGET // max(1, len(domain)))
    hours = {rep_id: available_hours(rep, start, end, max_samples=per_rep)
             for rep_id, rep in domain.items()}
    return fair_shares(total, weights, hours)


def _check_period(start: datetime, end: datetime) -> None:
    if end <= start:
        raise V1Error(422, "The request was invalid.", {"to": "must be after 'from'"})
    if (end - start).days > MAX_DAYS:
        raise V1Error(422, "The request was invalid.",
                      {"to": f"the period may be at most {MAX_DAYS} days"})


def measures(db: Database, account_id: str, start: datetime, end: datetime,
             group_by: str, now: datetime) -> dict[str, Any]:
    """Speed to lead, SLA met %, breaches, reassignments, shares against fair shares,
    unassigned and backup-user rates, in total and by router, rep or day, from the
    decisions, activities and SLA clocks of [start, end). At most ``MAX_FACTS`` decisions
    and clocks are read (``truncated`` says when the period held more)."""
    _check_period(start, end)
    with detached(db) as session:
        rows = insights_reads.routing_decisions(session, account_id, start, end,
                                                limit=MAX_FACTS + 1)
        truncated = len(rows) > MAX_FACTS
        rows = rows[:MAX_FACTS]
        touched = insights_reads.touches(session, account_id,
                                         {r.object_id for r in rows if r.object_id},
                                         start, end)
        clocks = insights_reads.sla_clocks(session, account_id, start, end,
                                           limit=MAX_FACTS)
        domain, weights = _reps_and_weights(session, account_id)
        names = {r.id: r.name for r in reps_repo.routers_of(session, account_id)}
    facts = [RoutingFact(r.id, r.router_id, r.object_id, r.rep_id, r.created_at,
                         bool(r.assigned), bool((r.reason or {}).get("via_backup")))
             for r in rows]
    sla = [SlaFact(c["rep_id"], c["record_key"], c["started_at"], c["deadline_at"],
                   c["stopped_at"], c["breached_at"]) for c in clocks or []]
    totals, groups = routing_measures(facts, touched, sla, group_by=group_by, now=now)
    fair = _fair(domain, weights, start, end, totals["assigned"]) \
        if group_by == "rep" else {}
    if group_by == "rep":
        for rep_id in domain:
            groups.setdefault(rep_id, routing_measures([], {}, [], group_by="rep",
                                                       now=now)[0])
    out = []
    for key, group in sorted(groups.items(), key=lambda kv: (kv[0] is None, kv[0] or "")):
        group = {"key": key, **group,
                 "share": round(group["assigned"] / totals["assigned"], 4)
                 if totals["assigned"] else 0.0}
        if group_by == "router":
            group["name"] = names.get(key) if key else None
        if group_by == "rep":
            group["name"] = getattr(domain.get(key), "email", None) if key else None
        if group_by == "rep" and key is not None:
            group["fair_share"] = round(fair.get(key, 0.0) / totals["assigned"], 4) \
                if totals["assigned"] else 0.0
            group["weight"] = weights.get(key, 1.0)
        out.append(group)
    return {"from": start, "to": end, "group_by": group_by, "totals": totals, "groups": out,
            "sla_available": clocks is not None, "truncated": truncated,
            **({} if clocks is not None else {"sla_note": (
                "no SLA clocks are stored in this database yet: SLA figures are zero")})}


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


CSV_COLUMNS = ("key", "name", "decisions", "assigned", "unassigned", "unassigned_rate",
               "backup", "backup_rate", "reassignments", "touched", "speed_to_lead_p50_seconds",
               "speed_to_lead_p90_seconds", "sla_met", "sla_breached", "sla_open",
               "sla_met_pct", "share", "fair_share")


def to_csv(report: dict[str, Any]) -> str:
    """The measures as CSV: a row per group, then a ``total`` row."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    rows = list(report["groups"])
    if report["group_by"] != "total":
        rows.append({"key": "total", **report["totals"]})
    for row in rows:
        flat = {**row, "speed_to_lead_p50_seconds": row["speed_to_lead_seconds"]["p50"],
                "speed_to_lead_p90_seconds": row["speed_to_lead_seconds"]["p90"]}
        writer.writerow([_cell(flat.get(c)) for c in CSV_COLUMNS])
    return out.getvalue()


def _cell(value) -> str:
    """A CSV cell; text starting with = + - @ is quoted so a spreadsheet does not run it
    as a formula (OWASP's CSV injection advice)."""
    if value is None:
        return ""
    text = str(value)
    return "'" + text if isinstance(value, str) and text[:1] in "=+-@\t\r" else text
