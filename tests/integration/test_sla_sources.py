"""First touch from every source: HubSpot property changes (webhooks or the journal go
through the same handler), Salesforce Tasks, Events and LastActivityDate from Outbound
Messages, and a BYOC Accepted work result."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from connector.core.ports import WriteResult
from connector.jobs import inbox
from connector.service import sla
from connector.service.byoc import SalesforcePorts
from connector.service.hubspot_subscriptions import wanted_subscriptions
from connector.service.salesforce_events import work_result
from connector.service.sources import link_source
from connector.store.models import (
    ConversationRow,
    DecisionRow,
    InboxEventRow,
    ObjectRow,
    SlaClockRow,
)
from connector.store.reads import detached

from . import test_hubspot_processing as hubspot
from .helpers import make_router, make_user
from .test_byoc_processing import FakeConversations
from .test_hubspot_processing import event, run
from .test_salesforce_integrity import ORG, FakeWriter, drain

PORTAL = hubspot.PORTAL
crm = hubspot.crm  # the HubSpot processing tests' fake CRM, connected to PORTAL


def _monitor(container, account_id: str, router_id: str, condition: str = "first_touch",
             duration: str = "PT1H") -> str:
    return sla.create_monitor(container.db, account_id, {
        "name": condition, "router_id": router_id, "condition": condition,
        "duration": duration, "clock": "wall", "reminders": [], "stages": [],
        "manager_emails": [], "active": True}).id


def _clock(container, object_id: str, monitor_id: str | None = None) -> SlaClockRow:
    with detached(container.db) as session:
        query = select(SlaClockRow).where(SlaClockRow.object_id == object_id)
        if monitor_id:
            query = query.where(SlaClockRow.monitor_id == monitor_id)
        return session.scalars(query).one()


def _mirrored(container, account_id: str, source: str, object_type: str,
              source_id: str) -> str:
    with container.db.session() as session:
        row = ObjectRow(account_id=account_id, object_type=object_type, source=source,
                        source_id=source_id, fields={})
        session.add(row)
        session.flush()
        return row.id


# -- HubSpot ---------------------------------------------------------------------------

def _millis(at: datetime) -> str:
    return str(int(at.timestamp() * 1000))


def test_hubspot_last_contacted_is_a_first_touch(container, client, headers, crm,
                                                 account_id):
    reps = [make_user(client, headers, "ana@example.com")]
    crm.owners["ana@example.com"] = "900"
    router = make_router(client, headers, reps)
    touch = _monitor(container, account_id, router)
    meeting = _monitor(container, account_id, router, "meeting_booked")
    status = _monitor(container, account_id, router, "status_changed")
    crm.records["1"] = {"email": "a@x.org"}
    run(container, event("creation", 1))  # routed through dispatch_many: clocks start
    object_id = _mirror_id(container, "1")
    assert _clock(container, object_id, touch).state == "running"
    later = datetime.now(UTC) + timedelta(minutes=1)
    # the contact's own engagement is not a rep's touch
    run(container, event("propertyChange", 1, property_name="hs_last_sales_activity_timestamp",
                         property_value=_millis(later)))
    assert _clock(container, object_id, touch).state == "running"
    run(container, event("propertyChange", 1, property_name="notes_last_contacted",
                         property_value=_millis(later)))
    met = _clock(container, object_id, touch)
    assert met.state == "met" and met.stopped_by["source"] == "hubspot"
    assert met.stopped_by["detail"]["property"] == "notes_last_contacted"
    assert met.stopped_at == later.replace(microsecond=later.microsecond // 1000 * 1000)
    assert _clock(container, object_id, meeting).state == "running"
    run(container, event("propertyChange", 1, property_name="engagements_last_meeting_booked",
                         property_value=_millis(later)))
    assert _clock(container, object_id, meeting).state == "met"
    run(container, event("propertyChange", 1, property_name="hs_lead_status",
                         property_value="IN_PROGRESS", occurred_at=int(_millis(later))))
    assert _clock(container, object_id, status).state == "met"


def _mirror_id(container, source_id: str) -> str:
    with detached(container.db) as session:
        return session.scalars(select(ObjectRow.id).where(
            ObjectRow.source_id == source_id)).one()


def test_a_router_with_a_monitor_subscribes_to_the_touch_properties(container, client,
                                                                    headers, account_id):
    router = make_router(client, headers, [make_user(client, headers, "ana@example.com")])
    wanted, _ = wanted_subscriptions(container.db, container.mappings)
    assert ("contact.propertyChange", "notes_last_contacted") not in wanted
    _monitor(container, account_id, router)
    wanted, _ = wanted_subscriptions(container.db, container.mappings)
    assert {("contact.propertyChange", "notes_last_contacted"),
            ("contact.propertyChange", "engagements_last_meeting_booked"),
            ("contact.propertyChange", "hs_lead_status")} <= wanted


# -- Salesforce ------------------------------------------------------------------------

@pytest.fixture
def salesforce_lead(container, client, headers, account_id):
    rep = make_user(client, headers, "ana@example.com")
    router = make_router(client, headers, [rep], object_type="lead")
    monitor = _monitor(container, account_id, router)
    object_id = _mirrored(container, account_id, "salesforce", "lead", "00Q000000000001AAA")
    started = datetime.now(UTC) - timedelta(minutes=5)
    with container.db.session() as session:
        sla.start_clocks(session, account_id, object_id, rep, started, router_id=router)
    return object_id, monitor


def test_a_completed_salesforce_task_is_a_touch_an_open_one_is_not(
        container, account_id, salesforce_lead):
    object_id, _ = salesforce_lead
    task = {"Id": "00T1", "WhoId": "00Q000000000001AAA", "Status": "Not Started",
            "IsClosed": "false"}
    assert sla.salesforce_activity(container.db, account_id, "Task", task) == 0
    done = datetime.now(UTC).replace(microsecond=0)
    task.update(Status="Completed", IsClosed="true",
                CompletedDateTime=done.isoformat().replace("+00:00", "Z"))
    assert sla.salesforce_activity(container.db, account_id, "Task", task) == 1
    clock = _clock(container, object_id)
    assert clock.state == "met" and clock.stopped_at == done
    assert clock.stopped_by["detail"] == {"sobject": "Task", "id": "00T1"}


def test_a_salesforce_event_is_a_meeting(container, account_id, salesforce_lead):
    object_id, _ = salesforce_lead
    event_ = {"Id": "00U1", "WhoId": "00Q000000000001AAA"}
    assert sla.salesforce_activity(container.db, account_id, "Event", event_) == 1
    assert _clock(container, object_id).stopped_by["signal"] == "meeting"


def test_last_activity_date_counts_from_the_clocks_day(container, account_id,
                                                       salesforce_lead):
    object_id, _ = salesforce_lead
    lead = {"Id": "00Q000000000001AAA", "LastActivityDate": "2020-01-01"}
    assert sla.salesforce_last_activity(container.db, account_id, "lead", lead) == 0
    lead["LastActivityDate"] = datetime.now(UTC).date().isoformat()
    assert sla.salesforce_last_activity(container.db, account_id, "lead", lead) == 1
    assert _clock(container, object_id).stopped_by["detail"]["field"] == "LastActivityDate"


# -- BYOC ------------------------------------------------------------------------------

def test_an_accepted_byoc_work_is_a_first_touch(container, client, headers, account_id):
    rep = make_user(client, headers, "ana@example.com")
    router = make_router(client, headers, [rep], object_type="conversation")
    _monitor(container, account_id, router)
    object_id = _mirrored(container, account_id, "salesforce", "conversation", "conv-1")
    with container.db.session() as session:
        session.add(ConversationRow(account_id=account_id, conversation_identifier="conv-1",
                                    object_id=object_id, router_id=router, rep_id=rep,
                                    state="assigned", destination={"kind": "rep"},
                                    agent_work_id="0Bz1"))
        sla.start_clocks(session, account_id, object_id, rep,
                         datetime.now(UTC) - timedelta(minutes=1), router_id=router)
    work_result(container, None, account_id, "conv-1",
                {"workType": "Accepted", "workId": "0Bz1"})
    clock = _clock(container, object_id)
    assert clock.state == "met" and clock.stopped_by["source"] == "salesforce-byoc"


def test_a_hubspot_record_reassigned_by_a_stage_is_written_back(container, client, headers,
                                                                crm, account_id):
    reps = [make_user(client, headers, f"{n}@example.com") for n in ("ana", "ben")]
    crm.owners.update({"ana@example.com": "900", "ben@example.com": "901"})
    router = make_router(client, headers, reps)
    sla.create_monitor(container.db, account_id, {
        "name": "m", "router_id": router, "condition": "first_touch", "duration": "PT5M",
        "clock": "wall", "reminders": [], "manager_emails": [], "active": True,
        "stages": [{"after": "PT0S", "notify": ["owner"], "reassign": True}]})
    crm.records["7"] = {"email": "a@x.org"}
    run(container, event("creation", 7))
    assert crm.written == [("contact", "7", "900")]
    sent: list[dict] = []
    result = sla.scan(container.db, datetime.now(UTC) + timedelta(minutes=6),
                      notify=lambda session, **kw: sent.append(kw),
                      sync=container.owner_sync)
    assert result.reassigned == 1
    assert crm.written == [("contact", "7", "900"), ("contact", "7", "901")]
    assert sent[0]["payload"]["record_url"] == \
        f"https://app.hubspot.com/contacts/{PORTAL}/record/0-1/7"


def test_a_task_outbound_message_stops_the_clock_of_a_routed_lead(container, client,
                                                                  headers, account_id):
    """Through the inbox: a Lead routed from an Outbound Message starts the clock; a
    completed Task on it, from the Task's own Outbound Message, stops it."""
    reps = [make_user(client, headers, "ana@example.com", crm_ids={"salesforce": "005ana"})]
    router = make_router(client, headers, reps, object_type="lead")
    _monitor(container, account_id, router)
    container.extras["salesforce_ports"] = SalesforcePorts(
        writer=FakeWriter(), conversations=FakeConversations(), account_id=account_id)
    link_source(container.db, account_id, "salesforce", ORG)

    def outbound(n: int, sobject: str, record: dict) -> None:
        inbox.store_events(container.db, [inbox.NewEvent(
            "salesforce", ORG, f"outbound:{n}", "salesforce",
            {"eventType": "OutboundMessage", "sobject": sobject, "record": record,
             "received_at": time.time()})])
        drain(container)

    outbound(1, "Lead", {"Id": "00Q000000000009AAA", "Email": "a@x.org"})
    object_id = _mirror_id(container, "00Q000000000009AAA")
    assert _clock(container, object_id).state == "running"
    done = (datetime.now(UTC) + timedelta(seconds=1)).replace(microsecond=0)
    outbound(2, "Task", {"Id": "00T9", "WhoId": "00Q000000000009AAA", "IsClosed": "true",
                         "CompletedDateTime": done.isoformat().replace("+00:00", "Z")})
    clock = _clock(container, object_id)
    assert clock.state == "met" and clock.stopped_by["source"] == "salesforce"


