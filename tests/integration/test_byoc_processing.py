"""Processing of stored BYOC events with hand-written fake ports and the inline executor:
idempotent retries, the transfer deadline, bad channelData, unknown account."""

from __future__ import annotations

import json
import time

import pytest

from adapters.salesforce.fake_senders import ByocEventSender
from connector.core.errors import PermanentCrmError, TransientCrmError
from connector.core.ports import RouteAccepted
from connector.jobs import inbox
from connector.jobs.inbox import NewEvent
from connector.service.byoc import SalesforcePorts
from connector.service.sources import register_configured_org
from tests.integration.helpers import make_router, make_user

events = ByocEventSender("http://unused", "secret")


class FakeConversations:
    """Records calls; ``fail_next`` holds errors to raise on the next route calls."""

    def __init__(self) -> None:
        self.routes: list = []
        self.works: list = []
        self.results: list = []
        self.fail_next: list[Exception] = []

    def route(self, request):
        self.routes.append(request)
        if self.fail_next:
            raise self.fail_next.pop(0)
        n = len(self.routes)
        return RouteAccepted(f"0JR{n:012d}", f"0Mw{n:012d}", f"corr-{n}")

    def assign_agent_work(self, *, user_id, work_item_id, routing_context, request_id,
                          deadline_at=None):
        self.works.append((user_id, work_item_id, dict(routing_context), request_id))
        return f"0Bz{len(self.works):012d}"

    def cancel_route(self, *, conversation_identifier, cancel_reason, request_id):
        return True

    def send_routing_result(self, **kw):
        self.results.append(kw)
        return True


@pytest.fixture
def conversations(container, account_id):
    fake = FakeConversations()
    container.extras["salesforce_ports"] = SalesforcePorts(conversations=fake,
                                                           account_id=account_id)
    return fake


def _rep_router(client, headers, *names):
    """A conversation router whose destination is a rep, over reps with Salesforce ids."""
    reps = [make_user(client, headers, f"{name}@example.com",
                      crm_ids={"salesforce": f"005{name}"}) for name in names]
    make_router(client, headers, reps, object_type="conversation",
                destination={"kind": "rep"})
    return reps


def store(container, event, received_at=None):
    """What ``POST /webhooks/salesforce`` does: link the configured org, store the event."""
    ports = container.extras["salesforce_ports"]
    register_configured_org(container.db, "org", ports.account_id)
    inbox.store_events(container.db, [NewEvent(
        "salesforce", "org", f"byoc:{event['eventId']}", "salesforce",
        {"eventType": event["eventType"], "data": event["data"],
         "received_at": received_at or time.time()})])


def drain(container):
    from connector.jobs.executors import InlineExecutor

    InlineExecutor(container, container.extras["handlers"]).drain()


def test_a_failed_route_call_is_retried_with_the_same_decision_and_request_id(
        container, client, headers, conversations):
    rep = make_user(client, headers, "ana@example.com", crm_ids={"salesforce": "005x"})
    make_router(client, headers, [rep], object_type="conversation",
                destination={"kind": "channel"})
    conversations.fail_next = [TransientCrmError("Interaction Service down")]
    store(container, events.conversation_started("conv-1"))

    drain(container)
    assert inbox.counts(container.db) == {"failed": 1}
    inbox.replay(container.db, all_failed=True)
    drain(container)

    first, second = conversations.routes
    assert first.request_id == second.request_id
    resp = client.get("/conversations/conv-1", headers=headers)
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["state"] == "pending" and body["route_calls"] == 1
    assert body["decision"]["sync_status"] == "synced"
    assert len(client.get("/decisions", headers=headers).get_json()["results"]) == 1


def test_a_repeated_start_event_does_not_route_twice(container, client, headers,
                                                     conversations):
    rep = make_user(client, headers, "ana@example.com")
    make_router(client, headers, [rep], object_type="conversation")
    store(container, events.conversation_started("conv-2", event_id="a"))
    store(container, events.conversation_started("conv-2", event_id="b"))

    drain(container)

    assert len(conversations.routes) == 1


