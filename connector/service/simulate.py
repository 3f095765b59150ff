"""Run a router on a sample record without writing anything: what would happen now?

The router, its reps, rotation and cap counters are read exactly as ``dispatch`` reads
them (in a read-only session, which on SQLite does not take the write lock), the pure
``decide`` runs, and the session is rolled back; no decision, counter, rotation or owner
is stored.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from connector.core.engine import Decision, RouterState, decide
from connector.core.model import DistributionModel, RoutableObject
from connector.store import repositories as repo
from connector.store.db import Database


def simulate(db: Database, account_id: str, router_id: str, fields: dict[str, Any], *,
             owner_rep_id: str | None = None, as_published: bool = True,
             now: datetime | None = None) -> Decision:
    """The decision the router would take for a record with ``fields`` (its mapped
    fields) and current owner ``owner_rep_id``. ``as_published`` tries out an
    unpublished router as if it were live."""
    now = now or datetime.now(UTC)
    with db.read_session() as session:
        account_row = repo.get_account(session, account_id)
        account = repo.account_to_domain(account_row) if account_row else None
        router_row = repo.get_router(session, account_id, router_id)
        router = repo.router_to_domain(router_row) if router_row else None
        if router is not None and as_published:
            router = replace(router, published=True)
        obj = None
        reps = {}
        state = RouterState()
        if router is not None:
            obj = RoutableObject(id="simulated", object_type=router.object_type,
                                 fields=dict(fields), owner_rep_id=owner_rep_id or None)
            if router.settings is not None:
                ids = {m.rep_id for m in router.settings.members}
                ids |= {i for i in (router.settings.backup_rep_id, owner_rep_id) if i}
                reps = repo.reps_by_id(session, account_id, ids)
                window = None
                if router.settings.model == DistributionModel.LOAD_BALANCED:
                    window = now - timedelta(hours=router.settings.load_window_hours)
                state = repo.load_router_state(session, router_row, list(reps), window)
        return decide(account=account, router=router, obj=obj, reps=reps, state=state,
                      now=now)
