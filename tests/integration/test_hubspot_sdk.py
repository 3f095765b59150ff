"""Every call the connector makes to HubSpot, made with the official ``hubspot-api-client``
against the fake as well: what works for our client must work for HubSpot's own.

hubspot-api-client 12 (the newest release) generates its API classes for the numbered paths
only (``/crm/v3``, ``/crm/v4``), so the date-versioned paths are called through its generic
``client.api_request``, which signs and sends any path the same way.
"""

from __future__ import annotations

import pytest
from hubspot import HubSpot
from hubspot.crm.associations.v4 import BatchInputPublicFetchAssociationsBatchRequest
from hubspot.crm.objects import (
    BatchInputSimplePublicObjectBatchInput,
    BatchReadInputSimplePublicObjectId,
)
from hubspot.crm.owners import ApiException as OwnersApiException
from hubspot.oauth import ApiException as OAuthApiException

from adapters.hubspot.auth import OAuthTokens, StaticToken
from adapters.hubspot.client import HubSpotClient
from adapters.hubspot.fake_server import FakeHubSpot
from adapters.hubspot.paths import ApiPaths
from adapters.hubspot.subscriptions import SubscriptionsClient
from adapters.hubspot.transport import RetryPolicy
from connector.core.ports import OwnerWrite

REDIRECT = "https://connector.example.com/oauth/hubspot/callback"
FAST = RetryPolicy(max_attempts=3, max_total_seconds=10, backoff_base=0.01, backoff_max=0.02)


@pytest.fixture
def hs():
    with FakeHubSpot(redirect_urls=[REDIRECT]) as fake:
        yield fake


@pytest.fixture
def portal(hs):
    """Two reps (PERSON owners), a queue owner, two contacts and a company."""
    ana = hs.add_owner("ana@example.com", "Ana")
    ben = hs.add_owner("ben@example.com", "Ben")
    queue = hs.add_owner("inbound@example.com", owner_type="QUEUE")
    c1 = hs.create_object("contacts", {"email": "lead1@example.com"})
    c2 = hs.create_object("0-1", {"email": "lead2@example.com"})
    company = hs.create_object("companies", {"name": "Acme"})
    hs.associate("contacts", c1, "companies", company)
    return {"ana": ana, "ben": ben, "queue": queue, "contacts": [c1, c2], "company": company}


def sdk(hs: FakeHubSpot) -> HubSpot:
    # ``host`` is where the generated API classes send; ``base_url`` is api_request's
    return HubSpot(access_token=hs.token, host=hs.url, base_url=hs.url)


@pytest.mark.parametrize("object_type", ["contacts", "0-1"])
def test_sdk_batch_read_and_update_at_the_legacy_paths(hs, portal, object_type):
    api = sdk(hs).crm.objects.batch_api
    ids = portal["contacts"]
    read = api.read(object_type, BatchReadInputSimplePublicObjectId(
        properties=["email", "hubspot_owner_id"], properties_with_history=[],
        inputs=[{"id": i} for i in ids]))
    assert sorted(r.id for r in read.results) == sorted(ids)
    updated = api.update(object_type, BatchInputSimplePublicObjectBatchInput(
        inputs=[{"id": i, "properties": {"hubspot_owner_id": portal["ana"]}} for i in ids]))
    assert updated.status == "COMPLETE"
    assert {hs.owner_of("contacts", i) for i in ids} == {portal["ana"]}


def test_sdk_owners_paging_trailing_slash_and_by_id(hs, portal):
    owners = sdk(hs).crm.owners.owners_api
    page = owners.get_page(limit=2, archived=False)  # GET /crm/v3/owners/ (trailing slash)
    assert len(page.results) == 2 and page.paging.next.after
    rest = owners.get_page(limit=2, after=page.paging.next.after, archived=False)
    everyone = page.results + rest.results
    assert {(o.email, o.type) for o in everyone} == {
        ("ana@example.com", "PERSON"), ("ben@example.com", "PERSON"),
        ("inbound@example.com", "QUEUE")}
    assert owners.get_by_id(int(portal["ben"])).email == "ben@example.com"
    with pytest.raises(OwnersApiException) as missing:
        owners.get_by_id(999999)
    assert missing.value.status == 404