def test_a_transfer_past_the_60_second_deadline_is_not_sent(container, client, headers,
                                                             conversations):
    store(container, events.routing_requested("conv-3"), received_at=time.time() - 61)

    drain(container)

    assert conversations.routes == []
    body = client.get("/conversations/conv-3", headers=headers).get_json()
    assert body["state"] == "failed" and "60-second transfer deadline" in body["error"]


def test_a_transfer_carries_its_deadline_to_the_client(container, client, headers,
                                                       conversations):
    received = time.time()
    store(container, events.routing_requested("conv-4", queue_id="00G000000000001"),
          received_at=received)

    drain(container)

    (request,) = conversations.routes
    assert request.routing_type == "Transfer" and request.queue_id == "00G000000000001"
    assert request.deadline_at == pytest.approx(received + 60)


def test_channel_data_is_read_as_json_for_the_routing_context(container, client, headers,
                                                             conversations):
    event = events.routing_requested("conv-5", user_id="005000000000009")
    event["data"]["payload"]["routingParameters"]["channelData"] = json.dumps(
        {"conversationIdentifier": "conv-5", "routingType": "Transfer",
         "routingCorrelationId": "c-1"})

    store(container, event)
    drain(container)

    (work,) = conversations.works
    assert work[0] == "005000000000009" and work[2]["routingType"] == "Transfer"


def test_a_refused_route_is_recorded_not_retried(container, client, headers, conversations):
    rep = make_user(client, headers, "ana@example.com")
    make_router(client, headers, [rep], object_type="conversation")
    conversations.fail_next = [PermanentCrmError("bad queue", status=400, code="10032")]
    store(container, events.conversation_started("conv-6"))

    drain(container)

    assert inbox.counts(container.db) == {"done": 1}
    body = client.get("/conversations/conv-6", headers=headers).get_json()
    assert (body["state"], body["error_code"]) == ("failed", "10032")
    assert body["decision"]["sync_status"] == "failed"


def test_events_of_an_org_no_account_owns_are_dead_letters(container, account_id,
                                                            make_account, conversations):
    make_account("Second")  # two accounts, none configured: the org is nobody's
    container.extras["salesforce_ports"].account_id = None
    store(container, events.conversation_started("conv-7"))

    drain(container)

    with container.db.session() as session:
        from connector.store.models import InboxEventRow

        (row,) = session.query(InboxEventRow).all()
        assert row.status == "dead"
        assert row.last_error == "Salesforce org org is not connected to an account"
    assert conversations.routes == []

    from connector.service.sources import link_source

    link_source(container.db, account_id, "salesforce", "org")
    assert inbox.replay(container.db, all_failed=True) == 1
    drain(container)
    assert inbox.counts(container.db) == {"done": 1} and len(conversations.routes) == 1


def test_unknown_conversation_results_are_ignored(container, conversations):
    store(container, events.work_result("nobody", "Accepted"))
    store(container, events.routing_result("nobody", "RoutingError"))

    drain(container)

    assert inbox.counts(container.db) == {"done": 2}


class FlakyWork(FakeConversations):
    def __init__(self) -> None:
        super().__init__()
        self.work_failures = 1

    def assign_agent_work(self, **kw):
        if self.work_failures:
            self.work_failures -= 1
            raise TransientCrmError("agentWork timed out")
        return super().assign_agent_work(**kw)


def test_a_failed_offer_is_retried_without_routing_again(container, client, headers,
                                                         account_id):
    fake = FlakyWork()
    container.extras["salesforce_ports"] = SalesforcePorts(conversations=fake,
                                                           account_id=account_id)
    rep = make_user(client, headers, "ana@example.com", crm_ids={"salesforce": "005x"})
    make_router(client, headers, [rep], object_type="conversation",
                destination={"kind": "rep"})
    store(container, events.conversation_started("conv-8"))

    drain(container)
    assert inbox.counts(container.db) == {"failed": 1}
    inbox.replay(container.db, all_failed=True)
    drain(container)

    assert len(fake.routes) == 1 and len(fake.works) == 1
    assert client.get("/conversations/conv-8", headers=headers).get_json()["state"] == "offered"