class RefusingWriter(FakeWriter):
    """Salesforce refusing the next ``refuse`` writes, as a validation rule does."""

    def __init__(self) -> None:
        super().__init__()
        self.refuse = 0

    def write_owners(self, writes):
        if self.refuse:
            self.refuse -= 1
            return [WriteResult(w.record_id, False, "FIELD_CUSTOM_VALIDATION_EXCEPTION: "
                                "Owner is locked") for w in writes]
        return super().write_owners(writes)


def _stage_reassigned_salesforce_lead(container, client, headers, account_id, writer, *,
                                      refuse: int = 0, scan: bool = True):
    reps = [make_user(client, headers, f"{n}@example.com",
                      crm_ids={"salesforce": f"005{n}"}) for n in ("ana", "ben")]
    router = make_router(client, headers, reps, object_type="lead")
    sla.create_monitor(container.db, account_id, {
        "name": "m", "router_id": router, "condition": "first_touch", "duration": "PT5M",
        "clock": "wall", "reminders": [], "manager_emails": [], "active": True,
        "stages": [{"after": "PT0S", "notify": ["owner"], "reassign": True}]})
    container.extras["salesforce_ports"] = SalesforcePorts(
        writer=writer, conversations=FakeConversations(), account_id=account_id)
    link_source(container.db, account_id, "salesforce", ORG)
    inbox.store_events(container.db, [inbox.NewEvent(
        "salesforce", ORG, "outbound:1", "salesforce",
        {"eventType": "OutboundMessage", "sobject": "Lead",
         "record": {"Id": "00Q000000000007AAA", "Email": "a@x.org"},
         "received_at": time.time()})])
    drain(container)
    assert writer.written == [("Lead", "00Q000000000007AAA", "005ana")]
    container.extras["now"] = lambda: datetime.now(UTC) + timedelta(minutes=6)
    container.extras["notify"] = lambda session, **kw: None
    writer.refuse = refuse
    if scan:  # the stage, with no further Outbound Message
        assert sla.scan_now(container) == 1


