"""Backtests over stored records: a router version (saved, or a draft body) replayed by
``connector.core.backtest`` over the account's records chosen by a filter, writing
nothing.

What the store can give is what the backtest uses: each record's fields as they are now
(the store keeps no history of a record's fields), its creation time as the time it
would have been routed, its current owner as what actually happened, and the reps as
they are now. The rotation starts fresh.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from connector.core.backtest import BacktestResult, PastRecord, backtest
from connector.core.codec import settings_from_dict
from connector.core.model import RoutableObject, Router
from connector.store import repositories as repo
from connector.store.db import Database
from connector.store.models import ObjectRow, RepRow
from connector.store.reads import detached
from connector.store.router_cache import router_rep_ids

from .v1_errors import V1Error

#: records one backtest replays at most: 10,000 take about a second (bench/backtest.py);
#: this keeps a request bounded
MAX_RECORDS = 50_000
#: changed records listed in a response (all are counted)
MAX_CHANGED_LISTED = 1000


@dataclass(frozen=True)
class RecordFilter:
    days: int = 30
    sources: tuple[str, ...] = ()
    object_type: str | None = None


@dataclass(frozen=True)
class BacktestRun:
    router: Router
    result: BacktestResult
    emails: dict[str, str]
    records: int


def draft_router(account_id: str, object_type: str, settings: dict[str, Any]) -> Router:
    """A router from validated settings (the stored form), never saved."""
    return Router(id="draft", account_id=account_id, name="draft", object_type=object_type,
                  published=True, settings=settings_from_dict(settings))


def run(db: Database, account_id: str, *, now: datetime, chosen: RecordFilter,
        router_id: str | None = None, draft: Router | None = None,
        progress: Callable[[int, int], None] | None = None,
        on_count: Callable[[int], None] | None = None) -> BacktestRun:
    """Backtest the saved router ``router_id`` (as it is now: published or not) or the
    ``draft``. ``on_count(n)`` is told how many records were chosen before the replay."""
    with detached(db) as session:
        account_row = repo.get_account(session, account_id)
        if account_row is None:
            raise V1Error(404, "Account not found")
        account = repo.account_to_domain(account_row)
        if draft is None:
            row = repo.get_router(session, account_id, router_id or "")
            if row is None:
                raise V1Error(404, "Router not found")
            router = repo.router_to_domain(row)
        else:
            router = draft
        if router.settings is None:
            raise V1Error(422, "The router has no settings to backtest",
                          {"router_id": "the router has no settings"})
        router = replace(router, published=True)  # a draft is judged as if published
        object_type = router.object_type
        if chosen.object_type not in (None, object_type):
            raise V1Error(422, f"The router routes {object_type} records",
                          {"filter.object_type": f"must be {object_type} for this router"})
        query = select(ObjectRow).where(
            ObjectRow.account_id == account_id, ObjectRow.object_type == object_type,
            ObjectRow.archived_at.is_(None),
            ObjectRow.created_at >= now - timedelta(days=chosen.days))
        if chosen.sources:
            query = query.where(ObjectRow.source.in_(chosen.sources))
        rows: Sequence[ObjectRow] = list(session.scalars(
            query.order_by(ObjectRow.created_at, ObjectRow.id).limit(MAX_RECORDS + 1)))
        if len(rows) > MAX_RECORDS:
            raise V1Error(422, f"More than {MAX_RECORDS} records match; choose fewer days "
                               "or a source", {"days": f"at most {MAX_RECORDS} records"})
        records = [PastRecord(repo.object_to_domain(r), r.created_at, r.owner_rep_id)
                   for r in rows]
        # judged as new records: the router decides, whoever owns them now
        records = [PastRecord(_unowned(p.obj), p.at, p.actual_rep_id) for p in records]
        reps = repo.reps_by_id(session, account_id, router_rep_ids(router))
        owners = {r.owner_rep_id for r in rows if r.owner_rep_id}
        emails = {r.id: r.email for r in session.scalars(select(RepRow).where(
            RepRow.account_id == account_id, RepRow.id.in_(sorted(owners | set(reps)))))}
    if on_count is not None:
        on_count(len(records))
    result = backtest(account=account, router=router, records=records, reps=reps,
                      progress=progress)
    return BacktestRun(router, result, emails, len(records))


def _unowned(obj: RoutableObject) -> RoutableObject:
    return replace(obj, owner_rep_id=None)


def as_json(found: BacktestRun, public_rep: Callable[[str | None], str | None]
            ) -> dict[str, Any]:
    result = found.result
    changed = result.changed
    return {
        "router_id": found.router.id, "records": found.records,
        "outcomes": dict(result.outcomes),
        "per_rep": [{"rep_id": public_rep(t.rep_id), "email": found.emails.get(t.rep_id),
                     "would": t.would, "actual": t.actual, "difference": t.difference}
                    for t in result.per_rep],
        "changed_count": len(changed),
        "changed": [{"record_id": r.record_id, "at": r.at.isoformat(), "outcome": r.outcome,
                     "would_rep_id": public_rep(r.would_rep_id),
                     "actual_rep_id": public_rep(r.actual_rep_id)}
                    for r in changed[:MAX_CHANGED_LISTED]],
    }


def table(found: BacktestRun) -> list[str]:
    """The per-rep table as text lines, for the command line."""
    width = max([len(found.emails.get(t.rep_id, t.rep_id)) for t in found.result.per_rep]
                + [len("rep")])
    lines = [f"{'rep':<{width}}  {'would':>6}  {'actual':>6}  {'diff':>6}"]
    for t in found.result.per_rep:
        lines.append(f"{found.emails.get(t.rep_id, t.rep_id):<{width}}  {t.would:>6}  "
                     f"{t.actual:>6}  {t.difference:>+6}")
    lines.append(f"{found.records} records, {len(found.result.changed)} would change; "
                 + ", ".join(f"{k} {v}" for k, v in sorted(found.result.outcomes.items())))
    return lines