def test_a_transfer_to_a_named_rep_is_agent_work_then_routing_result_without_a_route(
        container, client, headers, conversations):
    store(container, events.routing_requested("conv-9", user_id="005000000000009",
                                              work_record_id="0Mw000000000009AAA",
                                              routing_correlation_id="corr-transfer"))

    drain(container)

    assert conversations.routes == []
    ((user, work_item, context, _rid),) = conversations.works
    assert (user, work_item) == ("005000000000009", "0Mw000000000009")
    # the transfer's own routing context: the event's channelData
    assert context["routingType"] == "Transfer"
    assert context["routingCorrelationId"] == "corr-transfer"
    (result,) = conversations.results
    assert result["success"] is True and result["externally_routed"] is False
    assert result["work_item_id"] == "0Mw000000000009"
    assert result["routing_type"] == "Transfer"


def test_a_failed_transfer_offer_is_answered_with_a_failed_routing_result(
        container, client, headers, account_id):
    fake = FlakyWork()
    container.extras["salesforce_ports"] = SalesforcePorts(conversations=fake,
                                                           account_id=account_id)
    store(container, events.routing_requested("conv-9b", user_id="005000000000009"))

    drain(container)

    assert fake.routes == [] and inbox.counts(container.db) == {"done": 1}
    (result,) = fake.results
    assert result["success"] is False and "agentWork timed out" in result["error_message"]
    assert _state(client, headers, "conv-9b")["state"] == "failed"


def test_a_transfer_close_to_its_deadline_sends_the_result_before_agent_work(
        container, client, headers, conversations):
    calls: list = []
    conversations.send_routing_result = lambda **kw: calls.append("routingResult") or True
    work = conversations.assign_agent_work
    conversations.assign_agent_work = lambda **kw: calls.append("agentWork") or work(**kw)
    store(container, events.routing_requested("conv-late", user_id="005000000000009"),
          received_at=time.time() - 40)

    drain(container)

    assert calls == ["routingResult", "agentWork"]


def test_a_transfer_to_someone_outside_salesforce_is_answered_externally_routed(
        container, client, headers, conversations):
    store(container, events.routing_requested("conv-ext", user_id="ext-contact-7"))

    drain(container)

    assert conversations.routes == [] and conversations.works == []
    (result,) = conversations.results
    assert (result["success"], result["externally_routed"]) == (False, True)
    assert "external contacts" in result["error_message"]


@pytest.mark.parametrize("params,expected", [
    ({"queueId": "00G000000000001"}, {"kind": "queue", "queue_id": "00G000000000001"}),
    ({"flowId": "300000000000001", "queueId": "00G000000000001"},
     {"kind": "flow", "flow_id": "300000000000001", "fallback_queue_id": "00G000000000001"}),
    ({"userId": "005000000000001", "queueId": "00G000000000001"},
     {"kind": "user", "user_id": "005000000000001"}),
    ({"userId": "partner-42"}, {"kind": "external", "contact_id": "partner-42"}),
    ({"externalContactId": "x-1"}, {"kind": "external", "contact_id": "x-1"}),
    ({"isTransfer": True}, None)])
def test_each_transfer_target_is_read_from_the_routing_parameters(params, expected):
    from connector.service.salesforce_events import transfer_target

    assert transfer_target(params) == expected


class Sweepable(FakeConversations):
    def __init__(self, fail_with=None) -> None:
        super().__init__()
        self.cancelled: list = []
        self.fail_with = fail_with

    def cancel_route(self, *, conversation_identifier, cancel_reason, request_id):
        self.cancelled.append((conversation_identifier, cancel_reason, request_id))
        if self.fail_with:
            raise self.fail_with
        return True


