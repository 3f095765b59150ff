"""Contacts (upsert), their activities (newest first, paged) and routing insights."""

from __future__ import annotations

from connector.store.models import ObjectRow
from tests.v1.conftest import error, make_rep, make_ruleset


def test_contacts_upsert_by_email_and_external_id(client, v1, headers):
    created = client.post("/v1/contacts", json={"email": "Pat@Example.com",
                                                "first_name": "Pat"}, headers=v1)
    assert created.status_code == 201
    contact = created.json
    assert contact["email"] == "pat@example.com" and contact["fields"] == {"first_name": "Pat"}
    same = client.post("/v1/contacts", json={"email": "pat@example.com",
                                             "external_id": "crm-1", "company": "Acme"},
                       headers=v1)
    assert same.status_code == 200 and same.json["id"] == contact["id"]
    by_external = client.post("/v1/contacts", json={"external_id": "crm-1",
                                                    "email": "pat@new.example"}, headers=v1)
    assert by_external.json["id"] == contact["id"]
    assert by_external.json["email"] == "pat@new.example"
    assert client.get(f"/v1/contacts/{contact['id']}", headers=v1).json["fields"] == {
        "first_name": "Pat", "company": "Acme"}
    # the same contact the Routera API serves
    assert client.get(f"/contacts/{contact['id'][4:]}", headers=headers).status_code == 200
    nameless = client.post("/v1/contacts", json={"first_name": "X"}, headers=v1)
    assert nameless.status_code == 422
    assert nameless.json == error("VALIDATION_ERROR",
                                  "The request body was invalid or contained errors.",
                                  {"body": "give 'email' or 'external_id' to upsert by"})


def test_activities_are_logged_and_listed_newest_first(client, v1, clock):
    rep = make_rep(client, v1, "alex@company.com")
    contact = client.post("/v1/contacts", json={"email": "p@example.com"}, headers=v1).json
    path = f"/v1/contacts/{contact['id']}/activities"
    logged = client.post(path, headers=v1, json={
        "type": "CALL", "notes": "Discussed expansion to 50 seats.", "outcome": "POSITIVE"})
    assert logged.status_code == 201
    assert {k: logged.json[k] for k in ("type", "notes", "outcome", "rep_id")} == {
        "type": "CALL", "notes": "Discussed expansion to 50 seats.", "outcome": "POSITIVE",
        "rep_id": None}
    for i, kind in enumerate(["MEETING", "EMAIL", "NOTE"]):
        client.post(path, headers=v1, json={"type": kind, "rep_id": rep,
                                            "occurred_at": f"2026-11-0{i + 1}T10:00:00Z"})
    page = client.get(f"{path}?limit=2", headers=v1).json
    assert [a["type"] for a in page["data"]] == ["CALL", "NOTE"]
    rest = client.get(f"{path}?limit=2&cursor={page['next_cursor']}", headers=v1).json
    assert [a["type"] for a in rest["data"]] == ["EMAIL", "MEETING"]
    bad = client.post(path, headers=v1, json={"type": "LUNCH", "outcome": "GREAT",
                                              "occurred_at": "2026-11-01T10:00:00"})
    assert bad.status_code == 422
    assert set(bad.json["error"]["fields"]) == {"type", "outcome", "occurred_at"}
    missing = client.post("/v1/contacts/con_nope/activities", headers=v1,
                          json={"type": "NOTE"})
    assert (missing.status_code, missing.json) == (404, error("NOT_FOUND",
                                                              "Contact not found"))


def test_routing_insights_per_rep_rule_and_day(client, v1, clock, container):
    alex = make_rep(client, v1, "alex@company.com")
    sam = make_rep(client, v1, "sam@company.com")
    rules = make_ruleset(client, v1, [
        {"name": "Big", "conditions": {"groups": [{"conditions": [
            {"field": "company", "operator": "equals", "value": "Big"}]}]},
         "actions": [{"type": "ASSIGN_REP", "rep_id": alex}]}],
        default_actions=[{"type": "ASSIGN_REP", "rep_id": sam}])
    start = clock.at
    leads = []
    for i, company in enumerate(["Big", "Big", "Big", "Small"]):
        leads.append(client.post("/v1/leads", json={"email": f"l{i}@x.com",
                                                    "company": company},
                                 headers=v1).json)
        clock.advance(minutes=1)
    # first activity 10 and 30 minutes after assignment for two of Alex's leads
    for lead, minutes, outcome in ((leads[0], 10, "POSITIVE"), (leads[1], 30, "NO_ANSWER")):
        at = start + _minutes(leads.index(lead) + minutes)
        client.post(f"/v1/contacts/{lead['contact_id']}/activities", headers=v1,
                    json={"type": "CALL", "outcome": outcome,
                          "occurred_at": at.isoformat()})
    window = {"from": start.isoformat(), "to": (clock.at + _minutes(60)).isoformat()}
    by_rep = client.get("/v1/insights/routing", query_string={**window, "group_by": "rep"},
                        headers=v1).json
    rows = {g["key"]: g for g in by_rep["groups"]}
    assert (by_rep["total_leads"], by_rep["leads_assigned"]) == (4, 4)
    assert rows[alex]["leads_assigned"] == 3 and rows[alex]["share"] == 0.75
    assert rows[alex]["fair_share"] == 0.5 and rows[sam]["fair_share_leads"] == 2.0
    assert rows[alex]["first_activity_minutes"] == {"p50": 20.0, "p90": 28.0}
    assert rows[alex]["outcomes"] == {"POSITIVE": 1, "NEUTRAL": 0, "NEGATIVE": 0,
                                      "NO_ANSWER": 1}
    assert rows[sam]["first_activity_minutes"] == {"p50": None, "p90": None}
    by_rule = client.get("/v1/insights/routing", query_string={**window, "group_by": "rule"},
                         headers=v1).json
    assert {g["key"]: g["leads_assigned"] for g in by_rule["groups"]} == {
        rules["rules"][0]["id"]: 3, "default": 1}
    by_day = client.get("/v1/insights/routing", query_string={**window, "group_by": "day"},
                        headers=v1).json
    assert [(g["key"], g["leads"]) for g in by_day["groups"]] == [("2026-12-01", 4)]
    bad = client.get("/v1/insights/routing?group_by=week&from=yesterday", headers=v1)
    assert bad.status_code == 422 and set(bad.json["error"]["fields"]) == {"group_by", "from"}
    with container.db.session() as session:
        assert session.query(ObjectRow).count() == 4


def _minutes(n: int):
    from datetime import timedelta

    return timedelta(minutes=n)
