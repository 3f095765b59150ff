"""BYOC partner-owned routing end to end: signed events over HTTP into the connector,
routing decisions, and the Interaction Service calls the fake Salesforce receives."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

import pytest

from connector.service import byoc
from tests.support.waiting import wait_until as wait_for


def calls(fake, conversation: str) -> list[str]:
    """The Interaction Service calls made for one conversation, in order."""
    names = {("POST", "/api/v1/route"): "route", ("DELETE", "/api/v1/route"): "DELETE route",
             ("POST", "/api/v1/agentWork"): "agentWork",
             ("POST", "/api/v1/routingResult"): "routingResult"}
    works = {w["workItemId"] for w in fake.agent_works
             if w["conversationIdentifier"] == conversation}
    work_item = fake.sessions.get(conversation)
    seen = []
    for r in list(fake.requests):
        name = names.get((r.method, r.path))
        body = r.body if isinstance(r.body, dict) else {}
        if name is None:
            continue
        mine = body.get("conversationIdentifier") == conversation or (
            name == "agentWork" and body.get("workItemId") in works | {work_item})
        if mine:
            seen.append(name)
    return seen


def _route_requests(fake, conversation: str):
    return [r for r in fake.requests_to("POST", "/api/v1/route")
            if isinstance(r.body, dict) and r.body.get("conversationIdentifier") == conversation]


def test_channel_default_destination_routes_initial_without_routing_info(env):
    rep = env.add_rep("ana@example.com")
    env.add_router("conversation", [rep], {"kind": "channel"})

    resp = env.byoc.send([env.byoc.conversation_started("conv-1")])

    assert resp.status_code == 200, resp.text
    conv = env.wait_state("conv-1", "pending")
    (call,) = _route_requests(env.fake, "conv-1")
    assert call.body == {"conversationIdentifier": "conv-1", "routingType": "Initial"}
    assert call.content_type == "json"
    psr = env.fake.psrs["conv-1"]
    assert (conv["psr_id"], conv["work_item_id"], conv["routing_correlation_id"]) == \
        (psr.psr_id, psr.work_item_id, psr.routing_correlation_id)
    decision = env.decision(conv["decision_id"])
    assert decision["assigned"] and decision["sync_status"] == "synced"


def test_flow_destination_sends_flow_fallback_queue_and_routing_attributes(env):
    queue = env.fake.add_queue("Support")
    rep = env.add_rep("ana@example.com")
    env.add_router("conversation", [rep], {
        "kind": "flow", "flow_id": "300000000000001", "fallback_queue": "Support",
        "routing_attributes": {"Language": "language", "Topic": "topic"}})

    env.byoc.send([env.byoc.conversation_started(
        "conv-flow", attributes={"language": "EN", "topic": "Billing"})])

    env.wait_state("conv-flow", "pending")
    (call,) = _route_requests(env.fake, "conv-flow")
    assert call.body == {
        "conversationIdentifier": "conv-flow", "routingType": "Initial",
        "routingInfo": {"flow": {"flowId": "300000000000001", "queueId": queue},
                        "routingAttributes": {"Language": "en", "Topic": "billing"}}}


def test_queue_destination_sends_queue_id(env):
    queue = env.fake.add_queue("Sales")
    rep = env.add_rep("ana@example.com")
    env.add_router("conversation", [rep], {"kind": "queue", "queue_id": queue})

    env.byoc.send([env.byoc.conversation_started("conv-q")])

    conv = env.wait_state("conv-q", "pending")
    (call,) = _route_requests(env.fake, "conv-q")
    assert call.body["routingInfo"] == {"queueId": queue}
    assert conv["destination"] == {"kind": "queue", "queue_id": queue}


def test_rep_destination_routes_then_offers_agent_work_to_the_reps_salesforce_user(env):
    rep = env.add_rep("ana@example.com")
    env.add_router("conversation", [rep], {"kind": "rep"})

    env.byoc.send([env.byoc.conversation_started("conv-rep")])

    conv = env.wait_state("conv-rep", "offered")
    (work,) = env.fake.agent_works
    assert work["userId"] == env.fake.users["ana@example.com"]
    assert work["workItemId"] == conv["work_item_id"]
    assert work["routingContext"] == {"conversationIdentifier": "conv-rep",
                                      "routingType": "Initial",
                                      "routingCorrelationId": conv["routing_correlation_id"]}
    assert conv["salesforce_user_id"] == work["userId"] and conv["rep_id"] == rep


def test_assigned_and_accepted_results_move_the_conversation_state(env):
    rep = env.add_rep("ana@example.com")
    env.add_router("conversation", [rep], {"kind": "rep"})
    env.byoc.send([env.byoc.conversation_started("conv-acc")])
    work = env.wait_state("conv-acc", "offered")["agent_work_id"]

    env.byoc.send([env.byoc.work_result("conv-acc", "Assigned", work_id=work)])
    env.wait_state("conv-acc", "assigned")
    env.byoc.send([env.byoc.work_result("conv-acc", "Accepted", work_id=work)])
    env.wait_state("conv-acc", "accepted")
    env.byoc.send([env.byoc.work_result("conv-acc", "Closed", work_id=work)])
    env.wait_state("conv-acc", "closed")


def test_a_late_assigned_leaves_an_accepted_conversation_accepted_and_unswept(make_env):
    env = make_env(byoc_pending_timeout_seconds=2, byoc_sweep_seconds=1)
    rep = env.add_rep("ana@example.com")
    env.add_router("conversation", [rep], {"kind": "rep"})
    env.byoc.send([env.byoc.conversation_started("conv-late")])
    work = env.wait_state("conv-late", "offered")["agent_work_id"]

    env.byoc.send([env.byoc.work_result("conv-late", "Accepted", work_id=work),
                   env.byoc.work_result("conv-late", "Assigned", work_id=work)])
    env.wait_state("conv-late", "accepted")
    # a sweep a minute later, far past the 2-second pending timeout
    assert byoc.sweep_stale(env.container.db, env.ports,
                            now=datetime.now(UTC) + timedelta(seconds=60)) == 0

    assert env.wait_state("conv-late", "accepted")["state"] == "accepted"
    assert env.fake.deleted_routes == []


@pytest.mark.parametrize("kind,expected", [
    ("channel", ["route"]), ("queue", ["route"]), ("flow", ["route"]),
    ("rep", ["route", "agentWork"])])
def test_each_destination_kind_makes_the_calls_of_partner_owned_routing(env, kind, expected):
    """"Configure Partner-Owned Routing and Consent": route opens the PSR; agentWork only
    when the connector found the rep."""
    queue = env.fake.add_queue("Support")
    rep = env.add_rep("ana@example.com")
    destination = {"channel": {"kind": "channel"}, "queue": {"kind": "queue", "queue_id": queue},
                   "flow": {"kind": "flow", "flow_id": "300000000000001",
                            "fallback_queue_id": queue},
                   "rep": {"kind": "rep"}}[kind]
    env.add_router("conversation", [rep], destination)

    env.byoc.send([env.byoc.conversation_started(f"conv-{kind}")])

    env.wait_state(f"conv-{kind}", "offered" if kind == "rep" else "pending")
    assert calls(env.fake, f"conv-{kind}") == expected


def _started(env, identifier, destination=None):
    rep = env.add_rep(f"ana-{identifier}@example.com")
    env.add_router("conversation", [rep], destination or {"kind": "channel"})
    env.byoc.send([env.byoc.conversation_started(identifier)])
    env.wait_state(identifier, "pending", "offered")
    return rep


def _transfer(env, identifier, **target):
    sent_at = time.time()
    env.byoc.send([env.byoc.routing_requested(
        identifier, work_record_id=env.fake.sessions[identifier],
        routing_correlation_id=env.fake.request_transfer(identifier), **target)])
    (result,) = wait_for(lambda: [r for r in env.fake.routing_results
                                  if r["conversationIdentifier"] == identifier],
                         what="routingResult")
    assert result["received_at"] - sent_at < 60
    assert result["workItemId"] == env.fake.sessions[identifier][:15]
    return result


def test_a_transfer_to_a_queue_is_route_then_routing_result(env):
    """"Transfer Messaging Sessions to Omni-Channel Queues"."""
    queue = env.fake.add_queue("Escalations")
    _started(env, "conv-t")

    result = _transfer(env, "conv-t", queue_id=queue)

    assert calls(env.fake, "conv-t") == ["route", "route", "routingResult"]
    transfer = _route_requests(env.fake, "conv-t")[1]
    assert transfer.body == {"conversationIdentifier": "conv-t", "routingType": "Transfer",
                             "routingInfo": {"queueId": queue}}
    assert (result["success"], result["externallyRouted"]) == (True, False)
    assert "errorMessage" not in result
    conv = env.conversation("conv-t")
    assert conv["routing_type"] == "Transfer" and conv["state"] == "pending"


def test_a_transfer_to_a_flow_is_route_with_the_flow_and_fallback_queue_then_result(env):
    """"Transfer Messaging Sessions with Omni-Channel Flows"."""
    queue = env.fake.add_queue("Fallback")
    _started(env, "conv-tf")

    result = _transfer(env, "conv-tf", flow_id="300000000000002", queue_id=queue)

    assert calls(env.fake, "conv-tf") == ["route", "route", "routingResult"]
    assert _route_requests(env.fake, "conv-tf")[1].body["routingInfo"] == {
        "flow": {"flowId": "300000000000002", "queueId": queue}}
    assert result["success"] is True


def test_a_transfer_to_a_named_rep_is_agent_work_then_routing_result_without_route(env):
    """"Transfer Messaging Sessions to Reps": no v1/route, which would also hand the
    conversation to the channel's own routing."""
    target = env.fake.add_user("carol@example.com")
    _started(env, "conv-u")

    result = _transfer(env, "conv-u", user_id=target)

    assert calls(env.fake, "conv-u") == ["route", "agentWork", "routingResult"]
    (work,) = env.fake.agent_works
    assert work["userId"] == target and result["success"] is True
    assert work["routingContext"]["routingCorrelationId"] in \
        env.fake.transfer_routings["conv-u"]
    assert env.wait_state("conv-u", "offered")["salesforce_user_id"] == target


