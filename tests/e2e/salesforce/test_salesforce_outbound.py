"""Outbound Messages end to end: SOAP over HTTP into the connector, routing, and OwnerId
written back to the fake org with sObject Collections."""

from __future__ import annotations

from sqlalchemy import select

from connector.store.models import DecisionRow
from tests.support.waiting import wait_until as wait_for


def _decisions(env):
    with env.container.db.session() as session:
        return list(session.scalars(select(DecisionRow).order_by(DecisionRow.created_at)))


def _leads(env, n, **extra):
    return [env.fake.add_record("Lead", {"Email": f"lead{i}@example.com", "Company": "Acme",
                                         **extra}) for i in range(n)]


def test_outbound_message_leads_get_owner_ids_written_in_one_batch(env):
    ana, bob = env.add_rep("ana@example.com"), env.add_rep("bob@example.com", crm_id=True)
    env.add_router("lead", [ana, bob], None)
    ids = _leads(env, 5)
    records = [{"Id": i, "Email": f"lead{n}@example.com", "Company": "Acme",
                "FirstName": None} for n, i in enumerate(ids)]

    status, acked = env.outbound.send("Lead", records)

    assert (status, acked) == (200, True)
    wait_for(lambda: all(env.fake.owner_of(i) for i in ids), what="owners written")
    owners = {env.fake.owner_of(i) for i in ids}
    assert owners == {env.fake.users["ana@example.com"], env.fake.users["bob@example.com"]}
    assert env.fake.owner_batches == [5]
    wait_for(lambda: all(d.sync_status == "synced" for d in _decisions(env))
             and len(_decisions(env)) == 5, what="decisions synced")
    # ana had no stored Salesforce id: one SOQL lookup by email, then the cache
    queries = env.fake.requests_to("GET", "/services/data/v61.0/query/")
    assert len(queries) == 1


def test_many_records_are_written_in_batches_of_at_most_200(env):
    ana = env.add_rep("ana@example.com", crm_id=True)
    env.add_router("lead", [ana], None)
    ids = _leads(env, 260)
    records = [{"Id": i, "Email": f"lead{n}@example.com"} for n, i in enumerate(ids)]

    for start in range(0, 260, 130):
        assert env.outbound.send("Lead", records[start:start + 130]) == (200, True)

    wait_for(lambda: all(env.fake.owner_of(i) for i in ids), timeout=60, what="owners")
    assert sum(env.fake.owner_batches) == 260
    assert max(env.fake.owner_batches) <= 200
    assert len(env.fake.owner_batches) < 260 / 10


def test_case_router_with_queue_destination_makes_the_queue_the_owner(env):
    queue = env.fake.add_queue("Support")
    ana = env.add_rep("ana@example.com")
    env.add_router("case", [ana], {"kind": "queue", "queue": "Support"})
    case = env.fake.add_record("Case", {"Subject": "Broken"})

    assert env.outbound.send("Case", [{"Id": case, "Subject": "Broken"}]) == (200, True)

    wait_for(lambda: env.fake.owner_of(case), what="case owner")
    assert env.fake.owner_of(case) == queue


def test_contact_records_are_routed_too(env):
    ana = env.add_rep("ana@example.com", crm_id=True)
    env.add_router("contact", [ana], None)
    contact = env.fake.add_record("Contact", {"Email": "c@example.com"})

    assert env.outbound.send("Contact", [{"Id": contact, "Email": "c@example.com"}]) == \
        (200, True)

    wait_for(lambda: env.fake.owner_of(contact), what="contact owner")
    assert env.fake.owner_of(contact) == env.fake.users["ana@example.com"]


def test_a_record_salesforce_refuses_fails_alone_with_its_error(env):
    ana = env.add_rep("ana@example.com", crm_id=True)
    env.add_router("lead", [ana], None)
    good = _leads(env, 2)
    bad = env.fake.add_record("Lead", {"Email": "bad@example.com",
                                       "fail_with": "FIELD_CUSTOM_VALIDATION_EXCEPTION"})
    records = [{"Id": i, "Email": f"x{n}@example.com"} for n, i in enumerate([*good, bad])]

    assert env.outbound.send("Lead", records) == (200, True)

    wait_for(lambda: len([d for d in _decisions(env) if d.sync_status != "pending"]) == 3,
             what="three write-back results")
    by_status = {d.sync_status for d in _decisions(env)}
    assert by_status == {"synced", "failed"}
    (failed,) = [d for d in _decisions(env) if d.sync_status == "failed"]
    assert failed.sync_error.startswith("FIELD_CUSTOM_VALIDATION_EXCEPTION")
    assert all(env.fake.owner_of(i) for i in good) and env.fake.owner_of(bad) is None