def test_sdk_associations_batch_read_at_the_v4_path(hs, portal):
    api = sdk(hs).crm.associations.v4.batch_api
    answer = api.get_page("contacts", "companies", BatchInputPublicFetchAssociationsBatchRequest(
        inputs=[{"id": i} for i in portal["contacts"]]))
    assert [(r._from.id, [str(t.to_object_id) for t in r.to]) for r in answer.results] == [
        (portal["contacts"][0], [portal["company"]])]


def test_sdk_oauth_exchange_checks_the_redirect_uri(hs):
    tokens = sdk(hs).oauth.tokens_api
    install = OAuthTokens(hs.client_id, hs.client_secret, REDIRECT).install_url(
        ["crm.objects.contacts.read"], state="s")
    with pytest.raises(OAuthApiException) as wrong:
        tokens.create(grant_type="authorization_code", code=hs.authorize(install),
                      redirect_uri=REDIRECT + "/other", client_id=hs.client_id,
                      client_secret=hs.client_secret)
    assert wrong.value.status == 400 and "BAD_REDIRECT_URI" in wrong.value.body
    made = tokens.create(grant_type="authorization_code", code=hs.authorize(install),
                         redirect_uri=REDIRECT, client_id=hs.client_id,
                         client_secret=hs.client_secret)
    info = sdk(hs).oauth.access_tokens_api.get(made.access_token)
    assert info.hub_id == hs.portal_id and info.scopes == ["crm.objects.contacts.read"]


def test_an_install_from_an_unregistered_redirect_url_is_refused(hs):
    install = OAuthTokens(hs.client_id, hs.client_secret, "https://elsewhere.example.com/cb")\
        .install_url(["oauth"], state="s")
    with pytest.raises(ValueError, match="doesn't match the app's registered redirect URL"):
        hs.authorize(install)


def test_sdk_webhook_subscriptions(hs):
    hs.add_subscription("contact.creation")
    api = HubSpot(api_key=hs.developer_api_key, host=hs.url).webhooks.subscriptions_api
    assert [s.event_type for s in api.get_all(hs.app_id).results] == ["contact.creation"]
    assert SubscriptionsClient(hs.app_id, hs.developer_api_key, base_url=hs.url).list()[0]\
        .event_type == "contact.creation"


@pytest.mark.parametrize("version", ["2026-03", "2026-09"])
def test_sdk_reaches_every_dated_path_the_client_calls(hs, portal, version):
    paths, client = ApiPaths(version), sdk(hs)
    ids = portal["contacts"]
    read = client.api_request({"method": "POST", "path": paths.batch_read("0-1"), "body": {
        "properties": ["email"], "inputs": [{"id": i} for i in ids]}})
    assert read.status_code == 200 and len(read.json()["results"]) == 2
    update = client.api_request({"method": "POST", "path": paths.batch_update("contacts"),
                                 "body": {"inputs": [{"id": ids[0], "properties": {
                                     "hubspot_owner_id": portal["ben"]}}]}})
    assert update.status_code == 200 and hs.owner_of("contacts", ids[0]) == portal["ben"]
    owners = client.api_request({"method": "GET", "path": paths.owners() + "/",
                                 "qs": {"limit": 10}})
    assert owners.status_code == 200 and len(owners.json()["results"]) == 3
    assert owners.headers["X-HubSpot-RateLimit-Secondly"] == "19"
    assert int(owners.headers["X-HubSpot-RateLimit-Secondly-Remaining"]) < 19
    links = client.api_request({"method": "POST", "path": paths.associations_batch_read(
        "contacts", "0-2"), "body": {"inputs": [{"id": ids[0]}]}})
    assert links.json()["results"][0]["to"][0]["toObjectId"] == int(portal["company"])


