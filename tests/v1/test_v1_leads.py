"""POST /v1/leads: distribution by the active ruleset (every action kind), idempotency,
duplicates, listing, and the owner written back to the CRM record it matched."""

from __future__ import annotations

from datetime import timedelta

from connector.core.errors import CrmError
from connector.store.models import DecisionRow, LeadRow, ObjectRow
from tests.v1.conftest import error, make_rep, make_ruleset, when


def _lead(client, headers, email="pat@example.com", **fields):
    return client.post("/v1/leads", json={"email": email, **fields}, headers=headers)


def test_a_lead_goes_to_the_rep_of_the_first_matching_rule(client, v1, headers):
    alex = make_rep(client, v1, "alex@company.com", name="Alex Rivera")
    sam = make_rep(client, v1, "sam@company.com")
    rules = make_ruleset(client, v1, [
        {"name": "Enterprise", "conditions": when("num_employees", "gte", 1000),
         "actions": [{"type": "ASSIGN_REP", "rep_id": alex}]},
        {"name": "Nordics", "conditions": when("country", "in", ["NO", "SE"]),
         "actions": [{"type": "ASSIGN_REP", "rep_id": sam}]}])
    response = _lead(client, v1, country="NO", fields={"num_employees": 5000})
    assert response.status_code == 201
    body = response.json
    assert body["owner"] == {"id": alex, "name": "Alex Rivera", "email": "alex@company.com"}
    assert body["rule"] == {"id": rules["rules"][0]["id"], "ruleset_id": rules["id"],
                            "ruleset_version": 1}
    assert body["reason"]["message"] == "Assigned to alex@company.com"
    assert [r["matched"] for r in body["reason"]["rules_checked"]] == [True]
    # the decision is in the same audit as the Routera API's
    decisions = client.get(f"/decisions?object_id={body['contact_id'][4:]}",
                           headers=headers).json["results"]
    assert [d["id"] for d in decisions] == [body["decision_id"]]
    assert decisions[0]["user"] == "alex@company.com"
    assert _lead(client, v1, "kim@example.com", country="SE").json["owner"]["id"] == sam


def test_no_match_uses_the_default_rule(client, v1):
    alex = make_rep(client, v1, "alex@company.com")
    make_ruleset(client, v1, [{"conditions": when("country", "equals", "NO"),
                               "actions": [{"type": "NOTIFY", "to": "OWNER"}]}],
                 default_actions=[{"type": "ASSIGN_REP", "rep_id": alex}])
    body = _lead(client, v1, country="US").json
    assert body["owner"]["id"] == alex
    assert body["rule"]["id"] == "default"
    assert body["reason"]["default"] is True


def test_an_unavailable_rep_falls_back_to_the_default_rule(client, v1):
    busy = make_rep(client, v1, "busy@company.com", status="BUSY")
    backup = make_rep(client, v1, "backup@company.com")
    make_ruleset(client, v1, [{"conditions": when("country", "equals", "NO"),
                               "actions": [{"type": "ASSIGN_REP", "rep_id": busy}]}],
                 default_actions=[{"type": "ASSIGN_REP", "rep_id": backup}])
    body = _lead(client, v1, country="NO").json
    assert body["owner"]["id"] == backup
    assert body["reason"]["fell_back_to_default"] is True
    assert body["reason"]["assignments_tried"][0] == {
        "action": "ASSIGN_REP", "message": "busy@company.com is not available (unavailable)"}


def test_routing_capacity_caps_a_reps_leads_per_day(client, v1, clock):
    alex = make_rep(client, v1, "alex@company.com", capacity=2)
    make_ruleset(client, v1, [], default_actions=[{"type": "ASSIGN_REP", "rep_id": alex}])
    owners = [_lead(client, v1, f"l{i}@example.com").json["owner"] for i in range(3)]
    assert [o and o["id"] for o in owners] == [alex, alex, None]
    clock.advance(days=1)
    assert _lead(client, v1, "next-day@example.com").json["owner"]["id"] == alex


def test_assign_through_a_router_uses_its_rotation(client, v1, headers):
    a = make_rep(client, v1, "a@company.com")
    b = make_rep(client, v1, "b@company.com")
    created = client.post("/routers", headers=headers, json={
        "name": "RR", "object_type": "contact", "published": True,
        "settings": {"users": [{"user_id": a[4:]}, {"user_id": b[4:]}],
                     "distribution": "round_robin"}})
    assert created.status_code == 201, created.json
    router = created.json["id"]
    make_ruleset(client, v1, [], default_actions=[{"type": "ASSIGN_ROUTER",
                                                   "router_id": router}])
    owners = [_lead(client, v1, f"l{i}@example.com").json for i in range(4)]
    assert [o["owner"]["id"] for o in owners] == [a, b, a, b]
    decisions = client.get(f"/decisions?router_id={router}", headers=headers).json["results"]
    assert sorted(d["id"] for d in decisions) == sorted(o["decision_id"] for o in owners)


