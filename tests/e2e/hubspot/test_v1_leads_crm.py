"""``POST /v1/leads`` for an account with a HubSpot portal, over real HTTP against the fake:
the contact is found by email or created (owner set in the same call), mirrored, and its
owner written; a HubSpot that fails or refuses is reported in the answer and retried."""

from __future__ import annotations

import pytest
import requests

from adapters.hubspot.fake_routes import ValidationRule
from connector.jobs import inbox
from connector.service.api_keys import create_key
from connector.store.models import InboxEventRow, ObjectRow

from .conftest import connect_portal
from .harness import Running, wait_for


@pytest.fixture
def quick(fake, database_url, monkeypatch):
    """The service with a retry schedule of 0.2 s steps."""
    monkeypatch.setattr(inbox, "RETRY_SCHEDULE", inbox.RETRY_SCHEDULE)  # process-wide
    running = Running(fake, database_url, retry_schedule=(0.2, 0.2, 0.2))
    yield running
    running.stop()


def setup(service, fake, *, assign: bool = True) -> dict:
    """An account on the fake's portal, a /v1 key, and a ruleset giving every lead to ana."""
    portal = connect_portal(service, fake)
    _, secret = create_key(service.container.db, portal["account_id"], ["*"])
    headers = {"Authorization": f"Bearer {secret}"}
    reps = requests.get(service.url + "/v1/reps", headers=headers, timeout=10).json()
    ana = next(r["id"] for r in reps if r["email"] == "ana@example.com")
    if assign:
        r = requests.post(service.url + "/v1/rules", headers=headers, timeout=10, json={
            "name": "Main", "active": True, "rules": [],
            "default_rule": {"actions": [{"type": "ASSIGN_REP", "rep_id": ana}]}})
        assert r.status_code == 201, r.text
    owner = next(o for o in fake.owners if o["email"] == "ana@example.com")["id"]
    return {**portal, "v1": headers, "ana": ana, "owner": owner}


def post_lead(service, setup_: dict, **body) -> dict:
    r = requests.post(service.url + "/v1/leads", headers=setup_["v1"], timeout=30,
                      json={"email": "pat@example.org", "first_name": "Pat",
                            "company": "Acme", **body})
    assert r.status_code == 201, r.text
    return r.json()


def contacts_with(fake, email: str) -> list[str]:
    return [i for i, o in fake.objects["contacts"].items()
            if (o["properties"].get("email") or "").lower() == email]


def get_lead(service, setup_: dict, lead_id: str) -> dict:
    r = requests.get(f"{service.url}/v1/leads/{lead_id}", headers=setup_["v1"], timeout=10)
    assert r.status_code == 200, r.text
    return r.json()


def test_a_new_lead_is_created_in_hubspot_with_its_owner_in_the_same_call(service, fake):
    s = setup(service, fake)
    lead = post_lead(service, s)
    record = lead["crm_sync"]["record_id"]
    assert lead["owner"]["id"] == s["ana"]
    assert lead["crm_sync"] == {"status": "synced", "error": None, "crm": "hubspot",
                                "record_id": record}
    assert "hubspot_sync_failed" not in lead
    created = fake.get_object("contacts", record)["properties"]
    assert (created["email"], created["firstname"], created["company"]) == \
        ("pat@example.org", "Pat", "Acme")
    assert created["hubspot_owner_id"] == s["owner"]
    assert fake.calls["POST /crm/objects/{version}/{type}/batch/create"] == 1
    assert fake.calls["POST /crm/objects/{version}/{type}/batch/update"] == 0
    assert fake.calls["POST /crm/objects/{version}/{type}/search"] == 1
    with service.container.db.session() as session:
        mirrored = session.get(ObjectRow, lead["contact_id"].removeprefix("con_"))
        assert (mirrored.source, mirrored.source_id) == ("hubspot", record)
    assert get_lead(service, s, lead["id"])["crm_sync"] == lead["crm_sync"]


def test_a_lead_already_in_hubspot_is_found_and_its_owner_written(service, fake):
    s = setup(service, fake)
    existing = fake.create_object("contacts", {"email": "Pat@Example.org"})
    lead = post_lead(service, s)
    assert lead["crm_sync"] == {"status": "synced", "error": None, "crm": "hubspot",
                                "record_id": existing}
    assert fake.owner_of("contacts", existing) == s["owner"]
    assert fake.calls["POST /crm/objects/{version}/{type}/batch/create"] == 0
    assert len(contacts_with(fake, "pat@example.org")) == 1


