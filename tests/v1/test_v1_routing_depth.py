"""Routing depth through the API: companies and /v1/match, territory CSV import and
overlaps, fairness calibrations, and routers whose decisions use them (the match action,
the territory condition and action, the fairness policy), each named in the reason."""

from __future__ import annotations

import pytest

from connector.store.models import (
    CompanyRow,
    DecisionRow,
    FairnessCalibrationRow,
    FairnessLedgerRow,
)
from tests.integration.helpers import dispatch, make_contact, make_router, make_user
from tests.v1.conftest import error

INVALID = "The request body was invalid or contained errors."
CSV_PROBLEMS = "The CSV has problems; nothing was imported."


def _company(client, v1, **body) -> dict:
    response = client.post("/v1/companies", json=body, headers=v1)
    assert response.status_code == 201, response.json
    return response.json


def _reason(client, headers, router_id: str) -> dict:
    """The reason of the router's latest decision."""
    results = client.get(f"/decisions?router_id={router_id}", headers=headers) \
        .get_json()["results"]
    return max(results, key=lambda d: d["created_at"])["reason"]


# -- companies and /v1/match -----------------------------------------------------------

def test_companies_are_created_listed_read_and_deleted(client, v1, headers):
    ann = make_user(client, headers, "ann@example.com")
    acme = _company(client, v1, name="Acme Ltd", domain="acme.co.uk", size=250,
                    owner_rep_id=f"rep_{ann}", account_team={"sdr": ann},
                    last_activity_at="2026-11-30T10:00:00Z", external_id="crm-1")
    assert acme["owner_rep_id"] == f"rep_{ann}" and acme["account_team"] == {"sdr": f"rep_{ann}"}
    assert acme["source"] == "api" and acme["external_id"] == "crm-1"
    assert client.get(f"/v1/companies/{acme['id']}", headers=v1).json["name"] == "Acme Ltd"
    page = client.get("/v1/companies?limit=1", headers=v1)
    assert [c["id"] for c in page.json["data"]] == [acme["id"]]
    again = client.post("/v1/companies", json={"name": "Other", "external_id": "crm-1"},
                        headers=v1)
    assert again.status_code == 409 and again.json["error"]["fields"] == {
        "external_id": "already used"}
    assert client.delete(f"/v1/companies/{acme['id']}", headers=v1).status_code == 204
    assert client.get(f"/v1/companies/{acme['id']}", headers=v1).status_code == 404


def test_a_company_naming_unknown_reps_or_bad_fields_is_refused(client, v1):
    response = client.post("/v1/companies", json={
        "name": "Acme", "owner_rep_id": "rep_nobody", "account_team": {"csm": "ghost"}},
        headers=v1)
    assert response.status_code == 422
    assert response.json == error("VALIDATION_ERROR", INVALID, {
        "owner_rep_id": "no rep with id 'rep_nobody'",
        "account_team.csm": "no rep with id 'rep_ghost'"})
    response = client.post("/v1/companies", json={"name": "", "size": -1, "colour": "red",
                                                  "last_activity_at": "2026-11-30T10:00:00"},
                           headers=v1)
    assert set(response.json["error"]["fields"]) == {"name", "size", "colour",
                                                     "last_activity_at"}


def test_match_returns_candidates_with_score_and_reason(client, v1):
    uk = _company(client, v1, name="Acme Ltd", domain="acme.co.uk")
    _company(client, v1, name="Acme Japan", website="https://www.acme.co.jp/")
    _company(client, v1, name="Umbrella Corporation", domain="umbrella.example")
    response = client.post("/v1/match", json={"email": "ann@eu.acme.co.uk"}, headers=v1)
    assert response.status_code == 200
    body = response.json
    assert body["matched"]["company_id"] == uk["id"]
    assert body["matched"]["key"] == "email_domain" and body["matched"]["score"] == 100
    assert body["message"] == f"matched Acme Ltd ({uk['id']}) on email domain acme.co.uk, " \
                              "score 100"
    assert [c["company"]["name"] for c in body["candidates"]] == ["Acme Ltd"]
    fuzzy = client.post("/v1/match", json={"company": "Umbrela Corp"}, headers=v1).json
    assert fuzzy["candidates"][0]["key"] == "name"
    assert round(fuzzy["candidates"][0]["score"]) == 93
    assert "93.3% like 'Umbrella Corporation'" in fuzzy["candidates"][0]["reason"]
    free = client.post("/v1/match", json={"email": "ann@gmail.com"}, headers=v1).json
    assert free["matched"] is None and free["candidates"] == [] and free["ignored"]
    empty = client.post("/v1/match", json={}, headers=v1)
    assert empty.status_code == 422 and "email" in empty.json["error"]["fields"]


