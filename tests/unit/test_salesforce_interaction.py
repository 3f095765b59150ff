"""Interaction Service client against ``responses``: headers, RequestId reuse, encodings,
the retry table and token renewal."""

from __future__ import annotations

import json
import uuid

import pytest
import responses

from adapters.salesforce.interaction import InteractionClient, route_body, validate_org_id
from adapters.salesforce.retry import RetryPolicy
from connector.core.errors import AuthenticationFailed, PermanentCrmError, TransientCrmError
from connector.core.ports import RouteRequest

SCRT = "https://scrt.example.test"
ROUTE = f"{SCRT}/api/v1/route"
AGENT_WORK = f"{SCRT}/api/v1/agentWork"
ORG = "00D5g000004Xyz1"
ACCEPTED = {"success": True, "psrId": "0JR000000000001", "workItemId": "0Mw000000000001",
            "routingCorrelationId": "corr-1"}


class FakeAuth:
    """Hands out token-1, token-2... ; ``renew`` moves to the next."""

    def __init__(self) -> None:
        self.n = 1
        self.renewals = 0

    def access_token(self) -> str:
        return f"token-{self.n}"

    def renew(self, stale=None):
        self.n += 1
        self.renewals += 1


def client(auth=None, **kw) -> InteractionClient:
    return InteractionClient(scrt_url=SCRT, org_id=ORG, authorization_context="P1_Channel",
                             auth=auth or FakeAuth(), sleep=lambda s: None,
                             retry=RetryPolicy(max_attempts=4, backoff_base=0.0), **kw)


def request(**kw) -> RouteRequest:
    return RouteRequest("conv-1", "Initial", str(uuid.uuid4()), **kw)


@responses.activate
def test_route_sends_every_required_header_and_returns_the_accepted_ids():
    responses.post(ROUTE, json=ACCEPTED, status=202)
    req = request(queue_id="00G000000000001")

    accepted = client().route(req)

    sent = responses.calls[0].request
    assert sent.headers["Authorization"] == "Bearer token-1"
    assert sent.headers["OrgId"] == ORG
    assert sent.headers["AuthorizationContext"] == "P1_Channel"
    assert sent.headers["RequestId"] == req.request_id
    assert sent.headers["Content-Type"] == "application/json"
    assert json.loads(sent.body) == {"conversationIdentifier": "conv-1",
                                     "routingType": "Initial",
                                     "routingInfo": {"queueId": "00G000000000001"}}
    assert (accepted.psr_id, accepted.work_item_id, accepted.routing_correlation_id) == \
        ("0JR000000000001", "0Mw000000000001", "corr-1")


@responses.activate
def test_multipart_encoding_sends_the_json_in_a_part_named_json():
    responses.post(ROUTE, json=ACCEPTED, status=202)

    client(encoding="multipart").route(request())

    sent = responses.calls[0].request
    assert sent.headers["Content-Type"].startswith("multipart/form-data; boundary=")
    body = sent.body.decode()
    assert 'Content-Disposition: form-data; name="json"' in body
    assert '{"conversationIdentifier": "conv-1", "routingType": "Initial"}' in body


@pytest.mark.parametrize("code,status", [(10055, 409), (10056, 409), (10019, 503),
                                         (None, 429)])
@responses.activate
def test_retryable_answers_are_retried_with_the_same_request_id(code, status):
    body = {"code": code, "message": "retry"} if code else {}
    responses.post(ROUTE, json=body, status=status)
    responses.post(ROUTE, json=ACCEPTED, status=202)

    client().route(request())

    ids = {c.request.headers["RequestId"] for c in responses.calls}
    assert len(responses.calls) == 2 and len(ids) == 1


@pytest.mark.parametrize("answer", [{"json": {"code": 10094, "message": "t"}, "status": 504},
                                    {"json": {}, "status": 503},
                                    {"json": {"code": 500, "message": "x"}, "status": 500},
                                    {"body": __import__("requests").ReadTimeout("slow")}])
@responses.activate
def test_a_route_salesforce_may_have_carried_out_is_not_sent_again(answer):
    """RequestId is a reference, not an idempotency key: a second POST route after a lost
    answer could open a second routing, so the caller gets AmbiguousOutcome instead."""
    from adapters.salesforce.errors import AmbiguousOutcome

    responses.post(ROUTE, **answer)
    responses.post(ROUTE, json=ACCEPTED, status=202)

    with pytest.raises(AmbiguousOutcome) as caught:
        client().route(request())

    assert len(responses.calls) == 1 and caught.value.retryable is False


