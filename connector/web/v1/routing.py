"""``/v1`` routing depth: companies (API-only accounts to match leads against),
``/v1/match``, the territory table (CSV import, list, overlaps) and fairness
calibrations of a router."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from flask import g, jsonify, request, url_for
from pydantic import Field, field_validator

from connector.core import territories as core_territories
from connector.core.matching import TieBreaker
from connector.service import backtests
from connector.service import companies as service
from connector.service.objects import iso
from connector.service.v1_errors import V1Error
from connector.store.models import CompanyRow, FairnessCalibrationRow

from ..common import container
from ..manage import _settings_for_store
from ..schemas import SettingsIn, Strict
from . import bp, now, scoped
from .common import body, encode_cursor, internal, limit_arg, public, time_cursor

_DOMAIN = r"^[A-Za-z0-9.-]{1,253}$"


def _iso(value: datetime | None) -> str | None:
    return iso(value) if value is not None else None


def _rep_id(value: str | None) -> str | None:
    return internal("rep", value) if value else None


class CompanyIn(Strict):
    name: str = Field(min_length=1, max_length=300)
    domain: str | None = Field(default=None, pattern=_DOMAIN)
    website: str | None = Field(default=None, min_length=1, max_length=2048)
    size: int | None = Field(default=None, ge=0, le=10_000_000)
    owner_rep_id: str | None = Field(default=None, max_length=60)
    account_team: dict[str, str] = Field(default={}, max_length=50)
    last_activity_at: datetime | None = None
    external_id: str | None = Field(default=None, min_length=1, max_length=255)

    @field_validator("last_activity_at")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("must have a time zone, e.g. 2026-12-01T00:00:00Z")
        return value

    @field_validator("account_team")
    @classmethod
    def _roles(cls, value: dict[str, str]) -> dict[str, str]:
        for role, rep in value.items():
            if not 1 <= len(role) <= 40 or not 1 <= len(rep) <= 60:
                raise ValueError("roles are 1 to 40 characters and name a rep id")
        return value


class MatchIn(Strict):
    email: str | None = Field(default=None, max_length=320)
    website: str | None = Field(default=None, max_length=2048)
    company: str | None = Field(default=None, max_length=300)
    name_threshold: float = Field(default=92, ge=50, le=100)
    tie_breakers: list[Literal["most_recently_active", "largest", "owner_available"]] | None \
        = None


class CalibrationIn(Strict):
    rep_id: str = Field(min_length=1, max_length=60)
    delta: int
    by: str = Field(min_length=1, max_length=320)
    why: str = Field(min_length=1, max_length=500)


def company_json(row: CompanyRow) -> dict[str, Any]:
    return {"id": row.id, "name": row.name, "domain": row.domain, "website": row.website,
            "size": row.size, "owner_rep_id": public("rep", row.owner_rep_id),
            "account_team": {k: public("rep", v) for k, v in (row.account_team or {}).items()},
            "last_activity_at": _iso(row.last_activity_at), "source": row.source,
            "external_id": row.external_id, "created_at": iso(row.created_at)}


def territory_json(t: core_territories.Territory) -> dict[str, Any]:
    return {"name": t.name, "assign_to": t.assignee, "priority": t.priority,
            "countries": sorted(t.countries), "regions": sorted(t.regions),
            "postcodes": [str(p) for p in t.postcodes], "industries": sorted(t.industries),
            "min_employees": t.min_employees, "max_employees": t.max_employees, "row": t.row}


def calibration_json(row: FairnessCalibrationRow) -> dict[str, Any]:
    return {"id": row.id, "router_id": row.router_id, "rep_id": public("rep", row.rep_id),
            "delta": row.delta, "by": row.by, "why": row.why,
            "created_at": iso(row.created_at)}


@bp.post("/companies")
@scoped("companies:write")
def create_company():
    data = body(CompanyIn).model_dump(mode="python")
    data["owner_rep_id"] = _rep_id(data.get("owner_rep_id"))
    data["account_team"] = {k: _rep_id(v) for k, v in data["account_team"].items()}
    row = service.create_company(container().db, g.account_id, data)
    return jsonify(company_json(row)), 201


@bp.get("/companies")
@scoped("companies:read")
def list_companies():
    """A page of companies, oldest first; ``X-Next-Cursor`` when there is more."""
    limit = limit_arg(50, 500)
    rows = service.list_companies(container().db, g.account_id, limit=limit,
                                  after=time_cursor())
    cursor = encode_cursor(rows[-1].created_at.isoformat(), rows[-1].id) \
        if len(rows) == limit else None
    response = jsonify({"data": [company_json(r) for r in rows], "next_cursor": cursor})
    if cursor is not None:
        response.headers["X-Next-Cursor"] = cursor
        response.headers["Link"] = \
            f'<{url_for("v1.list_companies", limit=limit, cursor=cursor)}>; rel="next"'
    return response


@bp.get("/companies/<company_id>")
@scoped("companies:read")
def get_company(company_id: str):
    return jsonify(company_json(service.get_company(container().db, g.account_id,
                                                    company_id)))


@bp.delete("/companies/<company_id>")
@scoped("companies:write")
def delete_company(company_id: str):
    service.delete_company(container().db, g.account_id, company_id)
    return "", 204


@bp.post("/match")
@scoped("companies:read")
def match():
    """The companies a lead matches, each with its key, score and reason, best first, and
    the one a router's match action would use."""
    data = body(MatchIn)
    if not (data.email or data.website or data.company):
        raise V1Error(422, "The request body was invalid or contained errors.",
                      {"email": "give an email, a website or a company name"})
    result = service.match_lead(
        container().db, g.account_id,
        {"email": data.email, "website": data.website, "company": data.company}, now(),
        name_threshold=data.name_threshold,
        tie_breakers=tuple(TieBreaker(t) for t in data.tie_breakers)
        if data.tie_breakers else None)
    return jsonify({
        "matched": result.explain() if result.matched else None,
        "message": result.message,
        "candidates": [{"company": company_json_core(c.company), "key": c.key.value,
                        "value": c.value, "score": c.score, "reason": c.reason}
                       for c in result.candidates],
        "ignored": list(result.ignored)})