# -- territories ------------------------------------------------------------------------

def _import(client, v1, text: str):
    return client.post("/v1/territories/import", data=text.encode(),
                       headers={**v1, "Content-Type": "text/csv"})


def test_territories_import_list_and_overlaps(client, v1, headers):
    ann = make_user(client, headers, "ann@example.com")
    bob = make_user(client, headers, "bob@example.com")
    text = ("name,assign_to,priority,countries,regions,postcodes\n"
            f"US West,rep:{ann},0,US,US-CA;US-WA,\n"
            f"Bay Area,rep_{bob},1,US,,94000-94999\n")
    response = _import(client, v1, text.replace(f"rep_{bob}", f"rep:rep_{bob}"))
    assert response.status_code == 201, response.json
    assert response.json == {"imported": 2, "overlaps": 1, "ambiguous": 0}
    table = client.get("/v1/territories", headers=v1).json["data"]
    assert [(t["name"], t["assign_to"], t["postcodes"]) for t in table] == [
        ("US West", f"rep:{ann}", []), ("Bay Area", f"rep:{bob}", ["94000-94999"])]
    overlaps = client.get("/v1/territories/overlaps", headers=v1).json["data"]
    assert len(overlaps) == 1 and overlaps[0]["winner"] == "Bay Area"
    assert "priority" in overlaps[0]["why"] and overlaps[0]["ambiguous"] is False


def test_a_bad_csv_reports_every_problem_and_stores_nothing(client, v1, headers):
    ann = make_user(client, headers, "ann@example.com")
    assert _import(client, v1, f"name,assign_to,countries\nWest,rep:{ann},US\n") \
        .status_code == 201
    response = _import(client, v1, "name,assign_to,countries\n"
                                   f"A,rep:{ann},USA\nB,rep:nobody,US\nC,team:x,US\n")
    assert response.status_code == 422
    fields = response.json["error"]["fields"]
    assert "row 2, column countries" in fields and "row 4, column assign_to" in fields
    assert response.json["error"]["message"] == CSV_PROBLEMS
    unknown_rep = _import(client, v1, f"name,assign_to\nA,rep:{ann}\nB,rep:nobody\n")
    assert unknown_rep.json["error"]["fields"] == {
        "row 3, column assign_to": "no rep with id 'nobody'"}
    assert [t["name"] for t in client.get("/v1/territories", headers=v1).json["data"]] == \
        ["West"]
    wrong_type = client.post("/v1/territories/import", json={"name": "x"}, headers=v1)
    assert wrong_type.status_code == 415
    assert wrong_type.json["error"]["code"] == "UNSUPPORTED_MEDIA_TYPE"


# -- fairness calibrations -------------------------------------------------------------

def test_calibrations_are_audited_with_who_and_why(client, v1, headers, container, clock):
    ann = make_user(client, headers, "ann@example.com")
    router = make_router(client, headers, [ann])
    response = client.post(f"/v1/routers/{router}/calibrations", json={
        "rep_id": f"rep_{ann}", "delta": 3, "by": "maria@example.com",
        "why": "two weeks of leave"}, headers=v1)
    assert response.status_code == 201, response.json
    assert response.json["delta"] == 3 and response.json["by"] == "maria@example.com"
    clock.advance(minutes=1)
    client.post(f"/v1/routers/{router}/calibrations", json={
        "rep_id": ann, "delta": -1, "by": "maria@example.com", "why": "one too many"},
        headers=v1)
    listed = client.get(f"/v1/routers/{router}/calibrations", headers=v1).json
    assert [c["delta"] for c in listed["data"]] == [3, -1]
    assert listed["balances"] == [{"rep_id": f"rep_{ann}", "credits": 0, "calibration": 2}]
    with container.db.session() as session:
        assert session.get(FairnessLedgerRow, (router, ann)).calibration == 2
        assert session.query(FairnessCalibrationRow).count() == 2
    zero = client.post(f"/v1/routers/{router}/calibrations", json={
        "rep_id": ann, "delta": 0, "by": "m", "why": "w"}, headers=v1)
    assert zero.status_code == 422 and "delta" in zero.json["error"]["fields"]
    blank = client.post(f"/v1/routers/{router}/calibrations", json={
        "rep_id": ann, "delta": 1, "by": " ", "why": "w"}, headers=v1)
    assert blank.status_code == 422 and "by" in blank.json["error"]["fields"]
    missing = client.post("/v1/routers/nope/calibrations", json={
        "rep_id": ann, "delta": 1, "by": "m", "why": "w"}, headers=v1)
    assert missing.status_code == 404