def test_a_transfer_to_an_unknown_user_is_answered_with_a_failed_result(env):
    _started(env, "conv-bad")

    result = _transfer(env, "conv-bad", user_id="005999999999999")

    assert calls(env.fake, "conv-bad") == ["route", "agentWork", "routingResult"]
    assert result["success"] is False and "Invalid User Id" in result["errorMessage"]


def test_a_transfer_to_an_external_contact_is_a_routing_result_externally_routed(env):
    """"Transfer Messaging Sessions to External Contacts"."""
    _started(env, "conv-x")

    result = _transfer(env, "conv-x", user_id="ext-contact-1")

    assert calls(env.fake, "conv-x") == ["route", "routingResult"]
    assert (result["success"], result["externallyRouted"]) == (False, True)
    assert result["errorMessage"]


def test_a_transfer_without_target_goes_to_the_routers_next_rep_without_route(env):
    ana, bob = env.add_rep("ana@example.com"), env.add_rep("bob@example.com")
    env.add_router("conversation", [ana, bob], {"kind": "rep"})
    env.byoc.send([env.byoc.conversation_started("conv-t2")])
    first = env.wait_state("conv-t2", "offered")

    result = _transfer(env, "conv-t2")

    assert calls(env.fake, "conv-t2") == ["route", "agentWork", "agentWork", "routingResult"]
    assert result["success"] is True
    second = env.fake.agent_works[1]
    assert second["userId"] != env.fake.agent_works[0]["userId"]
    conv = env.wait_state("conv-t2", "offered")
    assert conv["rep_id"] != first["rep_id"] and conv["routing_type"] == "Transfer"