def test_a_salesforce_record_reassigned_by_a_stage_is_written_at_once(container, client,
                                                                      headers, account_id):
    writer = RefusingWriter()
    _stage_reassigned_salesforce_lead(container, client, headers, account_id, writer)
    assert writer.written[-1] == ("Lead", "00Q000000000007AAA", "005ben")
    clock = _clock(container, _mirror_id(container, "00Q000000000007AAA"))
    with detached(container.db) as session:
        decision = session.get(DecisionRow, clock.decision_id)
    assert (decision.sync_status, decision.sync_error) == ("synced", None)


def test_a_refused_salesforce_reassignment_is_failed_and_retried(container, client,
                                                                 headers, account_id):
    writer = RefusingWriter()  # the reassignment's write and its first retry are refused
    _stage_reassigned_salesforce_lead(container, client, headers, account_id, writer, refuse=2)
    clock = _clock(container, _mirror_id(container, "00Q000000000007AAA"))

    def decision() -> DecisionRow:
        with detached(container.db) as session:
            return session.get(DecisionRow, clock.decision_id)

    def retry() -> InboxEventRow:
        with detached(container.db) as session:
            return session.scalars(select(InboxEventRow).where(
                InboxEventRow.kind == "salesforce_owner")).one()

    assert writer.written[-1][2] == "005ana"
    assert decision().sync_status == "failed"
    assert decision().sync_error.startswith("FIELD_CUSTOM_VALIDATION_EXCEPTION")
    queued = retry()
    assert (queued.status, queued.attempts) == ("failed", 1)  # to retry
    assert queued.next_attempt_at > datetime.now(UTC)  # the schedule's first step
    drain(container)
    assert writer.written[-1][2] == "005ana"  # not due yet

    def due() -> None:  # the schedule's wait has passed
        with container.db.session() as session:
            session.execute(update(InboxEventRow).where(
                InboxEventRow.kind == "salesforce_owner").values(
                next_attempt_at=datetime.now(UTC) - timedelta(seconds=1)))

    due()
    drain(container)
    assert writer.written[-1][2] == "005ana" and decision().sync_status == "failed"
    assert retry().attempts == 2
    due()
    drain(container)
    assert writer.written[-1] == ("Lead", "00Q000000000007AAA", "005ben")
    assert (decision().sync_status, retry().status) == ("synced", "done")


