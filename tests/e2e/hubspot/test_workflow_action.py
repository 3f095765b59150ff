"""The "Route with connector" workflow action, end to end through real HTTP: the fake
HubSpot executes it for enrolled records and completes blocked executions by callback."""

from __future__ import annotations

import json

import pytest
import requests

from adapters.hubspot.fake_server import make_event
from adapters.hubspot.signatures import sign_v1
from connector.core.errors import TransientCrmError
from connector.jobs import inbox
from connector.store.models import DecisionRow, InboxEventRow, ObjectRow

from .conftest import connect_portal, make_router
from .harness import CLIENT_SECRET, Running, wait_for


def _url(service) -> str:
    return service.url + "/webhooks/hubspot/workflow-action"


def _router(service, portal) -> str:
    # routes nothing by itself on creation: only the workflow action runs it
    return make_router(service, portal, start_on=["change"], watch_properties=["jobtitle"])


def _mirrored(service, fake, email: str) -> str:
    cid = fake.create_object("contacts", {"email": email})
    assert service.sender.send([make_event("contact.creation", int(cid))]).status_code == 204
    wait_for(lambda: service.count(ObjectRow, ObjectRow.source_id == cid) == 1,
             what="record mirrored")
    return cid


def test_mirrored_record_is_answered_at_once_and_its_owner_written(service, fake, portal):
    router_id = _router(service, portal)
    cid = _mirrored(service, fake, "sync@example.org")
    execution, response = fake.workflows.execute(_url(service), cid, {"router_id": router_id})
    assert response.status_code == 200, response.text
    outputs = response.json()["outputFields"]
    assert set(outputs) == {"owner_id", "owner_email", "outcome_message"}
    assert outputs["owner_id"] in portal["reps"].values()
    assert outputs["owner_email"].endswith("@example.com")
    assert outputs["outcome_message"] == "The object was successfully assigned"
    assert execution.state == "COMPLETED" and execution.output_fields == outputs
    wait_for(lambda: fake.owner_of("contacts", cid) == outputs["owner_id"],
             what="owner written back")
    assert not any("callbacks" in k for k in fake.calls)

    again = fake.workflows.payload(cid, {"router_id": router_id})
    again["callbackId"] = execution.callback_id  # HubSpot resends the same execution
    body = json.dumps(again).encode()
    r = requests.post(_url(service), data=body, timeout=10,
                      headers=fake.workflows.signed_headers(_url(service), body))
    assert r.status_code == 200 and r.json()["outputFields"] == outputs
    assert service.decisions() == 1
    assert len(fake.owner_writes) == 1


def test_record_not_yet_here_blocks_then_completes_by_callback(service, fake, portal):
    router_id = _router(service, portal)
    cid = fake.create_object("contacts", {"email": "async@example.org"})
    execution, response = fake.workflows.execute(_url(service), cid, {"router_id": router_id},
                                                 signature="v3")
    assert response.status_code == 200, response.text
    assert response.json()["outputFields"]["hs_execution_state"] == "BLOCK"
    assert execution.state == "BLOCKED"
    wait_for(lambda: execution.state == "COMPLETED", what="callback completed")
    outputs = execution.output_fields
    assert outputs["owner_id"] == fake.owner_of("contacts", cid)
    assert outputs["owner_id"] in portal["reps"].values()
    assert outputs["outcome_message"] == "The object was successfully assigned"
    assert execution.completions == 1
    assert fake.calls["POST /automation/actions/callbacks/2026-03/complete"] == 1
    wait_for(lambda: service.count(InboxEventRow, InboxEventRow.kind == "hubspot_workflow",
                                   InboxEventRow.status == "done") == 1)
    assert service.count(DecisionRow, DecisionRow.sync_status == "synced") == 1


def test_unknown_router_completes_with_the_reason(service, fake, portal):
    cid = fake.create_object("contacts", {"email": "nobody@example.org"})
    execution, response = fake.workflows.execute(_url(service), cid,
                                                 {"router_id": "no-such-router"})
    assert response.json()["outputFields"]["hs_execution_state"] == "BLOCK"
    wait_for(lambda: execution.state == "COMPLETED", what="callback completed")
    assert execution.output_fields["owner_id"] == ""
    assert execution.output_fields["outcome_message"] == "Router not found"
    assert fake.owner_of("contacts", cid) is None


