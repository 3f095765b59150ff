"""``POST /v1/leads`` for an account with a Salesforce org, over real HTTP against the
fake org: the Lead is found by email or created with its OwnerId, a direct assignment on a
record mirrored from Salesforce writes OwnerId, failures are reported and retried."""

from __future__ import annotations

import pytest
import requests

from connector.jobs import inbox
from connector.service.api_keys import create_key
from connector.service.sources import link_source
from connector.store.models import ObjectRow
from tests.support.waiting import wait_until as wait_for


@pytest.fixture
def quick(make_env, monkeypatch):
    """The environment with a retry schedule of 0.2 s steps, its org linked to the account."""
    monkeypatch.setattr(inbox, "RETRY_SCHEDULE", inbox.RETRY_SCHEDULE)  # process-wide
    env = make_env(retry_schedule=(0.2, 0.2, 0.2))
    link_source(env.container.db, env.account_id, "salesforce", env.fake.org_id)
    _, secret = create_key(env.container.db, env.account_id, ["*"])
    env.v1 = {"Authorization": f"Bearer {secret}"}
    ana = env.add_rep("ana@example.com")
    env.ana_rep = next(r["id"] for r in requests.get(env.url + "/v1/reps", headers=env.v1,
                                                      timeout=10).json()
                       if r["email"] == "ana@example.com")
    env.ana_user = env.fake.users["ana@example.com"]
    r = requests.post(env.url + "/v1/rules", headers=env.v1, timeout=10, json={
        "name": "Main", "active": True, "rules": [],
        "default_rule": {"actions": [{"type": "ASSIGN_REP", "rep_id": env.ana_rep}]}})
    assert r.status_code == 201, r.text
    assert ana
    return env


def post_lead(env, **body) -> dict:
    r = requests.post(env.url + "/v1/leads", headers=env.v1, timeout=30,
                      json={"email": "pat@example.org", "first_name": "Pat", **body})
    assert r.status_code == 201, r.text
    return r.json()


def get_lead(env, lead_id: str) -> dict:
    r = requests.get(f"{env.url}/v1/leads/{lead_id}", headers=env.v1, timeout=10)
    assert r.status_code == 200, r.text
    return r.json()


def leads_in_org(env) -> list[dict]:
    return [r for r in env.fake.records.values() if r["type"] == "Lead"]


def test_a_new_lead_is_created_as_a_salesforce_lead_with_its_owner(quick):
    rule_owner = quick.fake.add_user("rule@example.com")
    quick.fake.assignment_rules["Lead"] = rule_owner  # an active rule must not win
    lead = post_lead(quick, company="Acme")
    sync = lead["crm_sync"]
    assert sync["status"] == "synced" and sync["crm"] == "salesforce", lead
    created = quick.fake.records[sync["record_id"]]
    assert (created["Email"], created["FirstName"], created["Company"],
            created["LastName"]) == ("pat@example.org", "Pat", "Acme", "[not provided]")
    assert created["OwnerId"] == quick.ana_user
    assert quick.fake.requests_to("PATCH", "/services/data/v61.0/composite/sobjects") == []
    assert get_lead(quick, lead["id"])["crm_sync"] == sync


def test_a_lead_already_in_salesforce_is_found_and_its_owner_written(quick):
    existing = quick.fake.add_record("Lead", {"Email": "pat@example.org", "LastName": "Lee",
                                              "Company": "Acme"})
    lead = post_lead(quick)
    assert lead["crm_sync"] == {"status": "synced", "error": None, "crm": "salesforce",
                                "record_id": existing}
    assert quick.fake.owner_of(existing) == quick.ana_user
    assert len(leads_in_org(quick)) == 1


def test_a_direct_assignment_on_a_mirrored_salesforce_record_writes_its_owner(quick):
    record = quick.fake.add_record("Contact", {"Email": "pat@example.org", "LastName": "Lee"})
    with quick.container.db.session() as session:
        session.add(ObjectRow(account_id=quick.account_id, object_type="contact",
                              source="salesforce", source_id=record, email="pat@example.org",
                              fields={}))
    lead = post_lead(quick)
    assert lead["crm_sync"]["status"] == "synced" and lead["crm_sync"]["record_id"] == record
    assert quick.fake.owner_of(record) == quick.ana_user
    assert leads_in_org(quick) == []


def test_salesforce_failing_is_reported_and_the_retry_finishes_it(quick):
    quick.fake.inject("composite", "SERVER_UNAVAILABLE", times=1000, status=503)
    lead = post_lead(quick)
    assert lead["owner"]["id"] == quick.ana_rep  # the assignment is kept
    assert lead["crm_sync"]["status"] == "failed"
    assert lead["salesforce_sync_failed"] is True and lead["salesforce_error"]
    assert "hubspot_sync_failed" not in lead
    assert leads_in_org(quick) == []
    with quick.fake._lock:
        quick.fake._injections.clear()  # Salesforce is back
    wait_for(lambda: get_lead(quick, lead["id"])["crm_sync"]["status"] == "synced",
             what="the retry creating the Lead")
    made = leads_in_org(quick)
    assert len(made) == 1 and made[0]["OwnerId"] == quick.ana_user


def test_a_refused_owner_write_is_retried_without_a_second_lead(quick):
    existing = quick.fake.add_record("Lead", {"Email": "pat@example.org", "LastName": "Lee",
                                              "Company": "Acme",
                                              "fail_with": "UNABLE_TO_LOCK_ROW"})
    lead = post_lead(quick)
    assert lead["crm_sync"]["status"] == "failed"
    assert lead["crm_sync"]["record_id"] == existing
    assert "UNABLE_TO_LOCK_ROW" in lead["salesforce_error"]
    quick.fake.records[existing]["fail_with"] = None
    wait_for(lambda: get_lead(quick, lead["id"])["crm_sync"]["status"] == "synced",
             what="the retry writing OwnerId")
    assert quick.fake.owner_of(existing) == quick.ana_user
    assert len(leads_in_org(quick)) == 1


def test_a_slow_salesforce_does_not_hold_the_answer_and_the_retry_finishes_it(quick):
    assert post_lead(quick, email="first@example.org")["crm_sync"]["status"] == "synced"
    quick.fake.latency = 40.0  # longer than the answer may wait
    lead = post_lead(quick)  # answered within the client's 30 s: bounded by 10 s
    quick.fake.latency = 0.0
    assert lead["owner"]["id"] == quick.ana_rep and lead["crm_sync"]["status"] == "failed"
    assert "timed out" in lead["salesforce_error"]
    wait_for(lambda: get_lead(quick, lead["id"])["crm_sync"]["status"] == "synced",
             what="the retry after Salesforce came back")
    assert [r["Email"] for r in leads_in_org(quick)].count("pat@example.org") == 1