@pytest.mark.parametrize("version", ["legacy", "2026-03", "2026-09"])
def test_our_client_makes_the_same_calls(hs, portal, version):
    client = HubSpotClient(StaticToken(hs.token), base_url=hs.url, api_version=version,
                           retry=FAST)
    ids = portal["contacts"]
    assert set(client.read_records("0-1", ids, ["email"])) == set(ids)
    assert client.owner_id_for_email("ana@example.com") == portal["ana"]
    assert client.owner_id_for_email("inbound@example.com") is None  # a queue, not a rep
    results = client.write_owners([OwnerWrite("contact", i, portal["ben"]) for i in ids])
    assert all(r.ok for r in results)
    assert client.read_associations("contact", ids, "company") == {ids[0]: [portal["company"]]}
    dated = version != "legacy"
    assert any(("/{version}/" in key) == dated for key in hs.calls if "objects" in key)
    assert all(("/{version}" in key) == dated for key in hs.calls
               if key.startswith(("POST /crm", "GET /crm")))


def test_anything_not_implemented_gets_hubspots_error_shape(hs):
    response = sdk(hs).api_request({"method": "GET", "path": "/crm/objects/2026-09/contacts"})
    body = response.json()
    assert response.status_code == 404
    assert body["status"] == "error" and body["category"] == "OBJECT_NOT_FOUND"
    assert body["message"] and body["correlationId"]
    unknown_version = sdk(hs).api_request({"method": "POST", "path":
                                           "/crm/objects/2024-01/contacts/batch/read",
                                           "body": {"inputs": []}})
    assert unknown_version.status_code == 404
    wrong_method = sdk(hs).api_request({"method": "DELETE", "path": "/crm/owners/2026-09"})
    assert wrong_method.status_code == 405 and wrong_method.json()["status"] == "error"


def test_sdk_sees_a_validation_refusal_as_hubspot_documents_it(hs, portal):
    hs.add_validation_rule("contacts", "lead_tier", {"hs_lead_status": "QUALIFIED"})
    refused = hs.create_object("contacts", {"hs_lead_status": "QUALIFIED"})
    ok = portal["contacts"][0]
    body = {"inputs": [{"id": i, "properties": {"hubspot_owner_id": portal["ana"]}}
                       for i in (ok, refused)]}
    dated = sdk(hs).api_request({"method": "POST", "body": body,
                                 "path": ApiPaths("2026-09").batch_update("0-1")})
    assert dated.status_code == 207
    [error] = dated.json()["errors"]
    assert (error["category"], error["id"], error["context"]["ids"]) == (
        "VALIDATION_ERROR", refused, [refused])
    assert error["errors"][0]["code"] == "MISSING_CONDITIONAL_REQUIRED_PROPERTY"
    assert error["errors"][0]["context"] == {"propertyName": ["lead_tier"]}
    assert hs.owner_of("contacts", ok) == portal["ana"]
    assert hs.owner_of("contacts", refused) is None
    # the legacy path does not apply the portal's rules (HubSpot enforces them from 2026-09)
    legacy = sdk(hs).crm.objects.batch_api.update(
        "contacts", BatchInputSimplePublicObjectBatchInput(inputs=body["inputs"]))
    assert legacy.status == "COMPLETE" and hs.owner_of("contacts", refused) == portal["ana"]


def test_a_create_without_a_required_field_is_refused_from_2026_09(hs):
    hs.add_validation_rule("contacts", "firstname")  # required by the record creator
    inputs = [{"properties": {"email": "a@example.com", "firstname": "Ada"}},
              {"properties": {"email": "b@example.com"}}]
    dated = sdk(hs).api_request({"method": "POST", "body": {"inputs": inputs},
                                 "path": ApiPaths("2026-09").objects("contacts")
                                 + "/batch/create"})
    assert dated.status_code == 400 and dated.json()["errors"] == [{
        "code": "MISSING_REQUIRED_PROPERTY", "message": "A value for firstname must be provided",
        "context": {"propertyName": ["firstname"]}}]
    assert hs.objects["contacts"] == {}
    made = sdk(hs).crm.objects.batch_api.create("contacts", {"inputs": inputs})
    assert len(made.results) == 2  # the legacy path does not check