def test_a_queued_customer_is_never_deleted_long_after_the_timeout(make_env):
    from datetime import UTC, datetime, timedelta

    from connector.service.byoc import sweep_stale

    env = make_env(byoc_pending_timeout_seconds=1)
    queue = env.fake.add_queue("Support")
    _started(env, "conv-wait", {"kind": "queue", "queue_id": queue})

    for days in (1, 7, 30):
        assert sweep_stale(env.container.db, env.ports,
                           now=datetime.now(UTC) + timedelta(days=days)) == 0

    assert env.fake.deleted_routes == [] and "conv-wait" in env.fake.psrs
    assert env.conversation("conv-wait")["state"] == "pending"


def test_declined_work_is_offered_to_the_next_eligible_rep_and_never_back(env):
    ana, bob = env.add_rep("ana@example.com"), env.add_rep("bob@example.com")
    env.add_router("conversation", [ana, bob], {"kind": "rep"})
    env.byoc.send([env.byoc.conversation_started("conv-d")])
    first = env.wait_state("conv-d", "offered")

    env.byoc.send([env.byoc.work_result("conv-d", "Declined",
                                        work_id=first["agent_work_id"])])

    wait_for(lambda: len(env.fake.agent_works) == 2, what="second offer")
    works = env.fake.agent_works
    assert works[1]["userId"] != works[0]["userId"]
    assert works[1]["workItemId"] == works[0]["workItemId"]  # same PSR, next rep
    assert len(_route_requests(env.fake, "conv-d")) == 1
    conv = env.wait_state("conv-d", "offered")
    assert conv["declined_rep_ids"] == [first["rep_id"]]
    assert env.decision(first["decision_id"])["sync_status"] == "failed"

    env.byoc.send([env.byoc.work_result("conv-d", "Declined",
                                        work_id=first["agent_work_id"])])  # late duplicate
    env.byoc.send([env.byoc.work_result("conv-d", "Declined",
                                        work_id=works[1]["agentWorkId"])])

    conv = env.wait_state("conv-d", "failed")
    assert "no eligible rep" in conv["error"]
    assert len(env.fake.agent_works) == 2