@pytest.mark.parametrize("error", [None, TransientCrmError("SCRT down")])
def test_the_sweep_deletes_only_its_own_offers_left_unanswered_too_long(
        container, client, headers, account_id, error):
    from datetime import UTC, datetime, timedelta

    from connector.service.byoc import sweep_stale

    fake = Sweepable(error)
    ports = SalesforcePorts(conversations=fake, account_id=account_id,
                            pending_timeout_seconds=120)
    container.extras["salesforce_ports"] = ports
    _rep_router(client, headers, "ana")
    store(container, events.conversation_started("old"))
    store(container, events.conversation_started("accepted"))
    drain(container)
    work = _state(client, headers, "accepted")["agent_work_id"]
    store(container, events.work_result("accepted", "Accepted", work_id=work))
    drain(container)

    assert sweep_stale(container.db, ports, now=datetime.now(UTC) + timedelta(seconds=60)) == 0
    swept = sweep_stale(container.db, ports, now=datetime.now(UTC) + timedelta(seconds=121))

    assert [c[:2] for c in fake.cancelled] == [("old", "Unavailable")]
    body = _state(client, headers, "old")
    if error is None:
        # nobody else to offer it to: the channel's own routing takes it, never dropped
        assert swept == 1 and body["state"] == "pending"
        assert body["destination"] == {"kind": "channel"} and len(fake.routes) == 3
        assert fake.routes[-1].queue_id is None and fake.routes[-1].flow_id is None
        deleted = [o for o in body["offers"] if o["kind"] == "delete"]
        assert len(deleted) == 1 and "no answer to the offer within 120 s" in \
            deleted[0]["reason"]
        assert [o["outcome"] for o in body["offers"] if o["kind"] == "offer"] == ["expired"]
        assert sweep_stale(container.db, ports,
                           now=datetime.now(UTC) + timedelta(days=3)) == 0
    else:
        assert swept == 0 and body["state"] == "offered" and "SCRT down" in body["error"]
        assert [o["kind"] for o in body["offers"]] == ["offer"]


@pytest.mark.parametrize("destination", [{"kind": "queue", "queue_id": "00G000000000001"},
                                         {"kind": "channel"},
                                         {"kind": "flow", "flow_id": "300000000000001",
                                          "fallback_queue_id": "00G000000000001"}])
def test_a_customer_waiting_in_salesforces_routing_is_never_deleted(
        container, client, headers, account_id, destination):
    from datetime import UTC, datetime, timedelta

    from connector.service.byoc import sweep_stale

    fake, ports = _sweepable_ports(container, account_id)
    rep = make_user(client, headers, "ana@example.com")
    make_router(client, headers, [rep], object_type="conversation", destination=destination)
    store(container, events.conversation_started("waiting"))
    drain(container)

    for days in (1, 30):
        assert sweep_stale(container.db, ports,
                           now=datetime.now(UTC) + timedelta(days=days)) == 0
    assert fake.cancelled == [] and _state(client, headers, "waiting")["state"] == "pending"


def test_a_swept_offer_goes_to_the_next_eligible_rep(container, client, headers,
                                                     account_id):
    from datetime import UTC, datetime, timedelta

    from connector.service.byoc import sweep_stale

    fake, ports = _sweepable_ports(container, account_id)
    _rep_router(client, headers, "ana", "bob")
    store(container, events.conversation_started("next"))
    drain(container)
    first = _state(client, headers, "next")["salesforce_user_id"]

    assert sweep_stale(container.db, ports,
                       now=datetime.now(UTC) + timedelta(seconds=121)) == 1

    body = _state(client, headers, "next")
    assert body["state"] == "offered" and body["salesforce_user_id"] != first
    assert [w[0] for w in fake.works] == [first, body["salesforce_user_id"]]
    assert len(fake.routes) == 2  # the deleted routing is opened again for the next rep


def test_dispatch_can_leave_out_reps_who_declined(container, client, headers, account_id):
    from connector.service.dispatch import dispatch
    from connector.store.models import ObjectRow

    ana = make_user(client, headers, "ana@example.com")
    bob = make_user(client, headers, "bob@example.com")
    router = make_router(client, headers, [ana, bob], object_type="conversation")
    with container.db.session() as session:
        obj = ObjectRow(account_id=account_id, object_type="conversation", fields={},
                        source="salesforce", source_id="c-1")
        session.add(obj)
        session.flush()
        object_id = obj.id

    result = dispatch(container.db, account_id, router, object_id, exclude_rep_ids=[ana])

    assert result.decision.rep.id == bob
    skipped = result.decision.explain()["skipped"]
    assert [(s["rep_id"], s["reason"]) for s in skipped] == [(ana, "unavailable")]


def _sweepable_ports(container, account_id):
    """A recording Interaction Service whose stale PSRs time out after 120 s."""
    fake = Sweepable()
    ports = SalesforcePorts(conversations=fake, account_id=account_id,
                            pending_timeout_seconds=120)
    container.extras["salesforce_ports"] = ports
    return fake, ports


def _state(client, headers, identifier):
    return client.get(f"/conversations/{identifier}", headers=headers).get_json()


