"""Run a router on one object: load under the router's lock, decide, persist, commit.

The lock makes rotation and cap counters exact under any number of concurrent
dispatchers: PostgreSQL serialises on ``SELECT ... FOR UPDATE`` of the router row,
SQLite on its single write lock (every transaction begins IMMEDIATE).
After the commit the owner is written back to the CRM the object came from, if any;
a failed write-back leaves the assignment in place and is reported, never lost.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from contextlib import nullcontext
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any, Protocol

from connector.core.engine import Decision, RouterState, decide
from connector.core.model import DistributionModel, Rep, RepStatus, Router
from connector.store import repositories as repo
from connector.store.db import Database
from connector.store.models import DecisionRow, ObjectRow, RouterRow, new_id

from . import routing_depth, sla


class OwnerSync(Protocol):
    """Writes a fresh assignment back to the CRM the object came from."""

    def __call__(self, account_id: str, obj: ObjectRow, rep: Rep, decision_id: str) -> None:
        """Raise ``connector.core.errors.CrmError`` when the write-back failed."""
        ...


@dataclass
class DispatchResult:
    decision: Decision
    decision_id: str
    field_name: str | None = None
    assigned_at: datetime | None = None
    sync_error: str | None = None
    sync_source: str | None = None

    def as_response(self) -> dict[str, Any]:
        """The body of ``POST /dispatch/router``: message only unless assigned."""
        body: dict[str, Any] = {"message": self.decision.outcome.message}
        if self.decision.assigned and self.decision.rep is not None:
            assert self.assigned_at is not None
            body.update(success=True, user=self.decision.rep.email,
                        field_name=self.field_name,
                        owner_assigned_at=format_datetime(self.assigned_at, usegmt=True))
            if self.sync_error is not None:
                body.update(hubspot_sync_failed=True, hubspot_error=self.sync_error)
        return body


def router_and_reps(db: Database, session, account_id: str, router_row: RouterRow,
                    owner_rep_ids: Collection[str] = ()) -> tuple[Router, dict[str, Rep]]:
    """The router and the reps its decisions may name (members, backup user and the
    given current owners), from the router cache while the account's routing version
    holds; call with the router row locked. The dict is the caller's to change."""
    router, cached = db.router_cache.load(session, account_id, router_row)
    reps = dict(cached)
    missing = {rep_id for rep_id in owner_rep_ids if rep_id and rep_id not in reps}
    if missing:
        reps.update(repo.reps_by_id(session, account_id, missing))
    return router, reps


def load_state(session, router_row: RouterRow, router: Router, rep_ids: Collection[str],
               now: datetime) -> RouterState:
    """The router's rotation, the counters its caps read and, for load balancing, the
    assignments in its window."""
    settings = router.settings
    assert settings is not None
    window = None
    if settings.model == DistributionModel.LOAD_BALANCED:
        window = now - timedelta(hours=settings.load_window_hours)
    return repo.load_router_state(session, router_row, list(rep_ids), window,
                                  capped_rep_ids=settings.capped_rep_ids)


def decision_row(router: RouterRow | None, obj: ObjectRow | None, owner_field: str | None,
                 account_id: str, decision: Decision, now: datetime) -> DecisionRow:
    """The stored decision, and what an assignment changes on the object and the router's
    rotation; the caller adds the cap counters (one by one, or once for a whole batch)."""
    row = DecisionRow(
        id=new_id(), account_id=account_id, router_id=router.id if router else None,
        object_id=obj.id if obj else None, outcome=decision.outcome.name.lower(),
        message=decision.outcome.message, assigned=decision.assigned,
        rep_id=decision.rep.id if decision.rep else None,
        rep_email=decision.rep.email if decision.rep else None,
        field_name=None, reason=decision.explain(), created_at=now,
    )
    if decision.assigned and decision.rep is not None and obj is not None \
            and router is not None:
        row.field_name = owner_field
        obj.owner_rep_id = decision.rep.id
        obj.owner_assigned_at = now
        obj.updated_at = now
        if decision.new_rotation is not None:
            router.rr_last_position = decision.new_rotation.last_position
            router.current_weights = dict(decision.new_rotation.current_weights)
        if obj.source != "api":
            row.sync_status = "pending"
    return row


def _persist(session, router: RouterRow | None, obj: ObjectRow | None, account_id: str,
             decision: Decision, now: datetime, owner_field: str | None) -> DecisionRow:
    row = decision_row(router, obj, owner_field, account_id, decision, now)
    if row.field_name is not None and router is not None and decision.rep is not None:
        repo.count_assignment(session, router.id, decision.rep.id, dict(decision.periods))
    session.add(row)
    session.flush()
    return row


