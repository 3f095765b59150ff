"""Rows of routing depth (companies, territories, fairness ledgers, calendar feeds) and
their mapping onto the core's matching, territory and fairness types."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from types import EllipsisType

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from connector.core.fairness import FairnessLedger
from connector.core.matching import Company
from connector.core.territories import AssigneeKind, PostcodeRange, Territory

from .models import (
    CompanyRow,
    DecisionRow,
    FairnessCalibrationRow,
    FairnessLedgerRow,
    TerritoryRow,
)


def company_to_domain(row: CompanyRow) -> Company:
    return Company(id=row.id, name=row.name, domain=row.domain, website=row.website,
                   owner_rep_id=row.owner_rep_id, size=row.size,
                   last_activity=row.last_activity_at,
                   account_team=dict(row.account_team or {}))


def companies(session: Session, account_id: str) -> list[CompanyRow]:
    return list(session.scalars(select(CompanyRow).where(CompanyRow.account_id == account_id)
                                .order_by(CompanyRow.created_at, CompanyRow.id)))


def companies_page(session: Session, account_id: str, *, limit: int,
                   after: tuple[datetime, str] | None) -> list[CompanyRow]:
    query = select(CompanyRow).where(CompanyRow.account_id == account_id)
    if after is not None:
        query = query.where((CompanyRow.created_at > after[0])
                            | ((CompanyRow.created_at == after[0]) & (CompanyRow.id > after[1])))
    return list(session.scalars(query.order_by(CompanyRow.created_at, CompanyRow.id)
                                .limit(limit)))


def company(session: Session, account_id: str, company_id: str) -> CompanyRow | None:
    row = session.get(CompanyRow, company_id)
    return row if row is not None and row.account_id == account_id else None


def company_by_external(session: Session, account_id: str, source: str,
                        external_id: str) -> CompanyRow | None:
    return session.scalar(select(CompanyRow).where(
        CompanyRow.account_id == account_id, CompanyRow.source == source,
        CompanyRow.external_id == external_id))


def territory_to_domain(row: TerritoryRow) -> Territory:
    ranges = []
    for text in row.postcodes or []:
        low, _, high = str(text).partition("-")
        ranges.append(PostcodeRange(low, high or low))
    kind, _, assignee = row.assign_to.partition(":")
    return Territory(name=row.name, assignee_kind=AssigneeKind(kind), assignee_id=assignee,
                     priority=row.priority, countries=frozenset(row.countries or ()),
                     regions=frozenset(row.regions or ()), postcodes=tuple(ranges),
                     industries=frozenset(row.industries or ()),
                     min_employees=row.min_employees, max_employees=row.max_employees,
                     row=row.position)


def territory_row(account_id: str, t: Territory) -> TerritoryRow:
    return TerritoryRow(account_id=account_id, position=t.row, name=t.name,
                        assign_to=t.assignee, priority=t.priority,
                        countries=sorted(t.countries), regions=sorted(t.regions),
                        postcodes=[str(p) if p.low == p.high else f"{p.low}-{p.high}"
                                   for p in t.postcodes],
                        industries=sorted(t.industries), min_employees=t.min_employees,
                        max_employees=t.max_employees)


def territories(session: Session, account_id: str) -> list[Territory]:
    rows = session.scalars(select(TerritoryRow).where(TerritoryRow.account_id == account_id)
                           .order_by(TerritoryRow.position))
    return [territory_to_domain(r) for r in rows]


def replace_territories(session: Session, account_id: str, table: Iterable[Territory]) -> int:
    """The account's whole territory table becomes ``table`` (an import replaces it)."""
    session.execute(delete(TerritoryRow).where(TerritoryRow.account_id == account_id))
    rows = [territory_row(account_id, t) for t in table]
    session.add_all(rows)
    session.flush()
    return len(rows)


def ledger(session: Session, router_id: str, since: datetime) -> FairnessLedger:
    """Records assigned by the router since ``since`` per rep, with the stored credits and
    calibration: what ``connector.core.fairness`` weighs."""
    assigned = {rep: n for rep, n in session.execute(
        select(DecisionRow.rep_id, func.count())
        .where(DecisionRow.router_id == router_id, DecisionRow.assigned.is_(True),
               DecisionRow.created_at >= since)
        .group_by(DecisionRow.rep_id)) if rep}
    rows = session.scalars(select(FairnessLedgerRow)
                           .where(FairnessLedgerRow.router_id == router_id))
    credits, calibration = {}, {}
    for row in rows:
        if row.credits:
            credits[row.rep_id] = row.credits
        if row.calibration:
            calibration[row.rep_id] = row.calibration
    return FairnessLedger(assigned=assigned, credits=credits, calibration=calibration)


