"""The reads behind the routing measures: decisions that reached the choice of a rep, the
activities that touched their records, and SLA clocks.

``sla_clocks`` belongs to the SLA monitors; this module is the one place that reads it
for the measures, and an account without SLA monitors reads as "no clocks" (``None``), so
the measures still answer and say the SLA figures are unavailable.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import String, bindparam, select, text
from sqlalchemy.orm import Session

from .models import ActivityRow, DecisionRow

#: outcomes of decisions that got as far as choosing a rep
ROUTED_OUTCOMES = ("assigned", "no_users_available", "limit_reached")
CHUNK = 500


def routing_decisions(session: Session, account_id: str, start: datetime, end: datetime,
                      *, limit: int) -> list[Any]:
    """(id, router_id, object_id, rep_id, created_at, assigned, reason) in time order."""
    return list(session.execute(
        select(DecisionRow.id, DecisionRow.router_id, DecisionRow.object_id,
               DecisionRow.rep_id, DecisionRow.created_at, DecisionRow.assigned,
               DecisionRow.reason)
        .where(DecisionRow.account_id == account_id, DecisionRow.created_at >= start,
               DecisionRow.created_at < end, DecisionRow.outcome.in_(ROUTED_OUTCOMES))
        .order_by(DecisionRow.created_at, DecisionRow.id).limit(limit)).all())


def touches(session: Session, account_id: str, object_ids: Iterable[str], start: datetime,
            end: datetime) -> dict[str, list[datetime]]:
    """Each record's activity times in [start, end), in order."""
    out: dict[str, list[datetime]] = {}
    ids = sorted(set(object_ids))
    for i in range(0, len(ids), CHUNK):
        rows = session.execute(
            select(ActivityRow.contact_id, ActivityRow.occurred_at)
            .where(ActivityRow.account_id == account_id,
                   ActivityRow.contact_id.in_(ids[i:i + CHUNK]),
                   ActivityRow.occurred_at >= start, ActivityRow.occurred_at < end)
            .order_by(ActivityRow.occurred_at))
        for contact_id, occurred_at in rows:
            out.setdefault(contact_id, []).append(occurred_at)
    return out


def sla_clocks(session: Session, account_id: str, start: datetime, end: datetime,
               *, limit: int) -> list[dict[str, Any]] | None:
    """Clocks started in [start, end), or ``None`` when the account has no SLA monitor. A
    clock the scanner marked ``breached`` counts as breached at its deadline."""
    from .models import SlaMonitorRow

    if session.scalar(select(SlaMonitorRow.id).where(
            SlaMonitorRow.account_id == account_id).limit(1)) is None:
        return None
    from .models import UTCDateTime

    when = UTCDateTime()
    query = text(
        "SELECT rep_id, object_id AS record_key, started_at, deadline_at, stopped_at, "
        "CASE WHEN state = 'breached' THEN deadline_at END AS breached_at "
        "FROM sla_clocks WHERE account_id = :account AND started_at >= :start "
        "AND started_at < :end ORDER BY started_at LIMIT :limit").bindparams(
        bindparam("start", type_=when), bindparam("end", type_=when)).columns(
        rep_id=String(), record_key=String(), started_at=when, deadline_at=when,
        stopped_at=when, breached_at=when)
    rows = session.execute(query, {"account": account_id, "start": start, "end": end,
                                   "limit": limit}).mappings().all()
    return [dict(row) for row in rows]
