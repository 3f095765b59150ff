"""Run one router on many objects in one transaction, with the same decisions as running
:func:`connector.service.dispatch.dispatch` on each in turn.

A webhook batch brings up to 100 records for the same router; one lock of the router row,
one load of its rotation and counters, and one commit for all of them instead of a
hundred keeps routing far ahead of HubSpot's rate limit. The state the engine reads
(rotation, cap counters, load-window counts) is advanced in memory after each assignment
exactly as the database would be, so the outcome equals the sequential one.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime

from sqlalchemy import select

from connector.core.engine import Decision, RouterState, decide
from connector.store import repositories as repo
from connector.store.db import Database
from connector.store.models import AssignmentCounterRow, ObjectRow

from . import routing_depth, sla
from .dispatch import DispatchResult, decision_row, dispatch, load_state, router_and_reps


def _advance(state: RouterState, decision: Decision) -> RouterState:
    rep = decision.rep
    assert rep is not None
    counts = Counter(state.period_counts)
    for period, key in decision.periods.items():
        counts[(rep.id, period, key)] += 1
    window = Counter(state.window_counts)
    window[rep.id] += 1
    return replace(state, rotation=decision.new_rotation or state.rotation,
                   period_counts=dict(counts), window_counts=dict(window))


def _count_assignments(session, router_id: str, added: Counter) -> None:
    """Add the batch's assignments to the rep/period counters (router row locked),
    dropping counters of periods that have passed, as ``count_assignment`` does."""
    if not added:
        return
    existing = {(c.rep_id, c.period): c for c in session.scalars(
        select(AssignmentCounterRow).where(AssignmentCounterRow.router_id == router_id))}
    for (rep_id, period, key), n in added.items():
        counter = existing.get((rep_id, period))
        if counter is not None and counter.period_key == key:
            counter.count += n
            continue
        if counter is not None:
            session.delete(counter)
            session.flush()
        counter = AssignmentCounterRow(router_id=router_id, rep_id=rep_id, period=period,
                                       period_key=key, count=n)
        session.add(counter)
        existing[(rep_id, period)] = counter


def dispatch_many(db: Database, account_id: str, router_id: str, object_ids: Sequence[str],
                  *, now: datetime | None = None,
                  inbox_event_ids: Sequence[str | None] | None = None) -> list[DispatchResult]:
    """One result per object id, in order. Write-back is the caller's (in batches).

    ``inbox_event_ids`` (one per object id) are stored on the decisions, so that an
    event processed again after a crash finds what it already decided."""
    event_ids = list(inbox_event_ids) if inbox_event_ids is not None \
        else [None] * len(object_ids)
    now = now or datetime.now(UTC)
    with db.session() as session:
        account_row = repo.get_account(session, account_id)
        router_row = repo.get_router(session, account_id, router_id, lock=True,
                                     settings=False) \
            if account_row is not None and account_row.active else None
        router = router_and_reps(db, session, account_id, router_row)[0] \
            if router_row is not None else None
        if router is None or router.settings is None or not router.published \
                or routing_depth.owed_turns(
                    session, router_row, router,
                    routing_depth.settings_for(router_row, router)) is not None:
            simple = True  # (a router with routing depth extras or owed turns decides
            # one by one)
        else:
            simple = False
            account = repo.account_to_domain(account_row)
            rows = {r.id: r for r in session.scalars(select(ObjectRow).where(
                ObjectRow.account_id == account_id, ObjectRow.id.in_(list(object_ids))))}
            router, reps = router_and_reps(db, session, account_id, router_row,
                                           [r.owner_rep_id for r in rows.values()])
            state = load_state(session, router_row, router, reps, now)
            results = []
            added: Counter = Counter()
            with session.no_autoflush:
                for object_id, event_id in zip(object_ids, event_ids, strict=True):
                    obj_row = rows.get(object_id)
                    obj = repo.object_to_domain(obj_row) if obj_row is not None else None
                    decision = decide(account=account, router=router, obj=obj, reps=reps,
                                      state=state, now=now)
                    row = decision_row(router_row, obj_row, router.owner_field, account_id,
                                   decision, now)
                    row.inbox_event_id = event_id
                    session.add(row)
                    if decision.assigned and decision.rep is not None:
                        state = _advance(state, decision)
                        for period, key in decision.periods.items():
                            added[(decision.rep.id, period, key)] += 1
                    results.append(DispatchResult(
                        decision, row.id, field_name=row.field_name,
                        assigned_at=now if decision.assigned else None,
                        sync_source=obj_row.source if obj_row is not None else None))
            _count_assignments(session, router_row.id, added)
            sla.start_many(session, account_id, router_row.id,
                           [(obj_id, r.decision.rep.id, r.decision_id)
                            for obj_id, r in zip(object_ids, results, strict=True)
                            if r.field_name is not None and r.decision.rep is not None], now)
    if simple:  # nothing can be assigned, or extras apply: the plain path, one by one
        return [dispatch(db, account_id, router_id, object_id, now=now,
                         inbox_event_id=event_id)
                for object_id, event_id in zip(object_ids, event_ids, strict=True)]
    return results