def test_cancelled_work_is_routed_again_to_another_rep(env):
    ana, bob = env.add_rep("ana@example.com"), env.add_rep("bob@example.com")
    env.add_router("conversation", [ana, bob], {"kind": "rep"})
    env.byoc.send([env.byoc.conversation_started("conv-c")])
    env.wait_state("conv-c", "offered")

    env.byoc.send([env.byoc.work_result("conv-c", "Cancelled",
                                        work_id=env.fake.agent_works[0]["agentWorkId"])])

    wait_for(lambda: len(env.fake.agent_works) == 2, what="offer after cancel")
    assert len(_route_requests(env.fake, "conv-c")) == 2
    assert env.fake.agent_works[1]["userId"] != env.fake.agent_works[0]["userId"]


def test_routing_result_failure_surfaces_on_the_conversation_and_decision(env):
    rep = env.add_rep("ana@example.com")
    env.add_router("conversation", [rep], {"kind": "channel"})
    env.byoc.send([env.byoc.conversation_started("conv-f")])
    env.wait_state("conv-f", "pending")

    env.byoc.send([env.byoc.routing_result("conv-f", "RoutingError", reason="No agents",
                                           errors=["queue is closed"])])

    conv = env.wait_state("conv-f", "failed")
    assert conv["error_code"] == "RoutingError"
    assert conv["error"] == "RoutingError: No agents; queue is closed"
    decision = env.decision(conv["decision_id"])
    assert decision["sync_status"] == "failed" and "No agents" in decision["sync_error"]


def test_transfer_error_surfaces_on_the_decision(env):
    rep = env.add_rep("ana@example.com")
    env.add_router("conversation", [rep], {"kind": "rep"})
    env.byoc.send([env.byoc.conversation_started("conv-te")])
    work = env.wait_state("conv-te", "offered")["agent_work_id"]

    env.byoc.send([env.byoc.work_result("conv-te", "TransferError", work_id=work,
                                        errors=["rep offline"])])

    conv = env.wait_state("conv-te", "failed")
    assert env.decision(conv["decision_id"])["sync_error"] == "TransferError: rep offline"


def test_an_unanswered_offer_is_deleted_on_schedule_then_handed_on(make_env):
    env = make_env(byoc_pending_timeout_seconds=1, byoc_sweep_seconds=1)
    rep = env.add_rep("ana@example.com")
    env.add_router("conversation", [rep], {"kind": "rep"})
    env.byoc.send([env.byoc.conversation_started("conv-stale")])
    env.wait_state("conv-stale", "offered")

    wait_for(lambda: env.fake.deleted_routes, timeout=30, what="DELETE route")

    assert env.fake.deleted_routes == [{"conversationIdentifier": "conv-stale",
                                        "cancelReason": "Unavailable", "existed": True}]
    # nobody else to offer it to: the channel's own routing takes it, it is not dropped
    conv = env.wait_state("conv-stale", "pending")
    assert conv["destination"] == {"kind": "channel"}
    assert calls(env.fake, "conv-stale") == ["route", "agentWork", "DELETE route", "route"]
    deleted = [o for o in env.api("GET", "/conversations/conv-stale").json()["offers"]
               if o["kind"] == "delete"]
    assert len(deleted) == 1 and "no answer to the offer" in deleted[0]["reason"]