def test_request_limit_exceeded_backs_off_and_then_writes(env):
    ana = env.add_rep("ana@example.com", crm_id=True)
    env.add_router("lead", [ana], None)
    (lead,) = _leads(env, 1)
    env.fake.inject("composite", "REQUEST_LIMIT_EXCEEDED", times=2)

    assert env.outbound.send("Lead", [{"Id": lead, "Email": "l@example.com"}]) == (200, True)

    # the fake stores the owner before it answers: wait for the answer to be read too
    wait_for(lambda: env.fake.owner_of(lead) and env.ports.writer.api_usage is not None,
             what="owner after limit, and the limit header read")
    assert env.fake.calls["PATCH /services/data/v61.0/composite/sobjects"] == 3


def test_wrong_organization_gets_a_soap_fault_and_nothing_is_stored(env):
    from adapters.salesforce.fake_senders import OutboundMessageSender
    from connector.jobs.inbox import counts

    sender = OutboundMessageSender(env.outbound.url, "00D999999999999AAA")

    status, acked = sender.send("Lead", [{"Id": "00Q000000000123"}])

    assert (status, acked) == (500, False)
    assert counts(env.container.db) == {}


def test_a_redelivered_notification_is_acked_and_processed_once(env):
    ana = env.add_rep("ana@example.com", crm_id=True)
    env.add_router("lead", [ana], None)
    (lead,) = _leads(env, 1)
    record = [{"Id": lead, "Email": "l@example.com"}]

    assert env.outbound.send("Lead", record, ["04l000000000777"]) == (200, True)
    assert env.outbound.send("Lead", record, ["04l000000000777"]) == (200, True)

    wait_for(lambda: env.fake.owner_of(lead), what="owner")
    wait_for(lambda: len(_decisions(env)) == 1 and _decisions(env)[0].sync_status == "synced",
             what="one decision")
    assert sum(env.fake.owner_batches) == 1


def test_the_echo_of_our_own_owner_update_is_not_routed_again(env):
    ana = env.add_rep("ana@example.com", crm_id=True)
    bob = env.add_rep("bob@example.com", crm_id=True)
    env.add_router("lead", [ana, bob], None, overwrite="always")
    (lead,) = _leads(env, 1)
    assert env.outbound.send("Lead", [{"Id": lead, "Email": "l@example.com"}]) == (200, True)
    owner = wait_for(lambda: env.fake.owner_of(lead), what="owner")
    wait_for(lambda: _decisions(env) and _decisions(env)[0].sync_status == "synced",
             what="synced")

    echo = [{"Id": lead, "Email": "l@example.com", "OwnerId": owner + "AAA"}]
    assert env.outbound.send("Lead", echo) == (200, True)
    from connector.jobs.inbox import counts
    # the echo is handled before a person's change arrives, as Salesforce sends them in order
    wait_for(lambda: counts(env.container.db) == {"done": 2}, what="the echo handled")
    assert len(_decisions(env)) == 1
    other = [{"Id": lead, "Email": "l@example.com", "OwnerId": "005999999999999"}]
    assert env.outbound.send("Lead", other) == (200, True)

    wait_for(lambda: len(_decisions(env)) == 2, what="a decision for the real change only")
    wait_for(lambda: counts(env.container.db) == {"done": 3}, what="all events done")
    assert len(_decisions(env)) == 2


def test_a_record_notified_twice_in_one_message_is_written_once(env):
    ana = env.add_rep("ana@example.com", crm_id=True)
    env.add_router("lead", [ana], None)
    (lead,) = _leads(env, 1)
    record = {"Id": lead, "Email": "lead0@example.com", "Company": "Acme"}

    assert env.outbound.send("Lead", [record, {**record, "Company": "Acme Inc"}]) == \
        (200, True)

    wait_for(lambda: env.fake.owner_of(lead) == env.fake.users["ana@example.com"],
             what="owner written")
    assert env.fake.owner_batches == [1]
    wait_for(lambda: [d.sync_status for d in _decisions(env)] == ["synced"],
             what="the decision synced")


def test_owner_ids_stick_in_an_org_with_active_lead_and_case_assignment_rules(env):
    """The fake org reassigns any Lead or Case write without Sforce-Auto-Assign: FALSE
    (as an active assignment rule does); the connector's owners stay."""
    env.fake.assignment_rules.update({"Lead": env.fake.add_queue("LeadTriage"),
                                      "Case": env.fake.add_queue("CaseTriage")})
    ana = env.add_rep("ana@example.com", crm_id=True)
    env.add_router("lead", [ana], None)
    ids = _leads(env, 3)

    assert env.outbound.send("Lead", [{"Id": i, "Email": f"lead{n}@example.com"}
                                      for n, i in enumerate(ids)]) == (200, True)

    wait_for(lambda: all(d.sync_status == "synced" for d in _decisions(env))
             and len(_decisions(env)) == 3, what="decisions synced")
    assert {env.fake.owner_of(i) for i in ids} == {env.fake.users["ana@example.com"]}
    assert env.fake.reassigned == []
    writes = env.fake.requests_to("PATCH", "/services/data/v61.0/composite/sobjects")
    assert writes and all(w.headers["sforce-auto-assign"] == "FALSE" for w in writes)