def test_assign_to_the_owner_of_the_existing_contact(client, v1):
    alex = make_rep(client, v1, "alex@company.com")
    sam = make_rep(client, v1, "sam@company.com")
    contact = client.post("/v1/contacts", json={"email": "pat@example.com",
                                                "external_id": "crm-7"}, headers=v1).json
    make_ruleset(client, v1, [], default_actions=[{"type": "ASSIGN_REP", "rep_id": alex}])
    assert _lead(client, v1).json["owner"]["id"] == alex  # the contact now has an owner
    make_ruleset(client, v1, [{"conditions": when("company", "equals", "Acme"),
                               "actions": [{"type": "ASSIGN_CONTACT_OWNER"}]}],
                 default_actions=[{"type": "ASSIGN_REP", "rep_id": sam}])
    body = _lead(client, v1, "pat.new@example.com", external_id="crm-7",
                 company="Acme").json
    assert body["contact_id"] == contact["id"] and body["duplicate"] is False
    assert body["owner"]["id"] == alex
    assert body["reason"]["assignments_tried"] == [
        {"action": "ASSIGN_CONTACT_OWNER", "message": "Assigned to alex@company.com"}]


def test_set_field_changes_the_lead_before_it_is_stored(client, v1):
    make_ruleset(client, v1, [{"conditions": when("country", "equals", "NO"), "actions": [
        {"type": "SET_FIELD", "field": "region", "value": "EMEA"},
        {"type": "NOTIFY", "to": "sales@company.com", "message": "New Nordic lead"}]}])
    body = _lead(client, v1, country="NO").json
    assert body["fields"]["region"] == "EMEA"
    assert body["reason"]["notifications"] == [{"to": "sales@company.com",
                                                "message": "New Nordic lead"}]


def test_without_an_active_ruleset_the_lead_is_kept_unassigned(client, v1):
    body = _lead(client, v1).json
    assert body["owner"] is None and body["reason"]["message"] == "No active ruleset"
    assert client.get(f"/v1/leads/{body['id']}", headers=v1).json == body


def test_idempotency_key_replays_and_conflicts(client, v1, container):
    alex = make_rep(client, v1, "alex@company.com")
    make_ruleset(client, v1, [], default_actions=[{"type": "ASSIGN_REP", "rep_id": alex}])
    first = client.post("/v1/leads", json={"email": "p@example.com"},
                        headers={**v1, "Idempotency-Key": "abc"})
    again = client.post("/v1/leads", json={"email": "p@example.com"},
                        headers={**v1, "Idempotency-Key": "abc"})
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json == first.json
    other = client.post("/v1/leads", json={"email": "q@example.com"},
                        headers={**v1, "Idempotency-Key": "abc"})
    assert (other.status_code, other.json) == (409, error(
        "CONFLICT", "This Idempotency-Key was already used with a different request"))
    with container.db.session() as session:
        assert session.query(LeadRow).count() == 1
        assert session.query(DecisionRow).count() == 1


def test_the_same_email_within_the_window_is_a_duplicate(client, v1, clock, container):
    alex = make_rep(client, v1, "alex@company.com")
    sam = make_rep(client, v1, "sam@company.com")
    rules = make_ruleset(client, v1, [],
                         default_actions=[{"type": "ASSIGN_REP", "rep_id": alex}])
    first = _lead(client, v1, "Pat@Example.com").json
    client.patch(f"/v1/rules/{rules['id']}", headers=v1, json={
        "default_rule": {"actions": [{"type": "ASSIGN_REP", "rep_id": sam}]}})
    clock.advance(hours=23)
    dup = _lead(client, v1, "pat@example.com")
    assert dup.status_code == 200
    assert dup.json["duplicate"] is True and dup.json["duplicate_of"] == first["id"]
    assert dup.json["owner"]["id"] == alex and dup.json["id"] != first["id"]
    window = container.config.v1_duplicate_window_seconds
    clock.advance(seconds=window)
    later = _lead(client, v1, "pat@example.com")
    assert later.status_code == 201 and later.json["duplicate"] is False
    assert later.json["owner"]["id"] == sam


