"""BYOC partner-owned routing end to end: signed events over HTTP into the connector,
routing decisions, and the Interaction Service calls the fake Salesforce receives."""

from __future__ import annotations

import json
import time

import pytest

from connector.salesforce_demo import wait_for


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
    time.sleep(4)  # several sweeps past the pending timeout

    assert env.wait_state("conv-late", "accepted")["state"] == "accepted"
    assert env.fake.deleted_routes == []


def test_routing_requested_transfers_to_the_queue_salesforce_names(env):
    queue = env.fake.add_queue("Escalations")
    rep = env.add_rep("ana@example.com")
    env.add_router("conversation", [rep], {"kind": "channel"})
    env.byoc.send([env.byoc.conversation_started("conv-t")])
    env.wait_state("conv-t", "pending")

    env.byoc.send([env.byoc.routing_requested("conv-t", queue_id=queue)])

    wait_for(lambda: len(_route_requests(env.fake, "conv-t")) == 2, what="transfer route")
    transfer = _route_requests(env.fake, "conv-t")[1]
    assert transfer.body == {"conversationIdentifier": "conv-t", "routingType": "Transfer",
                             "routingInfo": {"queueId": queue}}
    conv = wait_for(lambda: (c := env.conversation("conv-t"))["route_calls"] == 2 and c,
                    what="transfer recorded")
    assert conv["routing_type"] == "Transfer" and conv["state"] == "pending"


def test_routing_requested_without_target_is_routed_by_the_router_to_another_rep(env):
    ana, bob = env.add_rep("ana@example.com"), env.add_rep("bob@example.com")
    env.add_router("conversation", [ana, bob], {"kind": "rep"})
    env.byoc.send([env.byoc.conversation_started("conv-t2")])
    first = env.wait_state("conv-t2", "offered")

    env.byoc.send([env.byoc.routing_requested("conv-t2")])

    wait_for(lambda: len(env.fake.agent_works) == 2, what="transfer offer")
    transfer = _route_requests(env.fake, "conv-t2")[1]
    assert transfer.body == {"conversationIdentifier": "conv-t2", "routingType": "Transfer"}
    second = env.fake.agent_works[1]
    assert second["userId"] != env.fake.agent_works[0]["userId"]
    assert second["routingContext"]["routingType"] == "Transfer"
    conv = wait_for(lambda: (c := env.conversation("conv-t2"))["route_calls"] == 2 and
                    c["state"] == "offered" and c, what="transfer offered")
    assert conv["rep_id"] != first["rep_id"]


def test_routing_requested_with_a_user_offers_the_work_to_that_user(env):
    rep = env.add_rep("ana@example.com")
    target = env.fake.add_user("carol@example.com")
    env.add_router("conversation", [rep], {"kind": "channel"})
    env.byoc.send([env.byoc.conversation_started("conv-u")])
    env.wait_state("conv-u", "pending")

    env.byoc.send([env.byoc.routing_requested("conv-u", user_id=target)])

    work = wait_for(lambda: env.fake.agent_works, what="agent work")[0]
    assert work["userId"] == target
    assert _route_requests(env.fake, "conv-u")[1].body["routingType"] == "Transfer"


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


def test_stale_pending_routing_is_deleted_on_schedule(make_env):
    env = make_env(byoc_pending_timeout_seconds=1, byoc_sweep_seconds=1)
    rep = env.add_rep("ana@example.com")
    env.add_router("conversation", [rep], {"kind": "channel"})
    env.byoc.send([env.byoc.conversation_started("conv-stale")])
    env.wait_state("conv-stale", "pending", "expired")

    conv = env.wait_state("conv-stale", "expired", timeout=30)

    assert env.fake.deleted_routes == [{"conversationIdentifier": "conv-stale",
                                        "cancelReason": "Unavailable", "existed": True}]
    assert "conv-stale" not in env.fake.psrs
    assert "deleted" in conv["error"]


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


@pytest.mark.parametrize("code", [10055, 10056, 10094])
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