def test_token_expiry_mid_run_renews_the_token_and_loses_nothing(env):
    rep = env.add_rep("ana@example.com")
    env.add_router("conversation", [rep], {"kind": "channel"})
    env.byoc.send([env.byoc.conversation_started("conv-a")])
    env.wait_state("conv-a", "pending")
    assert env.fake.calls["POST /services/oauth2/token"] == 1

    env.fake.expire_tokens()
    env.byoc.send([env.byoc.conversation_started("conv-b")])

    env.wait_state("conv-b", "pending")
    assert env.fake.calls["POST /services/oauth2/token"] == 2
    rejected, accepted = _route_requests(env.fake, "conv-b")
    assert rejected.headers["requestid"] == accepted.headers["requestid"]
    assert rejected.headers["authorization"] != accepted.headers["authorization"]


@pytest.mark.parametrize("code", [10055, 10056, 10019])
def test_retryable_error_codes_are_retried_with_the_same_request_id(env, code):
    rep = env.add_rep("ana@example.com")
    env.add_router("conversation", [rep], {"kind": "channel"})
    env.fake.inject("route", code, times=2)

    env.byoc.send([env.byoc.conversation_started("conv-r")])

    conv = env.wait_state("conv-r", "pending")
    calls = _route_requests(env.fake, "conv-r")
    assert len(calls) == 3
    assert len({c.headers["requestid"] for c in calls}) == 1
    assert conv["error"] is None


@pytest.mark.parametrize("code,words", [
    (10024, "flow id and a fallback queue id"), (10030, "either a flow or a queue"),
    (10032, "queue id is invalid"), (10096, "routing attribute value is longer"),
    (10001, "AuthorizationContext isn't valid"), (10003, "scope interaction_api"),
    (10005, "AuthorizationContext isn't valid for the access token"),
    (10070, "channel address isn't configured"),
])
def test_non_retryable_error_codes_fail_once_with_code_and_message(env, code, words):
    rep = env.add_rep("ana@example.com")
    env.add_router("conversation", [rep], {"kind": "channel"})
    env.fake.inject("route", code)

    env.byoc.send([env.byoc.conversation_started("conv-n")])

    conv = env.wait_state("conv-n", "failed")
    assert len(_route_requests(env.fake, "conv-n")) == 1
    assert conv["error_code"] == str(code)
    assert words in conv["error"]
    decision = env.decision(conv["decision_id"])
    assert decision["sync_status"] == "failed" and f"[{code}]" in decision["sync_error"]


def test_invalid_token_twice_renews_once_then_fails_with_10004(env):
    rep = env.add_rep("ana@example.com")
    env.add_router("conversation", [rep], {"kind": "channel"})
    env.fake.inject("route", 10004, times=2)

    env.byoc.send([env.byoc.conversation_started("conv-tok")])

    conv = env.wait_state("conv-tok", "failed")
    assert conv["error_code"] == "10004"
    assert env.fake.calls["POST /services/oauth2/token"] == 2


def test_multipart_encoding_puts_the_json_in_a_part_named_json(make_env):
    env = make_env(byoc_route_encoding="multipart")
    queue = env.fake.add_queue("Support")
    rep = env.add_rep("ana@example.com")
    env.add_router("conversation", [rep], {"kind": "queue", "queue_id": queue})

    env.byoc.send([env.byoc.conversation_started("conv-m")])

    env.wait_state("conv-m", "pending")
    (call,) = _route_requests(env.fake, "conv-m")
    assert call.content_type == "multipart"
    assert call.headers["content-type"].startswith("multipart/form-data; boundary=")
    assert call.body == {"conversationIdentifier": "conv-m", "routingType": "Initial",
                         "routingInfo": {"queueId": queue}}


def test_no_router_assigning_still_hands_the_conversation_to_the_channel(env):
    rep = env.add_rep("ana@example.com")
    env.add_router("conversation", [rep], {"kind": "rep"},
                   trigger={"groups": [{"conditions": [
                       {"field": "language", "operator": "equals", "value": "fr"}]}]})

    env.byoc.send([env.byoc.conversation_started("conv-none", attributes={"language": "de"})])

    conv = env.wait_state("conv-none", "pending")
    assert conv["destination"] == {"kind": "channel"} and conv["rep_id"] is None
    assert env.fake.agent_works == []


def test_bad_signature_is_refused_and_nothing_is_stored(env):
    body = json.dumps({"events": [env.byoc.conversation_started("conv-x")]}).encode()

    resp = env.byoc.post(body, signature="t=1,v1=" + "0" * 64)

    assert resp.status_code == 401
    assert env.conversation("conv-x") is None
    from connector.jobs.inbox import counts
    assert counts(env.container.db) == {}