def test_a_lead_nobody_is_assigned_is_still_created(service, fake):
    s = setup(service, fake, assign=False)
    lead = post_lead(service, s)
    assert lead["owner"] is None and lead["crm_sync"]["status"] == "synced"
    created = fake.get_object("contacts", lead["crm_sync"]["record_id"])["properties"]
    assert created["email"] == "pat@example.org" and not created.get("hubspot_owner_id")


def test_hubspot_failing_is_reported_and_the_retry_finishes_it(quick, fake):
    s = setup(quick, fake)
    fake.faults.error_rate = 1.0  # every CRM call answers 5xx
    lead = post_lead(quick, s)
    assert lead["owner"]["id"] == s["ana"]  # the assignment is kept
    assert lead["crm_sync"]["status"] == "failed" and lead["crm_sync"]["record_id"] is None
    assert lead["hubspot_sync_failed"] is True and lead["hubspot_error"]
    assert "Bearer" not in lead["hubspot_error"]
    fake.faults.error_rate = 0.0
    wait_for(lambda: get_lead(quick, s, lead["id"])["crm_sync"]["status"] == "synced",
             what="the retry linking the lead")
    after = get_lead(quick, s, lead["id"])
    assert "hubspot_sync_failed" not in after
    assert fake.owner_of("contacts", after["crm_sync"]["record_id"]) == s["owner"]
    assert len(contacts_with(fake, "pat@example.org")) == 1
    assert quick.count(InboxEventRow, InboxEventRow.kind == "v1_lead_crm") == 1


def test_a_validation_rule_refusal_names_the_property_until_the_portal_allows_it(quick, fake):
    s = setup(quick, fake)
    fake.validation_rules.append(ValidationRule("contacts", "phone", {}))
    lead = post_lead(quick, s)
    assert lead["crm_sync"]["status"] == "failed"
    assert "A value for phone must be provided" in lead["hubspot_error"]
    assert fake.objects["contacts"] == {}
    fake.validation_rules.clear()  # the portal's admin relaxes the rule
    wait_for(lambda: get_lead(quick, s, lead["id"])["crm_sync"]["status"] == "synced",
             what="the retry creating the contact")
    record = get_lead(quick, s, lead["id"])["crm_sync"]["record_id"]
    assert fake.owner_of("contacts", record) == s["owner"]


def test_a_refusal_that_never_ends_is_a_dead_letter(quick, fake):
    s = setup(quick, fake)
    fake.validation_rules.append(ValidationRule("contacts", "phone", {}))
    lead = post_lead(quick, s)
    wait_for(lambda: get_lead(quick, s, lead["id"])["crm_sync"]["status"] == "dead",
             what="the schedule running out")
    assert get_lead(quick, s, lead["id"])["hubspot_sync_failed"] is True


def test_a_hanging_hubspot_does_not_hold_the_answer_and_the_retry_finishes_it(quick, fake):
    import threading

    s = setup(quick, fake)
    gate = threading.Event()
    fake.faults.hold = gate  # every HubSpot call hangs (up to 60 s in the fake)
    try:
        lead = post_lead(quick, s)  # answered within the client's 30 s: bounded by 10 s
        assert fake.held.is_set()
    finally:
        gate.set()
        fake.faults.hold = None
    assert lead["owner"]["id"] == s["ana"] and lead["crm_sync"]["status"] == "failed"
    assert "timed out" in lead["hubspot_error"]
    wait_for(lambda: get_lead(quick, s, lead["id"])["crm_sync"]["status"] == "synced",
             what="the retry after HubSpot came back")
    assert len(contacts_with(fake, "pat@example.org")) == 1


def test_an_account_without_a_portal_leaves_hubspot_alone(service, fake):
    setup(service, fake)  # another account has the portal
    from connector.store.models import AccountRow

    with service.container.db.session() as session:
        other = AccountRow(name="Other", active=True)
        session.add(other)
        session.flush()
        other_id = other.id
    _, secret = create_key(service.container.db, other_id, ["*"])
    r = requests.post(service.url + "/v1/leads", headers={"Authorization": f"Bearer {secret}"},
                      json={"email": "pat@example.org"}, timeout=30)
    assert r.status_code == 201, r.text
    assert r.json()["crm_sync"] == {"status": "none", "error": None, "crm": None,
                                    "record_id": None}
    assert fake.objects["contacts"] == {}
    assert fake.calls["POST /crm/objects/{version}/{type}/search"] == 0
