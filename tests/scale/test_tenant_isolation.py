"""Tenant isolation across every endpoint family: one account's token never reads, changes,
routes, replays or lists another account's contacts, tickets, users, routers, fields,
decisions, inbox events or account."""

from __future__ import annotations

import pytest

from connector.jobs import inbox
from tests.conftest import auth


@pytest.fixture
def tenants(client, container, make_account):
    a, b = make_account("Alpha"), make_account("Beta")
    ha, hb = auth(a), auth(b)
    user = client.post("/users", json={"email": "ana@alpha.test"}, headers=ha).get_json()["id"]
    router = client.post("/routers", json={
        "name": "R", "object_type": "contact", "published": True,
        "settings": {"users": [{"user_id": user}]}}, headers=ha).get_json()["id"]
    contact = client.post("/contacts", json={"fields": {"email": "lead@alpha.test"}},
                          headers=ha).get_json()["id"]
    ticket = client.post("/tickets", json={"fields": {"ticket_name": "t", "pipeline": "p",
                                                      "ticket_stage": "s"}},
                         headers=ha).get_json()["id"]
    field = client.post("/fields", json={"object_type": "contact", "internal_name": "tier",
                                         "label": "Tier"}, headers=ha)
    assert field.status_code == 201, field.get_json()
    assert client.post("/dispatch/router", json={"router_id": router, "object_id": contact},
                       headers=ha).get_json()["success"] is True
    container.extras["hubspot"].portals.connect("111", a)
    inbox.store_events(container.db, [inbox.NewEvent("hubspot", "111", "k1", "hubspot", {})])
    [event] = inbox.claim(container.db, limit=1)
    inbox.fail(container.db, event.id, "boom", retryable=False)
    return {"a": ha, "b": hb, "user": user, "router": router, "contact": contact,
            "ticket": ticket, "event": event.id, "b_id": b}


def test_records_users_and_routers_are_invisible_and_untouchable(client, tenants):
    t, other = tenants, tenants["b"]
    by_id = {"contacts": t["contact"], "tickets": t["ticket"], "users": t["user"],
             "routers": t["router"]}
    for family, item in by_id.items():
        assert client.get(f"/{family}/{item}", headers=other).status_code == 404, family
        assert client.delete(f"/{family}/{item}", headers=other).status_code == 404, family
        assert client.get(f"/{family}", headers=other).get_json()["results"] == [], family
    assert client.patch(f"/contacts/{t['contact']}", json={"fields": {"first_name": "X"}},
                        headers=other).status_code == 404
    assert client.patch(f"/tickets/{t['ticket']}", json={"fields": {"ticket_name": "X"}},
                        headers=other).status_code == 404
    assert client.post(f"/contacts/{t['contact']}/restore", headers=other).status_code == 404
    assert client.patch(f"/users/{t['user']}", json={"name": "X"},
                        headers=other).status_code == 404
    assert client.patch(f"/routers/{t['router']}", json={"name": "X"},
                        headers=other).status_code == 404
    for action in ("publish", "unpublish"):
        assert client.post(f"/routers/{t['router']}/{action}",
                           headers=other).status_code == 404
    # still intact for the owner
    assert client.get(f"/routers/{t['router']}", headers=t["a"]).get_json()["published"]
    assert client.get(f"/users/{t['user']}", headers=t["a"]).status_code == 200


def test_fields_decisions_and_dispatch_stay_within_the_account(client, tenants):
    t, other = tenants, tenants["b"]
    assert client.get("/fields", headers=other).get_json()["results"] == []
    assert client.post("/fields", json={"object_type": "contact", "internal_name": "tier",
                                        "label": "Tier"}, headers=other).status_code == 201
    for query in (f"object_id={t['contact']}", f"user_id={t['user']}",
                  f"router_id={t['router']}", ""):
        assert client.get(f"/decisions?{query}", headers=other).get_json()["results"] == []
    assert len(client.get("/decisions", headers=t["a"]).get_json()["results"]) == 1
    assert client.post("/dispatch/router", json={"router_id": t["router"],
                                                 "object_id": t["contact"]},
                       headers=other).get_json() == {"message": "Router not found"}


def test_inbox_events_and_the_account_itself(client, tenants):
    t, other = tenants, tenants["b"]
    assert client.get("/events?status=failed", headers=other).get_json()["results"] == []
    assert client.post(f"/events/{t['event']}/replay", headers=other).status_code == 404
    assert client.post("/events/replay", json={"all_failed": True},
                       headers=other).get_json().get("replayed", 0) == 0
    assert client.post("/events/replay", json={"ids": [t["event"]]},
                       headers=other).get_json().get("replayed", 0) == 0
    mine = client.get("/events?status=failed", headers=t["a"]).get_json()["results"]
    assert [e["id"] for e in mine] == [t["event"]] and mine[0]["status"] == "dead"
    assert client.get("/account", headers=other).get_json()["id"] == t["b_id"]
    assert client.get("/accounts", headers=other).status_code == 403
    assert client.patch(f"/accounts/{t['b_id']}", json={"active": False},
                        headers=t["a"]).status_code == 403


def test_mappings_an_account_saves_are_its_own(client, tenants, container):
    t = tenants
    default = client.get("/mappings/hubspot/contact", headers=t["b"]).get_json()
    text = default["current"]["yaml"]
    edited = text.replace("lifecycle_stage: {source: lifecyclestage}",
                          "lifecycle_stage: {source: lifecyclestage, transforms: [upper]}")
    assert edited != text
    saved = client.put("/mappings/hubspot/contact", json={"yaml": edited, "comment": "a"},
                       headers=t["a"])
    assert saved.status_code == 201
    theirs = client.get("/mappings/hubspot/contact", headers=t["b"]).get_json()
    assert theirs["current"]["yaml"] == text and len(theirs["versions"]) == 1
    assert client.get("/mappings/hubspot/contact/versions/1",
                      headers=t["b"]).status_code == 404
    assert client.get("/mappings/hubspot/contact/diff?from=0&to=1",
                      headers=t["b"]).status_code == 404
    rollback = client.post("/mappings/hubspot/contact/rollback", json={"version": 1},
                           headers=t["b"])
    assert rollback.status_code == 404
    preview = client.post("/mappings/hubspot/contact/preview", headers=t["b"], json={
        "payload": {"email": "x@y.test"}, "account_id": "anything"}).get_json()
    assert {r["account_id"] for r in preview["routers"]} <= {t["b_id"]}
    assert container.mappings.get("hubspot", "contact", t["b_id"]).version == 0