# -- router settings and the dispatch path ----------------------------------------------

@pytest.mark.parametrize("settings, field", [
    ({"account_match": {"role": ""}}, "settings.account_match.role"),
    ({"account_match": {"tie_breakers": ["largest", "largest"]}},
     "settings.account_match.tie_breakers"),
    ({"territory": {"condition": "in_named"}}, "settings.territory"),
    ({"territory": {"condition": "inside"}}, "settings.territory.condition"),
    ({"fairness": {"policy": "even"}}, "settings.fairness.policy"),
    ({"fairness": {"window_days": 0}}, "settings.fairness.window_days"),
])
def test_router_settings_are_validated_when_saved(client, headers, settings, field):
    ann = make_user(client, headers, "ann@example.com")
    body = {"name": "R", "object_type": "contact", "published": True,
            "settings": {"users": [{"user_id": ann}], **settings}}
    response = client.post("/routers", json=body, headers=headers)
    assert response.status_code == 400
    assert f"'{field}" in response.get_json()["message"]


def test_the_match_action_assigns_the_companys_owner_and_says_why(client, v1, headers):
    ann = make_user(client, headers, "ann@example.com")
    owner = make_user(client, headers, "owner@example.com")
    acme = _company(client, v1, name="Acme Ltd", domain="acme.co.uk", owner_rep_id=owner)
    router = make_router(client, headers, [ann], account_match={"role": "owner"})
    stored = client.get(f"/routers/{router}", headers=headers).get_json()["settings"]
    assert stored["account_match"]["role"] == "owner" and "fairness" not in stored
    matched = make_contact(client, headers, email="bo@eu.acme.co.uk")
    assert dispatch(client, headers, router, matched).get_json()["user"] == "owner@example.com"
    reason = _reason(client, headers, router)
    assert reason["account_match"]["company_id"] == acme["id"]
    assert reason["account_match"]["key"] == "email_domain"
    assert reason["account_match"]["score"] == 100
    assert reason["note"].endswith("assigned to its owner owner@example.com")
    # no match: the router's model decides, and the reason says so
    other = make_contact(client, headers, email="cy@globex.example")
    assert dispatch(client, headers, router, other).get_json()["user"] == "ann@example.com"
    reason = _reason(client, headers, router)
    assert reason["account_match"]["company_id"] is None
    assert "the router's model decides" in reason["note"]


def test_an_unavailable_owner_falls_through_to_the_model(client, v1, headers):
    ann = make_user(client, headers, "ann@example.com")
    owner = make_user(client, headers, "owner@example.com", status="unavailable")
    _company(client, v1, name="Acme Ltd", domain="acme.co.uk", owner_rep_id=owner)
    router = make_router(client, headers, [ann], account_match={})
    contact = make_contact(client, headers, email="bo@acme.co.uk")
    assert dispatch(client, headers, router, contact).get_json()["user"] == "ann@example.com"
    assert "cannot take it" in _reason(client, headers, router)["note"]


def test_the_territory_condition_and_action(client, v1, headers):
    ann = make_user(client, headers, "ann@example.com")
    west = make_user(client, headers, "west@example.com")
    assert _import(client, v1, f"name,assign_to,countries,regions\n"
                               f"US West,rep:{west},US,US-CA\n").status_code == 201
    router = make_router(client, headers, [ann],
                         territory={"condition": "in_any", "action": True})
    outside = make_contact(client, headers, country="DE")
    assert dispatch(client, headers, router, outside).get_json() == {
        "message": "Trigger did not match"}
    assert "territory condition" in _reason(client, headers, router)["note"]
    inside = make_contact(client, headers, country="US", state="CA")
    assert dispatch(client, headers, router, inside).get_json()["user"] == "west@example.com"
    reason = _reason(client, headers, router)
    assert reason["territory"]["name"] == "US West"
    assert reason["territory"]["assign_to"] == f"rep:{west}"
    assert "territory US West assigns to west@example.com" in reason["note"]


def test_the_fairness_policy_pays_a_calibration_and_shows_the_arithmetic(client, v1,
                                                                        headers, container):
    ann = make_user(client, headers, "ann@example.com")
    bob = make_user(client, headers, "bob@example.com")
    router = make_router(client, headers, [ann, bob], fairness={"policy": "keep_position"})
    client.post(f"/v1/routers/{router}/calibrations", json={
        "rep_id": bob, "delta": 1, "by": "maria@example.com", "why": "was on leave"},
        headers=v1)
    # ann's turn first, but bob is owed one: paid outside the rotation
    first = dispatch(client, headers, router, make_contact(client, headers))
    assert first.get_json()["user"] == "bob@example.com"
    reason = _reason(client, headers, router)
    assert reason["fairness"]["policy"] == "keep_position"
    assert "owed 1 record" in reason["fairness"]["arithmetic"]
    with container.db.session() as session:
        assert session.get(FairnessLedgerRow, (router, bob)).calibration == 0
    # then the rotation, where it was
    users = [dispatch(client, headers, router, make_contact(client, headers)).get_json()["user"]
             for _ in range(2)]
    assert users == ["ann@example.com", "bob@example.com"]


