"""Reps (the seed's list, statuses mapped to the routers' availability) and rulesets
(versions, activation, dry run)."""

from __future__ import annotations

from connector.store.models import DecisionRow, LeadRow, ObjectRow
from tests.v1.conftest import make_rep, make_ruleset, when


def test_list_reps_is_exactly_the_seeds_array(client, v1):
    rep = make_rep(client, v1, "alex@company.com", name="Alex Rivera")
    response = client.get("/v1/reps", headers=v1)
    assert response.status_code == 200
    assert response.json == [{"id": rep, "name": "Alex Rivera", "email": "alex@company.com",
                              "status": "AVAILABLE"}]
    assert rep.startswith("rep_")


def test_reps_page_with_a_cursor(client, v1):
    ids = [make_rep(client, v1, f"r{i}@company.com") for i in range(5)]
    first = client.get("/v1/reps?limit=2", headers=v1)
    assert [r["id"] for r in first.json] == ids[:2]
    second = client.get(f"/v1/reps?limit=2&cursor={first.headers['X-Next-Cursor']}",
                        headers=v1)
    assert [r["id"] for r in second.json] == ids[2:4]
    assert 'rel="next"' in first.headers["Link"]
    last = client.get(f"/v1/reps?limit=2&cursor={second.headers['X-Next-Cursor']}",
                      headers=v1)
    assert [r["id"] for r in last.json] == ids[4:] and "X-Next-Cursor" not in last.headers
    everyone = client.get("/v1/reps", headers=v1)
    assert [r["id"] for r in everyone.json] == ids and "Link" not in everyone.headers


def test_rep_crud_and_the_status_the_routers_see(client, v1, headers):
    rep = make_rep(client, v1, "alex@company.com", capacity=5, timezone="Europe/Oslo",
                   working_hours={"monday": [{"start": "09:00", "end": "17:00"}]})
    got = client.get(f"/v1/reps/{rep}", headers=v1).json
    assert got["capacity"] == 5 and got["timezone"] == "Europe/Oslo"
    for status in ("BUSY", "AWAY", "OFFLINE", "AVAILABLE"):
        changed = client.patch(f"/v1/reps/{rep}", json={"status": status}, headers=v1).json
        assert changed["status"] == status
        routers_view = client.get(f"/users/{rep[4:]}", headers=headers).json["status"]
        assert routers_view == ("available" if status == "AVAILABLE" else "unavailable")
    client.patch(f"/users/{rep[4:]}", json={"status": "unavailable"}, headers=headers)
    assert client.get(f"/v1/reps/{rep}", headers=v1).json["status"] == "OFFLINE"
    assert client.delete(f"/v1/reps/{rep}", headers=v1).status_code == 204
    assert client.get(f"/users/{rep[4:]}", headers=headers).status_code == 404


def test_deleting_a_rep_takes_them_out_of_the_routers(client, v1, headers):
    a = make_rep(client, v1, "a@company.com")
    b = make_rep(client, v1, "b@company.com")
    router = client.post("/routers", headers=headers, json={
        "name": "RR", "object_type": "contact",
        "settings": {"users": [{"user_id": a[4:]}, {"user_id": b[4:]}]}}).json["id"]
    client.delete(f"/v1/reps/{a}", headers=v1)
    users = client.get(f"/routers/{router}", headers=headers).json["settings"]["users"]
    assert [u["user_id"] for u in users] == [b[4:]]


