"""SLA reassignment of a Salesforce Lead end to end: the Lead is routed from one Outbound
Message and never sends another, yet the stage's new owner reaches the fake org's
OwnerId right after the scan, through an active assignment rule; a refused write is
kept as a failed decision and retried on the inbox's schedule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from connector.service import sla
from connector.store.models import DecisionRow, InboxEventRow, SlaClockRow
from tests.support.waiting import wait_until as wait_for


def _routed_lead(env) -> tuple[str, str]:
    """A Lead routed to ana, with a monitor whose stage reassigns at once; (lead, ben)."""
    ana = env.add_rep("ana@example.com", crm_id=True)
    ben = env.add_rep("ben@example.com")  # no stored Salesforce id: found by email
    router = env.add_router("lead", [ana, ben], None)
    sla.create_monitor(env.container.db, env.account_id, {
        "name": "first touch", "router_id": router, "condition": "first_touch",
        "duration": "PT5M", "clock": "wall", "reminders": [], "manager_emails": [],
        "active": True, "stages": [{"after": "PT0S", "notify": ["owner"], "reassign": True}]})
    lead = env.fake.add_record("Lead", {"Email": "l@example.com", "Company": "Acme"})
    assert env.outbound.send("Lead", [{"Id": lead, "Email": "l@example.com"}]) == (200, True)
    wait_for(lambda: env.fake.owner_of(lead) == env.fake.users["ana@example.com"],
             what="ana written")
    wait_for(lambda: _clock(env) is not None, what="the SLA clock")
    env.container.extras["notify"] = lambda session, **kw: None
    env.container.extras["now"] = lambda: datetime.now(UTC) + timedelta(minutes=6)
    return lead, ben


def _clock(env) -> SlaClockRow | None:
    with env.container.db.session() as session:
        row = session.scalars(select(SlaClockRow)).one_or_none()
        if row is not None:
            session.expunge(row)
        return row


def _decision(env, decision_id: str) -> DecisionRow:
    with env.container.db.session() as session:
        row = session.get(DecisionRow, decision_id)
        session.expunge(row)
        return row


def test_an_untouched_lead_past_its_sla_gets_the_new_owner_in_salesforce(env):
    queue = env.fake.add_queue("LeadTriage")
    env.fake.assignment_rules["Lead"] = queue  # an active rule reassigns unflagged writes
    lead, ben = _routed_lead(env)

    assert sla.scan_now(env.container) == 1

    assert env.fake.owner_of(lead) == env.fake.users["ben@example.com"]
    assert env.fake.reassigned == []
    clock = _clock(env)
    assert clock.rep_id == ben
    assert _decision(env, clock.decision_id).sync_status == "synced"
    writes = env.fake.requests_to("PATCH", "/services/data/v61.0/composite/sobjects")
    assert len(writes) == 2 and all(w.headers["sforce-auto-assign"] == "FALSE"
                                    for w in writes)


def test_a_refused_owner_write_is_failed_then_retried(env):
    lead, _ = _routed_lead(env)
    env.fake.records[lead]["fail_with"] = "FIELD_CUSTOM_VALIDATION_EXCEPTION"

    assert sla.scan_now(env.container) == 1

    decision_id = _clock(env).decision_id
    failed = _decision(env, decision_id)
    assert failed.sync_status == "failed"
    assert failed.sync_error.startswith("FIELD_CUSTOM_VALIDATION_EXCEPTION")
    assert env.fake.owner_of(lead) == env.fake.users["ana@example.com"]

    del env.fake.records[lead]["fail_with"]  # the rule is fixed; the schedule's wait passes
    with env.container.db.session() as session:
        session.execute(update(InboxEventRow).where(InboxEventRow.kind == "salesforce_owner")
                        .values(next_attempt_at=datetime.now(UTC) - timedelta(seconds=1)))
    wait_for(lambda: _decision(env, decision_id).sync_status == "synced", what="retried")
    assert env.fake.owner_of(lead) == env.fake.users["ben@example.com"]
