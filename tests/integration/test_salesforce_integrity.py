"""Exactly once across a crash, and dead letters at once, for Salesforce events: Outbound
Message records and BYOC conversations, with hand-written fake ports."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from adapters.salesforce.fake_senders import ByocEventSender
from connector.core.ports import WriteResult
from connector.jobs import inbox
from connector.jobs.executors import InlineExecutor
from connector.service import byoc
from connector.service.byoc import SalesforcePorts
from connector.service.sources import link_source
from connector.store.models import DecisionRow, InboxEventRow, ObjectRow, RouterRow
from tests.integration.helpers import make_router, make_user

from .test_byoc_processing import FakeConversations

byoc_events = ByocEventSender("http://unused", "secret")
ORG = "00D000000000001"


class Crash(BaseException):
    """What the process dying looks like to the code that was running."""


class FakeWriter:
    def __init__(self) -> None:
        self.written: list[tuple[str, str, str]] = []
        self.crash_next = False

    def write_owners(self, writes):
        if self.crash_next:
            self.crash_next = False
            raise Crash
        self.written.extend((w.object_type, w.record_id, w.owner_id) for w in writes)
        return [WriteResult(w.record_id, True) for w in writes]


@pytest.fixture
def writer(container, account_id):
    fake = FakeWriter()
    container.extras["salesforce_ports"] = SalesforcePorts(
        writer=fake, conversations=FakeConversations(), account_id=account_id)
    for org in ("org", "00D000000000001"):  # the orgs these tests' events come from
        link_source(container.db, account_id, "salesforce", org)
    return fake


def drain(container):
    InlineExecutor(container, container.extras["handlers"]).drain()


def lapse_leases(container):
    with container.db.session() as session:
        session.execute(update(InboxEventRow).where(InboxEventRow.status == "processing")
                        .values(lease_until=datetime.now(UTC) - timedelta(seconds=1)))


def store_lead(container, notification_id, record):
    inbox.store_events(container.db, [inbox.NewEvent(
        "salesforce", ORG, f"outbound:{notification_id}", "salesforce",
        {"eventType": "OutboundMessage", "sobject": "Lead", "record": record,
         "received_at": time.time()})])


def assignments(container):
    with container.db.session() as session:
        return list(session.scalars(select(DecisionRow).where(DecisionRow.assigned.is_(True))
                                    .order_by(DecisionRow.created_at)))


def rotation(container):
    with container.db.session() as session:
        return session.scalars(select(RouterRow.rr_last_position)).one()


def statuses(container):
    with container.db.session() as session:
        return sorted(session.scalars(select(InboxEventRow.status)))


def test_outbound_record_routed_before_a_crash_is_not_routed_again(container, client,
                                                                   headers, writer):
    reps = [make_user(client, headers, f"{n}@example.com", crm_ids={"salesforce": f"005{n}"})
            for n in ("ana", "ben")]
    make_router(client, headers, reps, object_type="lead")
    store_lead(container, "n1", {"Id": "00Q1", "Email": "a@x.org"})
    writer.crash_next = True
    with pytest.raises(Crash):
        drain(container)
    position = rotation(container)
    lapse_leases(container)
    drain(container)

    [decision] = assignments(container)
    assert decision.sync_status == "synced" and rotation(container) == position
    assert writer.written == [("Lead", "00Q1", "005ana")]
    assert statuses(container) == ["done"]
    with container.db.session() as session:
        assert session.scalars(select(ObjectRow.source_account)).one() == ORG


def test_outbound_event_done_but_not_completed_changes_nothing(container, client, headers,
                                                               writer):
    from connector.service.salesforce_events import handle_events

    reps = [make_user(client, headers, f"{n}@example.com", crm_ids={"salesforce": f"005{n}"})
            for n in ("ana", "ben")]
    make_router(client, headers, reps, object_type="lead", overwrite="always")
    store_lead(container, "n1", {"Id": "00Q1", "Email": "a@x.org"})
    claimed = inbox.claim(container.db)
    assert set(handle_events(container, claimed).values()) == {None}  # then the crash
    lapse_leases(container)
    drain(container)
    with container.db.session() as session:
        assert len(list(session.scalars(select(DecisionRow)))) == 1
    assert writer.written == [("Lead", "00Q1", "005ana")]


def test_outbound_record_failing_its_mapping_is_dead_at_once(container, client, headers,
                                                             writer):
    rep = make_user(client, headers, "ana@example.com", crm_ids={"salesforce": "005ana"})
    make_router(client, headers, [rep], object_type="lead")
    store_lead(container, "n1", {"Id": "00Q1", "NumberOfEmployees": "many"})
    drain(container)
    with container.db.session() as session:
        row = session.scalars(select(InboxEventRow)).one()
        assert row.status == "dead" and row.attempts == 1
        assert row.last_error.startswith("mapping failed: ") and "employees" in row.last_error


def test_byoc_choice_made_before_a_crash_is_routed_with_the_same_request(
        container, client, headers, writer, monkeypatch):
    conversations = container.extras["salesforce_ports"].conversations
    reps = [make_user(client, headers, f"{n}@example.com") for n in ("ana", "ben")]
    make_router(client, headers, reps, object_type="conversation")
    inbox.store_events(container.db, [inbox.NewEvent(
        "salesforce", "org", "byoc:1", "salesforce",
        {"eventType": "ConversationStarted",
         "data": byoc_events.conversation_started("conv-1")["data"],
         "received_at": time.time()})])
    real = byoc.execute
    calls = []

    def crash_once(*args, **kwargs):  # the routing committed, then the process died
        calls.append(1)
        if len(calls) == 1:
            raise Crash
        return real(*args, **kwargs)

    monkeypatch.setattr(byoc, "execute", crash_once)
    with pytest.raises(Crash):
        drain(container)
    position = rotation(container)
    lapse_leases(container)
    drain(container)

    [decision] = assignments(container)
    assert decision.sync_status == "synced" and rotation(container) == position
    [route] = conversations.routes
    assert route.request_id == byoc.request_id_for("conv-1", "Initial", decision.id, "0")
    assert statuses(container) == ["done"]


def test_byoc_event_without_conversation_is_dead_at_once(container, writer):
    inbox.store_events(container.db, [inbox.NewEvent(
        "salesforce", "org", "byoc:2", "salesforce",
        {"eventType": "ConversationStarted", "data": {}, "received_at": time.time()})])
    inbox.store_events(container.db, [inbox.NewEvent(
        "salesforce", "org", "byoc:3", "salesforce",
        {"eventType": "Nonsense", "data": {}, "received_at": time.time()})])
    drain(container)
    with container.db.session() as session:
        rows = {r.event_key: r for r in session.scalars(select(InboxEventRow))}
    assert rows["byoc:2"].status == "dead" and "conversationIdentifier" in \
        rows["byoc:2"].last_error
    assert rows["byoc:3"].status == "dead" and "Nonsense" in rows["byoc:3"].last_error


def test_transfer_with_unreadable_channel_data_is_dead_at_once(container, writer):
    event = byoc_events.routing_requested("conv-x")
    del event["data"]["payload"]["conversationIdentifier"]
    event["data"]["payload"]["routingParameters"]["channelData"] = "{not json"
    inbox.store_events(container.db, [inbox.NewEvent(
        "salesforce", "org", "byoc:4", "salesforce",
        {"eventType": event["eventType"], "data": event["data"],
         "received_at": time.time()})])
    drain(container)
    with container.db.session() as session:
        row = session.scalars(select(InboxEventRow)).one()
    assert row.status == "dead" and "channelData is not valid JSON" in row.last_error