def test_signatures_and_bad_requests_are_refused_naming_the_problem(service, fake, portal):
    router_id = _router(service, portal)
    url = _url(service)
    payload = fake.workflows.payload(1, {"router_id": router_id})
    body = json.dumps(payload).encode()
    v2 = fake.workflows.signed_headers(url, body)

    tampered = body.replace(b'"objectId": 1', b'"objectId": 2')
    assert tampered != body
    assert requests.post(url, data=tampered, headers=v2, timeout=10).status_code == 401
    v1 = {"Content-Type": "application/json", "X-HubSpot-Signature-Version": "v1",
          "X-HubSpot-Signature": sign_v1(CLIENT_SECRET, body)}
    r = requests.post(url, data=body, headers=v1, timeout=10)
    assert r.status_code == 401 and "v1" in r.json()["message"]
    bad_v3 = {**fake.workflows.signed_headers(url, body, "v3"), "X-HubSpot-Signature-v3": "x"}
    assert requests.post(url, data=body, headers=bad_v3, timeout=10).status_code == 401

    for field, change in (("router_id", lambda p: p["inputFields"].pop("router_id")),
                          ("callbackId", lambda p: p.pop("callbackId")),
                          ("object.objectType",
                           lambda p: p["object"].update(objectType="WIDGET")),
                          ("origin.portalId", lambda p: p["origin"].update(portalId="x"))):
        bad = json.loads(body)
        change(bad)
        raw = json.dumps(bad).encode()
        r = requests.post(url, data=raw, headers=fake.workflows.signed_headers(url, raw),
                          timeout=10)
        assert r.status_code == 400 and field in r.json()["message"], (field, r.text)

    other = json.loads(body)
    other["origin"]["portalId"] = 999
    raw = json.dumps(other).encode()
    r = requests.post(url, data=raw, headers=fake.workflows.signed_headers(url, raw),
                      timeout=10)
    assert r.status_code == 400 and "999" in r.json()["message"]
    assert service.count(InboxEventRow, InboxEventRow.kind == "hubspot_workflow") == 0


def test_official_sdk_completes_callbacks_against_the_fake(fake):
    from hubspot.automation.actions import (
        ApiClient,
        BatchInputCallbackCompletionBatchRequest,
        CallbackCompletionBatchRequest,
        CallbackCompletionRequest,
        CallbacksApi,
        Configuration,
    )
    from hubspot.automation.actions.exceptions import ApiException

    from adapters.hubspot.fake_workflows import Execution

    configuration = Configuration(host=fake.url)
    configuration.access_token = fake.token
    sdk = CallbacksApi(ApiClient(configuration))
    for cid in ("cb-1", "cb-2"):
        fake.workflows.executions[cid] = Execution(cid, "1", "CONTACT", {}, state="BLOCKED")
    sdk.complete("cb-1", CallbackCompletionRequest(output_fields={"owner_id": "7"}))
    assert fake.workflows.executions["cb-1"].output_fields == {"owner_id": "7"}
    sdk.complete_batch(BatchInputCallbackCompletionBatchRequest(inputs=[
        CallbackCompletionBatchRequest(callback_id="cb-2", output_fields={"owner_id": "8"})]))
    assert fake.workflows.executions["cb-2"].state == "COMPLETED"
    with pytest.raises(ApiException) as refused:
        sdk.complete("cb-404", CallbackCompletionRequest(output_fields={}))
    assert refused.value.status == 404


def test_callback_that_fails_is_retried_from_the_inbox_without_routing_again(
        fake, database_url, monkeypatch):
    monkeypatch.setattr(inbox, "RETRY_SCHEDULE", inbox.RETRY_SCHEDULE)  # process-wide
    service = Running(fake, database_url, retry_schedule=(0.2, 0.2, 0.2))
    try:
        portal = connect_portal(service, fake)
        router_id = _router(service, portal)
        cid = fake.create_object("contacts", {"email": "retry@example.org"})
        complete = service.container.extras["hubspot_callbacks"]
        calls = []

        def unreachable_once(client, outputs):  # HubSpot down past the client's retries
            calls.append(dict(outputs))
            if len(calls) == 1:
                raise TransientCrmError("HubSpot unreachable", status=503)
            complete(client, outputs)

        service.container.extras["hubspot_callbacks"] = unreachable_once
        execution, response = fake.workflows.execute(_url(service), cid,
                                                     {"router_id": router_id})
        assert response.json()["outputFields"]["hs_execution_state"] == "BLOCK"
        wait_for(lambda: execution.state == "COMPLETED", what="callback completed")
        assert execution.completions == 1
        assert execution.output_fields["owner_id"] == fake.owner_of("contacts", cid)
        assert service.decisions() == 1 and len(fake.owner_writes) == 1
        assert len(calls) == 2 and calls[0] == calls[1]
    finally:
        service.stop()
