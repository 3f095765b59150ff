"""What the Interaction Service client really sends, and what the fake answers, checked
against Salesforce's published OpenAPI (inbound-interaction-api.yaml) with jsonschema;
and what the fake BYOC event sender posts, against the outbound custom event payloads
(outbound-custom-event-payload.yaml)."""

from __future__ import annotations

import uuid

import pytest
import requests

from adapters.salesforce.auth import JwtBearerAuth
from adapters.salesforce.interaction import InteractionClient
from adapters.salesforce.retry import RetryPolicy
from connector.core.errors import CrmError
from connector.core.ports import RouteRequest
from tests.support.salesforce_spec import (
    RESPONSE_SCHEMAS,
    request_problems,
    required_headers,
    schema_errors,
)

OPERATION = {("POST", "/api/v1/route"): "route", ("DELETE", "/api/v1/route"): "delete-route",
             ("POST", "/api/v1/agentWork"): "agentWork",
             ("POST", "/api/v1/routingResult"): "routingResult"}


def make_client(fake, keys, encoding, responses_seen):
    session = requests.Session()
    session.hooks["response"].append(lambda resp, *a, **k: responses_seen.append(resp))
    auth = JwtBearerAuth(login_url=fake.url, client_id=fake.client_id, username=fake.username,
                         private_key=keys.private_key_pem)
    return InteractionClient(scrt_url=fake.url, org_id=fake.org_id,
                             authorization_context=fake.authorization_context, auth=auth,
                             encoding=encoding, session=session,
                             retry=RetryPolicy(max_attempts=2, backoff_base=0.0))


def exercise(fake, client) -> None:
    queue = fake.add_queue("Support")
    user = fake.add_user("ana@example.com")
    kinds = [{}, {"queue_id": queue},
             {"flow_id": "300000000000001", "fallback_queue_id": queue,
              "routing_attributes": {"Language": "en"}}]
    for n, kind in enumerate(kinds):
        for routing_type in ("Initial", "Transfer"):
            client.route(RouteRequest(f"conv-{n}", routing_type, str(uuid.uuid4()), **kind))
    accepted = client.route(RouteRequest("conv-rep", "Initial", str(uuid.uuid4())))
    client.assign_agent_work(user_id=user, work_item_id=accepted.work_item_id,
                             routing_context={"conversationIdentifier": "conv-rep",
                                              "routingType": "Initial",
                                              "routingCorrelationId":
                                                  accepted.routing_correlation_id},
                             request_id=str(uuid.uuid4()))
    for success in (True, False):
        client.send_routing_result(conversation_identifier="conv-rep",
                                   work_item_id=accepted.work_item_id, success=success,
                                   externally_routed=not success, routing_type="Transfer",
                                   error_message="the rep is busy",
                                   request_id=str(uuid.uuid4()))
    client.cancel_route(conversation_identifier="conv-rep", cancel_reason="Unavailable",
                        request_id=str(uuid.uuid4()))


@pytest.mark.parametrize("encoding", ["json", "multipart"])
def test_every_request_the_client_sends_follows_the_published_spec(fake, keys, encoding):
    seen: list = []
    exercise(fake, make_client(fake, keys, encoding, seen))

    interaction = [r for r in fake.requests if r.path.startswith("/api/v1/")]
    assert len(interaction) == 11
    for recorded in interaction:
        operation = OPERATION[(recorded.method, recorded.path)]
        assert request_problems(operation, recorded.headers, recorded.body) is None, recorded
        expected_encoding = encoding if operation == "route" else "json"
        assert recorded.content_type == expected_encoding
        uuid.UUID(recorded.headers["requestid"])
        assert len(recorded.headers["orgid"]) == 15
    assert set(required_headers("route")) == {"Authorization", "OrgId", "AuthorizationContext",
                                              "RequestId"}


def test_the_fakes_answers_follow_the_published_response_schemas(fake, keys):
    seen: list = []
    exercise(fake, make_client(fake, keys, "json", seen))

    answers = [r for r in seen if "/api/v1/" in r.url]
    assert len(answers) == 11 and all(r.status_code == 202 for r in answers)
    for resp in answers:
        operation = OPERATION[(resp.request.method, "/api/v1/" + resp.url.rsplit("/", 1)[1])]
        assert schema_errors(RESPONSE_SCHEMAS[operation], resp.json()) == []


@pytest.mark.parametrize("code", [10001, 10003, 10004, 10005, 10024, 10030, 10032, 10055,
                                  10056, 10070, 10094, 10096])
def test_injected_errors_use_the_error_schema(fake, keys, code):
    seen: list = []
    client = make_client(fake, keys, "json", seen)
    fake.inject("route", code, times=5)

    with pytest.raises(CrmError) as caught:
        client.route(RouteRequest("conv-e", "Initial", str(uuid.uuid4())))

    assert caught.value.code == str(code)
    errors = [r for r in seen if "/api/v1/" in r.url]
    assert errors and all(schema_errors("Error", r.json()) == [] for r in errors)
    assert all(r.json()["code"] == code for r in errors)


def test_the_fake_refuses_requests_that_break_the_spec(fake, keys):
    fake.request_validator = request_problems
    token = fake.issue_token()
    headers = {"Authorization": f"Bearer {token}", "OrgId": fake.org_id,
               "AuthorizationContext": fake.authorization_context,
               "RequestId": str(uuid.uuid4())}

    resp = requests.post(f"{fake.url}/api/v1/route", headers=headers,
                         json={"conversationIdentifier": "c", "routingType": "Sideways",
                               "extra": 1})

    assert resp.status_code == 400 and resp.json()["code"] == 10089
    assert "routingType" in resp.json()["message"] and "extra" in resp.json()["message"]


def test_every_byoc_event_the_fake_sender_posts_follows_the_outbound_payload_spec():
    import json

    from adapters.salesforce.fake_senders import ByocEventSender
    from tests.support.salesforce_spec import event_problems

    posted: list[bytes] = []

    class Recording(ByocEventSender):
        def post(self, body, *, signature=None):
            posted.append(body)

    sender = Recording("http://unused", "secret")
    sender.send([
        sender.routing_requested("c-1", queue_id="00G000000000001"),
        sender.routing_requested("c-2", user_id="005000000000001", routing_type="Conference"),
        sender.routing_requested("c-3", flow_id="300000000000001"),
        *[sender.work_result("c-1", work_type, agent_id="005000000000001")
          for work_type in ("Assigned", "Accepted", "Declined", "Cancelled", "Closed",
                            "Transferred")],
        sender.work_result("c-1", "TransferError", errors=["no agent"]),
        sender.routing_result("c-1", psr_id="0JR000000000001"),
        sender.routing_result("c-1", "RoutingError", reason="no queue", errors=["x"]),
    ])

    events = [e for body in posted for e in json.loads(body)["events"]]
    assert len(events) == 12
    for event in events:
        assert event_problems(event) == [], event


def test_the_outbound_spec_check_catches_a_broken_event():
    from adapters.salesforce.fake_senders import ByocEventSender
    from tests.support.salesforce_spec import event_problems

    sender = ByocEventSender("http://unused", "secret")
    event = sender.work_result("c-1", "Accepted")
    del event["data"]["recipient"]
    event["data"]["payload"]["entryPayload"]["workType"] = "Parked"
    requested = sender.routing_requested("c-1")
    requested["data"]["payload"]["routingParameters"]["channelData"] = {"not": "a string"}

    problems = event_problems(event) + event_problems(requested)

    assert any("recipient" in p for p in problems)
    assert any("Parked" in p for p in problems)
    assert any("channelData" in p for p in problems)