def dispatch(
    db: Database,
    account_id: str,
    router_id: str,
    object_id: str,
    *,
    now: datetime | None = None,
    sync: OwnerSync | None = None,
    lookup: Callable[[Any, str, str], ObjectRow | None] | None = None,
    exclude_rep_ids: Collection[str] = (),
    inbox_event_id: str | None = None,
    session: Any = None,
    start_sla: bool = True,
) -> DispatchResult:
    """Run ``router_id`` on ``object_id`` for ``account_id``; see the module docstring.

    ``lookup(session, account_id, object_id)`` finds the object (by CRM id, for example);
    by default the object's own id is used. ``exclude_rep_ids`` counts those reps as
    unavailable for this decision (a rep who declined the work is not offered it again).
    ``inbox_event_id`` is stored on the decision so a re-processed event can find it.
    With ``session`` the dispatch runs in the caller's transaction (an SLA escalation
    reassigns in the transaction that claims the breach) and the caller writes back. An
    assignment starts the SLA clocks of the router's monitors unless ``start_sla`` is false
    (a reassignment restarts its own clock).
    """
    now = now or datetime.now(UTC)
    with (nullcontext(session) if session is not None else db.session()) as session:
        account_row = repo.get_account(session, account_id)
        account = repo.account_to_domain(account_row) if account_row else None
        router_row = obj_row = None
        router = obj = None
        reps: dict[str, Rep] = {}
        state = RouterState()
        if account is not None and account.active:
            router_row = repo.get_router(session, account_id, router_id, lock=True,
                                         settings=False)
        if router_row is not None:
            find = lookup or (lambda s, a, o: repo.get_object(s, a, o))
            obj_row = find(session, account_id, object_id)
            obj = repo.object_to_domain(obj_row) if obj_row is not None else None
            router, reps = router_and_reps(db, session, account_id, router_row,
                                           [obj_row.owner_rep_id] if obj_row else [])
            if router.settings is not None and obj is not None:
                for rep_id in exclude_rep_ids:
                    if rep_id in reps:
                        reps[rep_id] = replace(reps[rep_id], status=RepStatus.UNAVAILABLE)
                state = load_state(session, router_row, router, reps, now)
            else:
                reps = {}
        depth = routing_depth.owed_turns(session, router_row, router,
                                         routing_depth.settings_for(router_row, router))
        extra = None
        if depth is None:
            decision = decide(account=account, router=router, obj=obj, reps=reps,
                              state=state, now=now)
        else:
            extra = routing_depth.decide_with_depth(
                session, account=account, router=router, router_row=router_row, obj=obj,
                reps=reps, state=state, now=now, depth=depth)
            decision = extra.decision
        if account is None:
            return DispatchResult(decision, decision_id="")
        if extra is not None and router_row is not None and router is not None:
            routing_depth.save(session, account_id, router_row, extra)
            routing_depth.credit_reassigned(
                session, account_id, router_row, depth, obj_row.owner_rep_id if obj_row
                else None, decision, {m.rep_id for m in router.settings.members}
                if router.settings else ())
        row = _persist(session, router_row, obj_row, account_id, decision, now,
                       router.owner_field if router is not None else None)
        if extra is not None and extra.reason:
            row.reason = {**(row.reason or {}), **extra.reason}
        row.inbox_event_id = inbox_event_id
        if router_row is None or obj_row is None:
            # what was asked for, so the decision can say "no such router 'x'"
            row.reason = {**(row.reason or {}),
                          "requested": {"router_id": router_id, "object_id": object_id}}
        if start_sla and row.field_name is not None and obj_row is not None:
            sla.start_clocks(session, account_id, obj_row.id, row.rep_id, now,
                             router_id=row.router_id, decision_id=row.id)
        result = DispatchResult(decision, row.id, field_name=row.field_name,
                                assigned_at=now if decision.assigned else None,
                                sync_source=obj_row.source if obj_row is not None else None)
    if decision.assigned and sync is not None and obj_row is not None \
            and obj_row.source != "api" and decision.rep is not None:
        result.sync_error = _sync(db, sync, account_id, obj_row, decision.rep, row.id)
    return result


def _sync(db: Database, sync: OwnerSync, account_id: str, obj: ObjectRow, rep: Rep,
          decision_id: str) -> str | None:
    from connector.core.errors import CrmError

    try:
        sync(account_id, obj, rep, decision_id)
    except CrmError as exc:
        error = str(exc)
        with db.session() as session:
            row = session.get(DecisionRow, decision_id)
            row.sync_status, row.sync_error = "failed", error
            row.sync_attempts += 1
        return error
    with db.session() as session:
        row = session.get(DecisionRow, decision_id)
        row.sync_status, row.sync_error = "synced", None
        row.sync_attempts += 1
    return None


def write_back(db: Database, sync: OwnerSync, account_id: str, obj: ObjectRow, rep: Rep,
               decision_id: str) -> str | None:
    """Write an assignment made outside a router (a /v1 ruleset's rule) back to the CRM
    the object came from, with the same status, error and retries as a router's; the
    error, or None when written."""
    return _sync(db, sync, account_id, obj, rep, decision_id)