def test_a_late_assigned_does_not_take_an_accepted_conversation_back(
        container, client, headers, account_id):
    from datetime import UTC, datetime, timedelta

    from connector.service.byoc import sweep_stale

    fake, ports = _sweepable_ports(container, account_id)
    rep = make_user(client, headers, "ana@example.com")
    make_router(client, headers, [rep], object_type="conversation",
                destination={"kind": "queue", "queue_id": "00G000000000001"})
    store(container, events.conversation_started("late"))
    drain(container)
    store(container, events.work_result("late", "Accepted", work_id="0Bz000000000007"))
    store(container, events.work_result("late", "Assigned", work_id="0Bz000000000007"))
    drain(container)

    assert _state(client, headers, "late")["state"] == "accepted"
    assert sweep_stale(container.db, ports,
                       now=datetime.now(UTC) + timedelta(seconds=600)) == 0
    assert fake.cancelled == []

    store(container, events.work_result("late", "Closed", work_id="0Bz000000000007"))
    store(container, events.work_result("late", "Declined", work_id="0Bz000000000007"))
    drain(container)
    assert _state(client, headers, "late")["state"] == "closed"
    assert len(fake.routes) == 1  # the late Declined re-routed nothing


def test_omni_channels_next_offer_after_a_decline_is_followed(container, client, headers,
                                                               conversations):
    rep = make_user(client, headers, "ana@example.com")
    make_router(client, headers, [rep], object_type="conversation",
                destination={"kind": "queue", "queue_id": "00G000000000001"})
    store(container, events.conversation_started("omni"))
    drain(container)
    for work_type, work_id in (("Assigned", "0Bz000000000001"), ("Declined", "0Bz000000000001"),
                               ("Assigned", "0Bz000000000002"),
                               ("Assigned", "0Bz000000000001")):  # a late copy
        store(container, events.work_result("omni", work_type, work_id=work_id))
    drain(container)

    body = _state(client, headers, "omni")
    assert (body["state"], body["agent_work_id"]) == ("assigned", "0Bz000000000002")
    assert len(conversations.routes) == 1  # Omni-Channel re-offers queue work itself


def test_a_declined_rep_offer_is_re_offered_and_its_late_results_ignored(
        container, client, headers, conversations):
    _rep_router(client, headers, "ana", "bob")
    store(container, events.conversation_started("reoffer"))
    drain(container)
    first = _state(client, headers, "reoffer")["agent_work_id"]
    store(container, events.work_result("reoffer", "Declined", work_id=first))
    drain(container)
    second = _state(client, headers, "reoffer")["agent_work_id"]
    assert second != first and len(conversations.works) == 2

    store(container, events.work_result("reoffer", "Assigned", work_id=second))
    drain(container)
    assert _state(client, headers, "reoffer")["state"] == "assigned"
    store(container, events.work_result("reoffer", "Accepted", work_id=second))
    store(container, events.work_result("reoffer", "Assigned", work_id=first))  # late
    store(container, events.work_result("reoffer", "Declined", work_id=first))  # repeated
    drain(container)

    body = _state(client, headers, "reoffer")
    assert (body["state"], body["agent_work_id"]) == ("accepted", second)
    assert len(conversations.works) == 2 and len(conversations.routes) == 1


def test_the_pending_timeout_runs_from_the_latest_offer(container, client, headers,
                                                        account_id):
    from datetime import UTC, datetime, timedelta

    from connector.service.byoc import sweep_stale
    from connector.store.models import ConversationRow

    fake, ports = _sweepable_ports(container, account_id)
    _rep_router(client, headers, "ana", "bob")
    store(container, events.conversation_started("slow"))
    drain(container)
    with container.db.session() as session:  # the first offer went out 100 s ago
        conv = session.query(ConversationRow).one()
        conv.offer_open_at = conv.offer_open_at - timedelta(seconds=100)
        first = conv.agent_work_id
    store(container, events.work_result("slow", "Declined", work_id=first))
    drain(container)
    assert _state(client, headers, "slow")["state"] == "offered"

    now = datetime.now(UTC)
    assert sweep_stale(container.db, ports, now=now + timedelta(seconds=60)) == 0
    assert fake.cancelled == []
    assert sweep_stale(container.db, ports, now=now + timedelta(seconds=121)) == 1