def company_json_core(company) -> dict[str, Any]:
    return {"id": company.id, "name": company.name, "domain": company.domain,
            "website": company.website, "owner_rep_id": public("rep", company.owner_rep_id)}


@bp.post("/territories/import")
@scoped("territories:write")
def import_territories():
    """Replace the territory table with a CSV (``text/csv``); every problem at once."""
    if request.mimetype != "text/csv":
        raise V1Error(415, "Send the territory table as text/csv")
    raw = request.get_data(cache=False)
    if len(raw) > service.MAX_CSV_BYTES:
        raise V1Error(413, "Request body too large.")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise V1Error(422, "The CSV has problems; nothing was imported.",
                      {"body": "must be UTF-8 text"}) from None
    table = service.import_territories(container().db, g.account_id, text)
    overlaps = core_territories.overlaps(table)
    return jsonify({"imported": len(table), "overlaps": len(overlaps),
                    "ambiguous": sum(o.ambiguous for o in overlaps)}), 201


@bp.get("/territories")
@scoped("territories:read")
def list_territories():
    return jsonify({"data": [territory_json(t) for t in
                             service.list_territories(container().db, g.account_id)]})


@bp.get("/territories/overlaps")
@scoped("territories:read")
def territory_overlaps():
    """Every pair of territories some record could be in, which wins and why; ambiguous
    pairs are settled by row order alone (set a priority)."""
    table = service.list_territories(container().db, g.account_id)
    return jsonify({"data": [{"first": o.first.name, "second": o.second.name,
                              "winner": o.winner.name, "why": o.why,
                              "ambiguous": o.ambiguous}
                             for o in core_territories.overlaps(table)]})


@bp.post("/routers/<router_id>/calibrations")
@scoped("routers:write")
def create_calibration(router_id: str):
    """+n (the rep is owed n more records) or -n (n fewer), with who and why."""
    data = body(CalibrationIn)
    row = service.add_calibration(container().db, g.account_id, router_id,
                                  internal("rep", data.rep_id), data.delta, data.by,
                                  data.why, now())
    return jsonify(calibration_json(row)), 201


@bp.get("/routers/<router_id>/calibrations")
@scoped("routers:read")
def list_calibrations(router_id: str):
    rows, balances = service.list_calibrations(container().db, g.account_id, router_id)
    return jsonify({"data": [calibration_json(r) for r in rows],
                    "balances": [{"rep_id": public("rep", rep), "credits": c,
                                  "calibration": k} for rep, (c, k) in balances.items()]})


# -- backtests --------------------------------------------------------------------------

class BacktestFilterIn(Strict):
    days: int = Field(default=30, ge=1, le=365)
    sources: list[Literal["api", "hubspot", "salesforce"]] = Field(default=[], max_length=3)
    object_type: Literal["contact", "ticket", "company", "deal", "lead", "case",
                         "conversation"] | None = None


class DraftRouterIn(Strict):
    object_type: Literal["contact", "ticket", "company", "deal", "lead", "case",
                         "conversation"]
    settings: SettingsIn


class BacktestIn(Strict):
    """A saved router (``router_id``) or a draft (``router``), over the records the
    filter chooses."""

    router_id: str | None = Field(default=None, min_length=1, max_length=60)
    router: DraftRouterIn | None = None
    filter: BacktestFilterIn = BacktestFilterIn()


@bp.post("/backtests")
@scoped("routers:read")
def run_backtest():
    """Run a router version over existing records; writes nothing. Returns the per-rep
    table (would / actual), the outcomes and the changed records."""
    data = body(BacktestIn)
    if (data.router_id is None) == (data.router is None):
        raise V1Error(422, "The request body was invalid or contained errors.",
                      {"router_id": "give router_id or a draft router, not both"})
    draft = None
    if data.router is not None:
        with container().db.session() as session:
            stored = _settings_for_store(session, data.router.settings, None)
        draft = backtests.draft_router(g.account_id, data.router.object_type, stored)
    chosen = backtests.RecordFilter(days=data.filter.days, sources=tuple(data.filter.sources),
                                    object_type=data.filter.object_type)
    found = backtests.run(container().db, g.account_id, now=now(), chosen=chosen,
                          router_id=data.router_id, draft=draft)
    return jsonify(backtests.as_json(found, lambda rep: public("rep", rep)))