def test_a_record_reassigned_away_credits_the_rep(client, headers, container):
    ann = make_user(client, headers, "ann@example.com")
    bob = make_user(client, headers, "bob@example.com")
    router = make_router(client, headers, [ann, bob], overwrite="always",
                         fairness={"policy": "catch_up"})
    contact = make_contact(client, headers)
    assert dispatch(client, headers, router, contact).get_json()["user"] == "ann@example.com"
    assert dispatch(client, headers, router, contact).get_json()["user"] == "bob@example.com"
    with container.db.session() as session:
        assert session.get(FairnessLedgerRow, (router, ann)).credits == 1


def test_companies_are_stored_per_account(client, v1, key_for, make_account, container):
    _company(client, v1, name="Acme", domain="acme.example")
    other = key_for(make_account("Other"))
    assert client.get("/v1/companies", headers=other).json["data"] == []
    with container.db.session() as session:
        assert session.query(CompanyRow).count() == 1


# -- backtests --------------------------------------------------------------------------

def test_a_backtest_compares_a_draft_with_what_happened_and_writes_nothing(
        client, v1, headers, container):
    ann = make_user(client, headers, "ann@example.com")
    bob = make_user(client, headers, "bob@example.com")
    live = make_router(client, headers, [ann])
    contacts = [make_contact(client, headers, first_name=f"C{i}") for i in range(4)]
    for contact in contacts:
        assert dispatch(client, headers, live, contact).get_json()["user"] == "ann@example.com"
    with container.db.session() as session:
        decisions = session.query(DecisionRow).count()

    saved = client.post("/v1/backtests", json={"router_id": live}, headers=v1)
    assert saved.status_code == 200, saved.json
    assert saved.json["records"] == 4 and saved.json["changed_count"] == 0
    assert saved.json["per_rep"] == [{"rep_id": f"rep_{ann}", "email": "ann@example.com",
                                      "would": 4, "actual": 4, "difference": 0}]

    draft = client.post("/v1/backtests", json={"router": {
        "object_type": "contact", "settings": {"users": [{"user_id": ann},
                                                         {"user_id": bob}]}}}, headers=v1)
    assert draft.status_code == 200, draft.json
    table = {row["email"]: (row["would"], row["actual"]) for row in draft.json["per_rep"]}
    assert table == {"ann@example.com": (2, 4), "bob@example.com": (2, 0)}
    assert draft.json["changed_count"] == 2
    assert {c["record_id"] for c in draft.json["changed"]} <= set(contacts)
    assert all(c["would_rep_id"] == f"rep_{bob}" for c in draft.json["changed"])
    assert draft.json["outcomes"] == {"assigned": 4}

    none = client.post("/v1/backtests", json={"router_id": live,
                                              "filter": {"sources": ["hubspot"]}}, headers=v1)
    assert none.json["records"] == 0 and none.json["per_rep"] == []
    with container.db.session() as session:
        assert session.query(DecisionRow).count() == decisions


def test_a_backtest_request_is_validated(client, v1, headers):
    ann = make_user(client, headers, "ann@example.com")
    live = make_router(client, headers, [ann])
    both = client.post("/v1/backtests", json={"router_id": live, "router": {
        "object_type": "contact", "settings": {}}}, headers=v1)
    assert both.status_code == 422 and "router_id" in both.json["error"]["fields"]
    wrong_type = client.post("/v1/backtests", json={"router_id": live, "filter": {
        "object_type": "ticket"}}, headers=v1)
    assert wrong_type.json["error"]["fields"] == {
        "filter.object_type": "must be contact for this router"}
    unknown_rep = client.post("/v1/backtests", json={"router": {
        "object_type": "contact", "settings": {"users": [{"user_id": "ghost"}]}}}, headers=v1)
    assert unknown_rep.status_code == 422
    assert "settings.users.0.user_id" in unknown_rep.json["error"]["fields"]
    days = client.post("/v1/backtests", json={"router_id": live, "filter": {"days": 0}},
                       headers=v1)
    assert days.status_code == 422 and "filter.days" in days.json["error"]["fields"]
    assert client.post("/v1/backtests", json={"router_id": "nope"}, headers=v1) \
        .status_code == 404