def test_a_conference_request_is_routed_as_a_conference(container, client, headers,
                                                        conversations):
    store(container, events.routing_requested("conf", queue_id="00G000000000001",
                                              routing_type="Conference"))

    drain(container)

    (request,) = conversations.routes
    assert (request.routing_type, request.queue_id) == ("Conference", "00G000000000001")
    assert _state(client, headers, "conf")["routing_type"] == "Conference"


def test_a_routing_type_the_route_api_does_not_take_is_a_dead_letter(container,
                                                                     conversations):
    from connector.store.models import InboxEventRow

    store(container, events.routing_requested("odd", queue_id="00G000000000001",
                                              routing_type="Consult"))

    drain(container)

    assert conversations.routes == []
    with container.db.session() as session:
        (row,) = session.query(InboxEventRow).all()
        assert row.status == "dead"
        assert "'Consult'" in row.last_error and "Initial, Transfer, Conference" in \
            row.last_error


def test_the_accepted_routing_types_are_the_specs_enum():
    from connector.service.salesforce_events import ROUTE_ROUTING_TYPES
    from tests.support.salesforce_spec import inbound_spec

    enum = inbound_spec()["components"]["schemas"]["RoutingType"]["enum"]
    assert tuple(enum) == ROUTE_ROUTING_TYPES


class RacingSweeper(Sweepable):
    """While the first DELETE is under way, another process's sweeper runs."""

    def __init__(self, container, ports_box) -> None:
        super().__init__()
        self.container, self.ports_box = container, ports_box
        self.nested: list[int] = []

    def cancel_route(self, *, conversation_identifier, cancel_reason, request_id):
        from datetime import UTC, datetime, timedelta

        from connector.service.byoc import sweep_stale

        super().cancel_route(conversation_identifier=conversation_identifier,
                             cancel_reason=cancel_reason, request_id=request_id)
        if len(self.cancelled) == 1:
            self.nested.append(sweep_stale(self.container.db, self.ports_box[0],
                                           now=datetime.now(UTC) + timedelta(seconds=121)))
        return True


def test_two_sweepers_never_delete_the_same_routing(container, client, headers, account_id):
    from datetime import UTC, datetime, timedelta

    from connector.service.byoc import sweep_stale

    box: list = []
    fake = RacingSweeper(container, box)
    ports = SalesforcePorts(conversations=fake, account_id=account_id,
                            pending_timeout_seconds=120)
    box.append(ports)
    container.extras["salesforce_ports"] = ports
    _rep_router(client, headers, "ana")
    store(container, events.conversation_started("raced"))
    drain(container)

    swept = sweep_stale(container.db, ports, now=datetime.now(UTC) + timedelta(seconds=121))

    assert [c[0] for c in fake.cancelled] == ["raced"]
    assert (swept, fake.nested) == (1, [0])
    offers = _state(client, headers, "raced")["offers"]
    assert [o["kind"] for o in offers] == ["offer", "delete"]


def test_a_conversation_accepted_after_the_sweep_read_it_is_not_deleted(
        container, client, headers, account_id):
    from datetime import UTC, datetime, timedelta

    from connector.service import byoc

    fake, ports = _sweepable_ports(container, account_id)
    _rep_router(client, headers, "ana")
    store(container, events.conversation_started("moved"))
    drain(container)
    claim = byoc.store.claim_stale
    work = _state(client, headers, "moved")["agent_work_id"]

    def accept_then_claim(session, *args):
        store(container, events.work_result("moved", "Accepted", work_id=work))
        drain(container)  # the Accepted lands after the sweep read the row
        return claim(session, *args)

    byoc.store.claim_stale = accept_then_claim
    try:
        swept = byoc.sweep_stale(container.db, ports,
                                 now=datetime.now(UTC) + timedelta(seconds=121))
    finally:
        byoc.store.claim_stale = claim

    assert swept == 0 and fake.cancelled == []
    assert _state(client, headers, "moved")["state"] == "accepted"


def _lost_answer():
    from adapters.salesforce.errors import AmbiguousOutcome

    return AmbiguousOutcome("Interaction Service POST v1/route timed out",
                            code="read-timeout", retryable=False)