@pytest.mark.parametrize("code,status", [(10094, 504), (None, 503)])
@responses.activate
def test_agent_work_is_retried_after_a_lost_answer(code, status):
    """A repeated agentWork is safe: Salesforce answers 15109 for an offer that exists."""
    body = {"code": code, "message": "retry"} if code else {}
    responses.post(AGENT_WORK, json=body, status=status)
    responses.post(AGENT_WORK, json={"agentWorkId": "0Bz000000000001", "success": True},
                   status=202)

    assert client().assign_agent_work(user_id="005000000000001",
                                      work_item_id="0Mw000000000001", routing_context={},
                                      request_id=str(uuid.uuid4())) == "0Bz000000000001"
    assert len(responses.calls) == 2


def test_every_documented_error_code_is_classified():
    """Every code of ERRORCODES.md has one of the four actions."""
    import re
    from pathlib import Path

    from adapters.salesforce.errors import (
        INTERACTION_ERRORS,
        NEXT_REP,
        PERMANENT,
        RENEW_TOKEN,
        RETRY,
        action_for,
    )

    spec = Path(__file__).parents[1] / "specs" / "salesforce-interaction-service" / \
        "ERRORCODES.md"
    documented = {int(c) for c in re.findall(r"^\| (\d+) ", spec.read_text(), re.M)}
    assert documented and documented <= set(INTERACTION_ERRORS)
    assert {action_for(c) for c in documented} == {RETRY, RENEW_TOKEN, PERMANENT, NEXT_REP}
    for code in (20002, 20004, 10094, 10019, 500):
        assert action_for(code) == RETRY and INTERACTION_ERRORS[code].error.retryable
    assert action_for(10004) == RENEW_TOKEN
    for code in (15105, 15106, 15112):
        assert action_for(code) == NEXT_REP and not INTERACTION_ERRORS[code].error.retryable
    for code in (10012, 10013, 10014, 10015, 10075, 10077, 10093, 10099, 15102, 15103, 15104,
                 15107, 15108, 15110, 15111, 20003, 25005, 25006, 25007):
        assert action_for(code) == PERMANENT and not INTERACTION_ERRORS[code].error.retryable


@pytest.mark.parametrize("success,extra", [(True, {}), (False, {"errorMessage": "busy"})])
@responses.activate
def test_routing_result_sends_the_spec_body(success, extra):
    responses.post(f"{SCRT}/api/v1/routingResult", json={"success": True}, status=202)

    client().send_routing_result(conversation_identifier="conv-1",
                                 work_item_id="0Mw000000000001AAA", success=success,
                                 routing_type="Transfer", request_id=str(uuid.uuid4()),
                                 error_message="busy")

    sent = json.loads(responses.calls[0].request.body)
    assert sent == {"conversationIdentifier": "conv-1", "workItemId": "0Mw000000000001",
                    "success": success, "externallyRouted": False, "routingType": "Transfer",
                    **extra}


@responses.activate
def test_network_errors_are_retried():
    import requests

    responses.post(ROUTE, body=requests.ConnectionError("reset"))
    responses.post(ROUTE, json=ACCEPTED, status=202)

    assert client().route(request()).psr_id == "0JR000000000001"
    assert len(responses.calls) == 2


@pytest.mark.parametrize("code,error", [
    (10024, PermanentCrmError), (10030, PermanentCrmError), (10032, PermanentCrmError),
    (10096, PermanentCrmError), (10001, AuthenticationFailed), (10003, AuthenticationFailed),
    (10005, AuthenticationFailed), (10070, AuthenticationFailed)])
@responses.activate
def test_request_and_auth_errors_are_not_retried_and_carry_code_and_message(code, error):
    responses.post(ROUTE, json={"code": code, "message": "from salesforce"}, status=400)

    with pytest.raises(error) as caught:
        client().route(request())

    assert len(responses.calls) == 1
    assert caught.value.code == str(code)
    assert caught.value.retryable is False
    assert "Interaction Service POST v1/route failed:" in str(caught.value)
    assert f"[{code}]" in str(caught.value)


@responses.activate
def test_retries_stop_at_the_policy_and_raise_the_last_error():
    responses.post(ROUTE, json={"code": 10055, "message": "again"}, status=409)

    with pytest.raises(TransientCrmError):
        client().route(request())

    assert len(responses.calls) == 4


@responses.activate
def test_invalid_token_renews_once_and_retries_with_the_new_token():
    auth = FakeAuth()
    responses.post(ROUTE, json={"code": 10004, "message": "bad token"}, status=401)
    responses.post(ROUTE, json=ACCEPTED, status=202)

    client(auth).route(request())

    assert auth.renewals == 1
    assert [c.request.headers["Authorization"] for c in responses.calls] == \
        ["Bearer token-1", "Bearer token-2"]


