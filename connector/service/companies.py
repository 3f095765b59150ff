"""Companies, lead-to-account matching, territory tables and fairness calibrations for
the /v1 API, on the store of ``connector.store.routing_depth_repo``."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from types import EllipsisType
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from connector.core import matching, territories
from connector.core.availability import unavailability
from connector.core.fairness import calibrate
from connector.store import repositories as repo
from connector.store import routing_depth_repo as depth_repo
from connector.store.db import Database, is_unique_violation
from connector.store.models import CompanyRow, FairnessCalibrationRow, RepRow, new_id
from connector.store.reads import detached

from . import routing_depth
from .v1_errors import V1Error, invalid

#: one import is one territory table; the core refuses more rows than this
MAX_TERRITORIES = 1000
#: the body of a territory CSV import
MAX_CSV_BYTES = 1024 * 1024


def _check_reps(session, account_id: str, data: dict[str, Any]) -> None:
    wanted = {"owner_rep_id": data.get("owner_rep_id"),
              **{f"account_team.{role}": rep for role, rep in
                 (data.get("account_team") or {}).items()}}
    ids = {v for v in wanted.values() if v}
    found = set(repo.reps_by_id(session, account_id, ids)) if ids else set()
    bad = {k: f"no rep with id 'rep_{v}'" for k, v in wanted.items() if v and v not in found}
    if bad:
        raise V1Error(422, "The request body was invalid or contained errors.", bad)


def create_company(db: Database, account_id: str, data: dict[str, Any]) -> CompanyRow:
    """An API-only company (``source`` "api"); ``external_id`` defaults to its id, and a
    second company with the same external id is a 409."""
    with db.session() as session:
        _check_reps(session, account_id, data)
        company_id = new_id()
        row = CompanyRow(id=company_id, account_id=account_id, source="api",
                         external_id=data.get("external_id") or company_id,
                         name=data["name"], domain=data.get("domain"),
                         website=data.get("website"), size=data.get("size"),
                         owner_rep_id=data.get("owner_rep_id"),
                         account_team=data.get("account_team") or {},
                         last_activity_at=data.get("last_activity_at"))
        session.add(row)
        try:
            session.flush()
        except IntegrityError as exc:
            if is_unique_violation(exc):
                raise V1Error(409, "A company with this external_id already exists",
                              {"external_id": "already used"}) from None
            raise
        session.expunge(row)
        return row


def list_companies(db: Database, account_id: str, *, limit: int,
                   after: tuple[datetime, str] | None) -> list[CompanyRow]:
    with detached(db) as session:
        return depth_repo.companies_page(session, account_id, limit=limit, after=after)


def get_company(db: Database, account_id: str, company_id: str) -> CompanyRow:
    with detached(db) as session:
        row = depth_repo.company(session, account_id, company_id)
        if row is None:
            raise V1Error(404, "Company not found")
        return row


def delete_company(db: Database, account_id: str, company_id: str) -> None:
    with db.session() as session:
        row = depth_repo.company(session, account_id, company_id)
        if row is None:
            raise V1Error(404, "Company not found")
        session.delete(row)


def match_lead(db: Database, account_id: str, lead: dict[str, Any], now: datetime, *,
               name_threshold: float = 92.0,
               tie_breakers: tuple[matching.TieBreaker, ...] | None = None
               ) -> matching.MatchResult:
    """Every company the lead matches, with score and reason, and the one chosen."""
    ports = routing_depth.ports()
    settings = matching.MatchSettings(
        name_threshold=name_threshold,
        tie_breakers=tie_breakers or matching.MatchSettings().tie_breakers)
    with detached(db) as session:
        companies = [depth_repo.company_to_domain(r)
                     for r in depth_repo.companies(session, account_id)]
        owners = {c.owner_rep_id for c in companies if c.owner_rep_id}
        reps = repo.reps_by_id(session, account_id, owners)
    available = [r.id for r in reps.values() if unavailability(r, now) is None]
    return matching.match(matching.Lead(**lead), companies, splitter=ports.splitter,
                          scorer=ports.scorer, settings=settings,
                          available_rep_ids=available)


def import_territories(db: Database, account_id: str, text: str) -> list[territories.Territory]:
    """Replace the account's territory table with the CSV's; 422 listing every problem
    (row and column) and nothing stored when there is one. ``rep:<id>`` must name a rep
    of the account and ``router:<id>`` one of its routers."""
    try:
        table = territories.parse_csv(text)
    except territories.TerritoryCsvError as exc:
        fields: dict[str, str] = {}
        for p in exc.problems:
            key = f"row {p.row}, column {p.column}"
            fields[key] = f"{fields[key]}; {p.message}" if key in fields else p.message
        raise V1Error(422, "The CSV has problems; nothing was imported.", fields) from None
    # a rep as /v1 shows it (rep_…) or as the Routera API does (bare id)
    table = [replace(t, assignee_id=t.assignee_id.removeprefix("rep_"))
             if t.assignee_kind is territories.AssigneeKind.REP else t for t in table]
    with db.session() as session:
        reps = {t.assignee_id for t in table if t.assignee_kind is territories.AssigneeKind.REP}
        routers = {t.assignee_id for t in table
                   if t.assignee_kind is territories.AssigneeKind.ROUTER}
        found_reps = set(repo.reps_by_id(session, account_id, reps))
        found_routers = {r for r in routers if repo.get_router(session, account_id, r)}
        bad = {}
        for t in table:
            known = found_reps if t.assignee_kind is territories.AssigneeKind.REP \
                else found_routers
            if t.assignee_id not in known:
                bad[f"row {t.row}, column assign_to"] = \
                    f"no {t.assignee_kind.value} with id '{t.assignee_id}'"
        if bad:
            raise V1Error(422, "The CSV has problems; nothing was imported.", bad)
        depth_repo.replace_territories(session, account_id, table)
    return table


def list_territories(db: Database, account_id: str) -> list[territories.Territory]:
    with detached(db) as session:
        return depth_repo.territories(session, account_id)


def add_calibration(db: Database, account_id: str, router_id: str, rep_id: str, delta: int,
                    by: str, why: str, now: datetime) -> FairnessCalibrationRow:
    """A manual +n / -n on a router's fairness ledger, audited with who and why."""
    with db.session() as session:
        router = repo.get_router(session, account_id, router_id, lock=True)
        if router is None:
            raise V1Error(404, "Router not found")
        if session.get(RepRow, rep_id) is None or \
                session.get(RepRow, rep_id).account_id != account_id:
            raise invalid("rep_id", f"no rep with id 'rep_{rep_id}'")
        try:  # the core's rules for a calibration (range, who, why)
            calibrate(depth_repo.ledger(session, router_id, now), rep_id, delta, by=by,
                      why=why, at=now)
        except ValueError as exc:
            field = str(exc).split(" ", 1)[0]
            raise invalid(field if field in ("delta", "by", "why") else "body",
                          str(exc)) from None
        row = depth_repo.add_calibration(session, account_id, router_id, rep_id, delta,
                                         by.strip(), why.strip()[:500], now)
        session.expunge(row)
        return row