def test_a_route_whose_answer_was_lost_is_not_sent_again_once_salesforce_reports_it(
        container, client, headers, conversations):
    rep = make_user(client, headers, "ana@example.com")
    make_router(client, headers, [rep], object_type="conversation")
    conversations.fail_next = [_lost_answer()]
    store(container, events.conversation_started("lost"))
    drain(container)
    assert _state(client, headers, "lost")["state"] == "unconfirmed"
    assert inbox.counts(container.db) == {"failed": 1}

    # Salesforce's own event shows the first route did open a routing
    store(container, events.routing_result("lost", psr_id="0JR000000000077"))
    drain(container)
    inbox.replay(container.db, all_failed=True)
    drain(container)

    assert len(conversations.routes) == 1
    body = _state(client, headers, "lost")
    assert body["state"] == "pending" and body["psr_id"] == "0JR000000000077"


def test_a_route_whose_answer_was_lost_is_sent_again_when_nothing_shows_it_routed(
        container, client, headers, conversations):
    rep = make_user(client, headers, "ana@example.com")
    make_router(client, headers, [rep], object_type="conversation")
    conversations.fail_next = [_lost_answer()]
    store(container, events.conversation_started("lost2"))
    drain(container)

    inbox.replay(container.db, all_failed=True)
    drain(container)

    first, second = conversations.routes
    assert first.request_id == second.request_id
    assert _state(client, headers, "lost2")["state"] == "pending"


class RefusingFirstRep(FakeConversations):
    def __init__(self, error=None) -> None:
        from adapters.salesforce.errors import RepUnavailable

        super().__init__()
        self.error = error or RepUnavailable("The rep's presence status is not associated "
                                             "with the channel", code="15112")

    def assign_agent_work(self, **kw):
        if not self.works:
            self.works.append(("refused", kw["user_id"]))
            raise self.error
        return super().assign_agent_work(**kw)


def test_an_offer_a_rep_cannot_take_goes_to_the_next_eligible_rep(container, client, headers,
                                                                  account_id):
    fake = RefusingFirstRep()
    container.extras["salesforce_ports"] = SalesforcePorts(conversations=fake,
                                                           account_id=account_id)
    _rep_router(client, headers, "ana", "bob")
    store(container, events.conversation_started("busy"))

    drain(container)

    refused, offered = fake.works
    assert refused[1] != offered[0] and len(fake.routes) == 1
    body = _state(client, headers, "busy")
    assert body["state"] == "offered" and body["salesforce_user_id"] == offered[0]


def test_a_failed_conversation_shows_its_next_action_and_can_be_handed_to_a_queue(
        container, client, headers, conversations):
    rep = make_user(client, headers, "ana@example.com")
    make_router(client, headers, [rep], object_type="conversation")
    conversations.fail_next = [PermanentCrmError("refused", code="10032")]
    store(container, events.conversation_started("stuck"))
    drain(container)
    body = _state(client, headers, "stuck")
    assert body["state"] == "failed"
    assert body["next_action"]["request"] == "POST /conversations/stuck/retry"

    bad = client.post("/conversations/stuck/retry", headers=headers, json={"queue_id": "x"})
    assert bad.status_code == 400 and "queue_id" in bad.get_json()["message"]
    resp = client.post("/conversations/stuck/retry", headers=headers,
                       json={"queue_id": "00G000000000042"})
    assert resp.status_code == 202
    drain(container)

    assert conversations.routes[-1].queue_id == "00G000000000042"
    body = _state(client, headers, "stuck")
    assert body["state"] == "pending" and body["next_action"] is None
    again = client.post("/conversations/stuck/retry", headers=headers)
    assert again.status_code == 409


def test_a_refusal_about_the_work_item_is_not_tried_with_other_reps(container, client,
                                                                    headers, account_id):
    fake = RefusingFirstRep(PermanentCrmError("WorkItemId not found", code="15111"))
    container.extras["salesforce_ports"] = SalesforcePorts(conversations=fake,
                                                           account_id=account_id)
    _rep_router(client, headers, "ana", "bob")
    store(container, events.conversation_started("gone"))

    drain(container)

    assert len(fake.works) == 1
    body = _state(client, headers, "gone")
    assert body["state"] == "failed" and body["error_code"] == "15111"