def _ledger_row(session: Session, account_id: str, router_id: str,
                rep_id: str) -> FairnessLedgerRow:
    row = session.get(FairnessLedgerRow, (router_id, rep_id))
    if row is None:
        row = FairnessLedgerRow(router_id=router_id, rep_id=rep_id, account_id=account_id,
                                credits=0, calibration=0)
        session.add(row)
    return row


def save_ledger(session: Session, account_id: str, router_id: str, before: FairnessLedger,
                after: FairnessLedger) -> None:
    """Store the credits and calibration that changed between ``before`` and ``after``
    (the assigned counts are the decisions themselves)."""
    for rep_id in set(before.credits) | set(after.credits) | set(before.calibration) \
            | set(after.calibration):
        credits, calibration = after.credits.get(rep_id, 0), after.calibration.get(rep_id, 0)
        if credits != before.credits.get(rep_id, 0) \
                or calibration != before.calibration.get(rep_id, 0):
            row = _ledger_row(session, account_id, router_id, rep_id)
            row.credits, row.calibration = credits, calibration


def add_credit(session: Session, account_id: str, router_id: str, rep_id: str) -> None:
    row = _ledger_row(session, account_id, router_id, rep_id)
    row.credits = (row.credits or 0) + 1


def has_credits(session: Session, router_id: str) -> bool:
    """Whether a rep of the router is owed a record (one indexed lookup)."""
    return session.scalar(select(FairnessLedgerRow.rep_id)
                          .where(FairnessLedgerRow.router_id == router_id,
                                 FairnessLedgerRow.credits > 0).limit(1)) is not None


def add_calibration(session: Session, account_id: str, router_id: str, rep_id: str,
                    delta: int, by: str, why: str, at: datetime) -> FairnessCalibrationRow:
    row = _ledger_row(session, account_id, router_id, rep_id)
    row.calibration = (row.calibration or 0) + delta
    audit = FairnessCalibrationRow(account_id=account_id, router_id=router_id, rep_id=rep_id,
                                   delta=delta, by=by, why=why, created_at=at)
    session.add(audit)
    session.flush()
    return audit


def calibrations(session: Session, router_id: str) -> list[FairnessCalibrationRow]:
    return list(session.scalars(select(FairnessCalibrationRow)
                                .where(FairnessCalibrationRow.router_id == router_id)
                                .order_by(FairnessCalibrationRow.created_at,
                                          FairnessCalibrationRow.id)))


def balances(session: Session, router_id: str) -> Mapping[str, tuple[int, int]]:
    """(credits, calibration) per rep."""
    return {r.rep_id: (r.credits, r.calibration) for r in session.scalars(
        select(FairnessLedgerRow).where(FairnessLedgerRow.router_id == router_id))}


def upsert_mirrored(session: Session, account_id: str, source: str, external_id: str,
                    fields: Mapping[str, object], owner_rep_id: str | None | EllipsisType,
                    now: datetime) -> CompanyRow:
    """A CRM company (HubSpot company, Salesforce Account) as matching reads it, from
    its mirrored, mapped fields (``name``, ``domain``, ``website``, ``employees``);
    ``owner_rep_id`` ``...`` leaves the owner as it was."""
    row = company_by_external(session, account_id, source, external_id)
    if row is None:
        row = CompanyRow(account_id=account_id, source=source, external_id=external_id,
                         account_team={}, created_at=now)
        session.add(row)
    # a field the message does not carry keeps its value (an Outbound Message sends the
    # fields its admin chose)
    if "name" in fields or row.name is None:
        name = str(fields.get("name") or "").strip()
        row.name = name[:300] or f"{source} company {external_id}"[:300]
    if "domain" in fields:
        row.domain = str(fields["domain"])[:255] if fields["domain"] else None
    if "website" in fields:
        row.website = str(fields["website"])[:2048] if fields["website"] else None
    if "employees" in fields:
        employees = fields["employees"]
        row.size = int(employees) if isinstance(employees, int | float) \
            and employees >= 0 else None
    if owner_rep_id is not ...:
        row.owner_rep_id = owner_rep_id
    row.updated_at = now
    return row


def delete_mirrored(session: Session, account_id: str, source: str, external_id: str) -> None:
    session.execute(delete(CompanyRow).where(
        CompanyRow.account_id == account_id, CompanyRow.source == source,
        CompanyRow.external_id == external_id))