def test_list_filters_and_pages_newest_first(client, v1, clock):
    alex = make_rep(client, v1, "alex@company.com")
    make_ruleset(client, v1, [{"conditions": when("country", "equals", "NO"),
                               "actions": [{"type": "ASSIGN_REP", "rep_id": alex}]}])
    ids = []
    for i in range(5):
        ids.append(_lead(client, v1, f"l{i}@example.com",
                         country="NO" if i % 2 == 0 else "US").json["id"])
        clock.advance(minutes=1)
    page = client.get("/v1/leads?limit=2", headers=v1).json
    assert [x["id"] for x in page["data"]] == ids[::-1][:2]
    rest = client.get(f"/v1/leads?limit=2&cursor={page['next_cursor']}", headers=v1).json
    assert [x["id"] for x in rest["data"]] == ids[::-1][2:4]
    owned = client.get(f"/v1/leads?owner_id={alex}", headers=v1).json["data"]
    assert [x["id"] for x in owned] == [ids[4], ids[2], ids[0]]
    assert [x["id"] for x in client.get("/v1/leads?email=L1@example.com",
                                        headers=v1).json["data"]] == [ids[1]]
    since = (clock.at - timedelta(minutes=2)).isoformat()
    recent = client.get("/v1/leads", query_string={"created_from": since}, headers=v1).json
    assert [x["id"] for x in recent["data"]] == [ids[4], ids[3]]
    bad = client.get("/v1/leads?cursor=zzz", headers=v1)
    assert bad.status_code == 422 and bad.json["error"]["fields"] == {
        "cursor": "not a cursor this API returned"}


class FakeCrm:
    """The OwnerSync port: records write-backs, or fails like a CRM that refuses."""

    def __init__(self, fail: bool = False) -> None:
        self.fail = fail
        self.writes: list[tuple[str, str, str]] = []

    def __call__(self, account_id, obj, rep, decision_id) -> None:
        if self.fail:
            raise CrmError("HubSpot answered 503")
        self.writes.append((obj.source_id, rep.email, decision_id))


def _mirrored_contact(container, account_id: str, email: str) -> str:
    with container.db.session() as session:
        row = ObjectRow(account_id=account_id, object_type="contact", source="hubspot",
                        source_id="501", source_account="123", email=email, fields={})
        session.add(row)
        session.flush()
        return row.id


def test_a_lead_matching_a_crm_record_gets_its_owner_written_back(client, v1, container,
                                                                   account_id):
    crm = container.owner_sync = FakeCrm()
    contact = _mirrored_contact(container, account_id, "pat@example.com")
    alex = make_rep(client, v1, "alex@company.com")
    make_ruleset(client, v1, [], default_actions=[{"type": "ASSIGN_REP", "rep_id": alex}])
    body = _lead(client, v1).json
    assert body["contact_id"] == f"con_{contact}"
    assert crm.writes == [("501", "alex@company.com", body["decision_id"])]
    assert body["crm_sync"] == {"status": "synced", "error": None, "crm": "hubspot",
                                "record_id": "501"}
    assert "hubspot_sync_failed" not in body


def test_a_failed_write_back_keeps_the_owner_and_reports_it(client, v1, container,
                                                            account_id):
    container.owner_sync = FakeCrm(fail=True)
    _mirrored_contact(container, account_id, "pat@example.com")
    alex = make_rep(client, v1, "alex@company.com")
    make_ruleset(client, v1, [], default_actions=[{"type": "ASSIGN_REP", "rep_id": alex}])
    body = _lead(client, v1).json
    assert body["owner"]["id"] == alex
    assert body["crm_sync"] == {"status": "failed", "error": "HubSpot answered 503",
                                "crm": "hubspot", "record_id": "501"}
    assert body["hubspot_sync_failed"] is True
    assert body["hubspot_error"] == "HubSpot answered 503"


def test_a_lead_without_a_crm_record_writes_nothing_back(client, v1, container):
    crm = container.owner_sync = FakeCrm()
    alex = make_rep(client, v1, "alex@company.com")
    make_ruleset(client, v1, [], default_actions=[{"type": "ASSIGN_REP", "rep_id": alex}])
    body = _lead(client, v1).json
    assert crm.writes == [] and body["crm_sync"]["status"] == "none"


def test_a_lead_whose_routing_failed_is_kept_and_routed_on_resend(client, v1, container,
                                                                  monkeypatch):
    from connector.service import leads

    alex = make_rep(client, v1, "alex@company.com")
    make_ruleset(client, v1, [], default_actions=[{"type": "ASSIGN_REP", "rep_id": alex}])
    real = leads.decide

    def broken(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(leads, "decide", broken)
    headers = {**v1, "Idempotency-Key": "form-1"}
    failed = client.post("/v1/leads", json={"email": "p@example.com"}, headers=headers)
    assert failed.status_code == 500
    with container.db.session() as session:
        kept = session.query(LeadRow).one()
        assert (kept.email, kept.reason["message"]) == ("p@example.com", "Not routed yet")
    monkeypatch.setattr(leads, "decide", real)
    again = client.post("/v1/leads", json={"email": "p@example.com"}, headers=headers)
    assert again.status_code == 200
    assert again.json["id"] == f"lead_{kept.id}" and again.json["owner"]["id"] == alex