def test_a_stage_run_from_the_console_writes_salesforce_and_a_stale_retry_is_dropped(
        container, client, headers, account_id):
    """``run_next_stage`` (the console's Reassign) writes at once too; a refused write's
    retry is dropped, unwritten, once the record has another owner."""
    writer = RefusingWriter()
    _stage_reassigned_salesforce_lead(container, client, headers, account_id, writer, refuse=1)
    object_id = _mirror_id(container, "00Q000000000007AAA")
    first = _clock(container, object_id)
    assert writer.written[-1][2] == "005ana"  # the stage's write to ben was refused
    again = sla.create_monitor(container.db, account_id, {
        "name": "again", "router_id": first.router_id, "condition": "first_touch",
        "duration": "PT5M", "clock": "wall", "reminders": [], "manager_emails": [],
        "active": True, "stages": [{"after": "PT1H", "notify": [], "reassign": True}]}).id
    with container.db.session() as session:  # a clock of the new monitor for ben's record
        sla.start_clocks(session, account_id, object_id, first.rep_id, datetime.now(UTC),
                         router_id=first.router_id)
    second = _clock(container, object_id, again)
    what = sla.run_next_stage(container.db, account_id, second.id, datetime.now(UTC),
                              notify=lambda session, **kw: None,
                              salesforce=sla.salesforce_writer(container))
    assert what == "reassigned to ana@example.com"
    assert writer.written[-1] == ("Lead", "00Q000000000007AAA", "005ana")
    before = len(writer.written)
    with container.db.session() as session:
        session.execute(update(InboxEventRow).where(
            InboxEventRow.kind == "salesforce_owner").values(
            next_attempt_at=datetime.now(UTC) - timedelta(seconds=1)))
    drain(container)
    assert len(writer.written) == before  # ben's write is not retried over ana
    with detached(container.db) as session:
        retry = session.scalars(select(InboxEventRow).where(
            InboxEventRow.kind == "salesforce_owner")).one()
    assert retry.status == "done"


def test_without_salesforce_write_back_the_reassignment_fails_and_queues_nothing(
        container, client, headers, account_id):
    writer = RefusingWriter()
    _stage_reassigned_salesforce_lead(container, client, headers, account_id, writer,
                                      scan=False)
    container.extras["salesforce_ports"].writer = None  # the org's JWT settings are gone
    assert sla.scan_now(container) == 1
    clock = _clock(container, _mirror_id(container, "00Q000000000007AAA"))
    with detached(container.db) as session:
        decision = session.get(DecisionRow, clock.decision_id)
        queued = session.scalars(select(InboxEventRow).where(
            InboxEventRow.kind == "salesforce_owner")).all()
    assert decision.sync_status == "failed" and "SALESFORCE_CLIENT_ID" in decision.sync_error
    assert queued == []