@responses.activate
def test_agent_work_sends_user_work_item_and_routing_context():
    responses.post(AGENT_WORK, json={"id": "x", "agentWorkId": "0Bz000000000001",
                                     "success": True}, status=202)
    context = {"conversationIdentifier": "conv-1", "routingType": "Initial",
               "routingCorrelationId": "corr-1"}

    work_id = client().assign_agent_work(user_id="005000000000001",
                                         work_item_id="0Mw000000000001",
                                         routing_context=context, request_id="r-1")

    assert work_id == "0Bz000000000001"
    assert json.loads(responses.calls[0].request.body) == {
        "userId": "005000000000001", "workItemId": "0Mw000000000001", "routingContext": context}


@responses.activate
def test_delete_route_sends_cancel_reason_and_falls_back_when_the_org_is_older():
    responses.delete(ROUTE, json={"code": 10076, "message": "no cancel reason"}, status=400)
    responses.delete(ROUTE, json={"success": True}, status=202)

    assert client().cancel_route(conversation_identifier="conv-1", cancel_reason="Unavailable",
                                 request_id=str(uuid.uuid4())) is True

    bodies = [json.loads(c.request.body) for c in responses.calls]
    assert bodies == [{"conversationIdentifier": "conv-1", "cancelReason": "Unavailable"},
                      {"conversationIdentifier": "conv-1"}]


def test_route_body_for_each_destination():
    assert route_body(request()) == {"conversationIdentifier": "conv-1",
                                     "routingType": "Initial"}
    assert route_body(request(flow_id="300x", fallback_queue_id="00Gq",
                              routing_attributes={"Lang": "en", "N": 3}))["routingInfo"] == \
        {"flow": {"flowId": "300x", "queueId": "00Gq"},
         "routingAttributes": {"Lang": "en", "N": "3"}}
    assert route_body(request(queue_id="00Gq"))["routingInfo"] == {"queueId": "00Gq"}


@pytest.mark.parametrize("value,message", [
    ("00D5g000004Xyz1AAA", "use '00D5g000004Xyz1'"), ("00D5g", "15-character"),
    ("0015g000004Xyz1", "starting with 00D"), ("", "15-character")])
def test_org_id_must_be_15_characters(value, message):
    with pytest.raises(ValueError, match=message):
        validate_org_id(value)


def test_unknown_encoding_is_refused_naming_the_setting():
    with pytest.raises(ValueError, match="BYOC_ROUTE_ENCODING"):
        client(encoding="xml")


@responses.activate
def test_agent_work_sends_the_15_character_work_item_id():
    responses.post(AGENT_WORK, json={"agentWorkId": "0Bz000000000001", "success": True},
                   status=202)

    client().assign_agent_work(user_id="005000000000001", work_item_id="0Mw000000000001AAA",
                               routing_context={}, request_id="r-1")

    assert json.loads(responses.calls[0].request.body)["workItemId"] == "0Mw000000000001"


class CountingBudget:
    def __init__(self) -> None:
        self.acquired = 0
        self.waits: list = []

    def acquire(self, max_wait=None) -> None:
        self.acquired += 1
        self.waits.append(max_wait)


@responses.activate
def test_every_attempt_passes_the_org_budget_first():
    responses.post(ROUTE, json={"code": 10055, "message": "retry"}, status=409)
    responses.post(ROUTE, json=ACCEPTED, status=202)
    budget = CountingBudget()

    client(budget=budget).route(request())

    assert budget.acquired == len(responses.calls) == 2


@responses.activate
def test_a_call_with_a_deadline_waits_for_the_budget_no_longer_than_its_time_left():
    import time

    responses.post(ROUTE, json=ACCEPTED, status=202)
    budget = CountingBudget()

    client(budget=budget).route(request(deadline_at=time.time() + 30))

    (wait,) = budget.waits
    assert 29 < wait <= 30


@responses.activate
def test_each_attempt_waits_no_longer_than_the_time_left_to_the_deadline():
    import time

    responses.post(ROUTE, json=ACCEPTED, status=202)

    client(timeout=(5.0, 20.0)).route(request(deadline_at=time.time() + 2.0))
    client(timeout=(5.0, 20.0)).route(request())

    capped, plain = (c.request.req_kwargs["timeout"] for c in responses.calls)
    assert 1.0 < capped[0] <= 2.0 and 1.0 < capped[1] <= 2.0
    assert plain == (5.0, 20.0)