def list_calibrations(db: Database, account_id: str, router_id: str
                      ) -> tuple[list[FairnessCalibrationRow], dict[str, tuple[int, int]]]:
    with detached(db) as session:
        if repo.get_router(session, account_id, router_id) is None:
            raise V1Error(404, "Router not found")
        return (depth_repo.calibrations(session, router_id),
                dict(depth_repo.balances(session, router_id)))


def _whole_number(value: Any) -> int | None:
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return number if number >= 0 else None


def _activity_date(value: Any) -> datetime | None:
    """``LastActivityDate`` is a date (``2026-11-30``): the start of that day, UTC."""
    try:
        day = datetime.fromisoformat(str(value).strip()[:10])
    except (TypeError, ValueError):
        return None
    return day.replace(tzinfo=UTC)


def mirror_salesforce_account(db: Database, account_id: str, record: dict[str, Any],
                              now: datetime) -> None:
    """A Salesforce Account from an Outbound Message into the companies leads are
    matched against: ``Name``, ``Website``, ``NumberOfEmployees``, ``LastActivityDate``
    and ``OwnerId`` (the owner when one of the account's reps has that Salesforce user
    id), whichever fields the message carries."""
    with db.session() as session:
        owner: str | None | EllipsisType = ...
        if "OwnerId" in record:
            owner = session.scalar(select(RepRow.id).where(
                RepRow.account_id == account_id,
                RepRow.crm_ids["salesforce"].as_string() == str(record["OwnerId"]))) \
                if record["OwnerId"] else None
        fields: dict[str, Any] = {key: record[name] for key, name in
                                  (("name", "Name"), ("website", "Website")) if name in record}
        if "NumberOfEmployees" in record:
            fields["employees"] = _whole_number(record["NumberOfEmployees"])
        row = depth_repo.upsert_mirrored(session, account_id, "salesforce",
                                         str(record["Id"]), fields, owner, now)
        row.last_activity_at = _activity_date(record.get("LastActivityDate")) \
            if record.get("LastActivityDate") else row.last_activity_at