def test_rulesets_are_versioned_and_one_is_active(client, v1):
    alex = make_rep(client, v1, "alex@company.com")
    first = make_ruleset(client, v1, [{"name": "NO", "conditions": when("country", "equals",
                                                                        "NO"),
                                       "actions": [{"type": "ASSIGN_REP", "rep_id": alex}]}])
    assert (first["version"], first["active"]) == (1, True)
    rule_id = first["rules"][0]["id"]
    renamed = client.patch(f"/v1/rules/{first['id']}", json={"name": "Main 2"},
                           headers=v1).json
    assert renamed["version"] == 1
    changed = client.patch(f"/v1/rules/{first['id']}", headers=v1, json={"rules": [
        {"id": rule_id, "name": "NO or SE", "conditions": when("country", "in", ["NO", "SE"]),
         "actions": [{"type": "ASSIGN_REP", "rep_id": alex}]}]}).json
    assert changed["version"] == 2 and changed["rules"][0]["id"] == rule_id
    versions = client.get(f"/v1/rules/{first['id']}/versions", headers=v1).json["data"]
    assert [v["version"] for v in versions] == [1, 2]
    second = make_ruleset(client, v1, [])
    listed = {r["id"]: r["active"] for r in client.get("/v1/rules", headers=v1).json["data"]}
    assert listed == {first["id"]: False, second["id"]: True}
    client.post(f"/v1/rules/{second['id']}/deactivate", headers=v1)
    lead = client.post("/v1/leads", json={"email": "x@example.com"}, headers=v1).json
    assert lead["reason"]["message"] == "No active ruleset"
    assert client.post(f"/v1/rules/{first['id']}/activate", headers=v1).json["active"]


def test_a_rule_naming_another_accounts_rep_is_refused(client, v1, make_account, key_for):
    other = key_for(make_account("Globex"))
    theirs = make_rep(client, other, "them@globex.com")
    response = client.post("/v1/rules", headers=v1, json={
        "name": "R", "rules": [{"actions": [{"type": "ASSIGN_REP", "rep_id": theirs}]}],
        "default_rule": {"actions": [{"type": "ASSIGN_ROUTER", "router_id": "nope"}]}})
    assert response.status_code == 422
    assert response.json["error"]["fields"] == {
        "rules.0.actions.0.rep_id": "no rep with this id",
        "default_rule.actions.0.router_id": "no router with this id"}


def test_testing_a_ruleset_decides_and_writes_nothing(client, v1, container, headers):
    alex = make_rep(client, v1, "alex@company.com")
    b = make_rep(client, v1, "b@company.com")
    router = client.post("/routers", headers=headers, json={
        "name": "RR", "object_type": "contact", "published": True,
        "settings": {"users": [{"user_id": b[4:]}]}}).json["id"]
    rules = make_ruleset(client, v1, [
        {"name": "VIP", "conditions": when("company", "equals", "Acme"),
         "actions": [{"type": "ASSIGN_REP", "rep_id": alex}]}],
        default_actions=[{"type": "ASSIGN_ROUTER", "router_id": router}], active=False)
    vip = client.post(f"/v1/rules/{rules['id']}/test", json={"company": "acme"}, headers=v1)
    assert vip.status_code == 200
    assert vip.json["rule"] == {"id": rules["rules"][0]["id"], "name": "VIP",
                                "default": False}
    assert vip.json["owner"]["id"] == alex and vip.json["assigned"] is True
    other = client.post(f"/v1/rules/{rules['id']}/test", json={"company": "Else"},
                        headers=v1).json
    assert other["rule"]["default"] is True and other["owner"]["id"] == b
    assert other["reason"]["message"] == "The object was successfully assigned"
    with container.db.session() as session:
        assert session.query(LeadRow).count() == 0
        assert session.query(DecisionRow).count() == 0
        assert session.query(ObjectRow).count() == 0


def test_a_ruleset_may_only_route_leads_through_a_contact_router(client, v1, headers):
    router = client.post("/routers", headers=headers, json={
        "name": "Tickets", "object_type": "ticket"}).json["id"]
    response = client.post("/v1/rules", headers=v1, json={
        "name": "R", "rules": [], "default_rule": {"actions": [
            {"type": "ASSIGN_ROUTER", "router_id": router}]}})
    assert response.status_code == 422
    assert response.json["error"]["fields"] == {
        "default_rule.actions.0.router_id":
            "the router routes tickets; leads need a contact router"}
