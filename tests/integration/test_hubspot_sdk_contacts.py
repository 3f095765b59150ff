"""The contact search and create a ``/v1`` lead makes, made with the official
``hubspot-api-client`` against the fake too, and our client's view of the same answers.

hubspot-api-client 12 generates its API classes for the numbered paths (``/crm/v3``); the
date-versioned paths are called through its generic ``api_request``.
"""

from __future__ import annotations

import pytest
from hubspot import HubSpot
from hubspot.crm.contacts import (
    ApiException,
    BatchInputSimplePublicObjectBatchInputForCreate,
    Filter,
    FilterGroup,
    PublicObjectSearchRequest,
)

from adapters.hubspot.auth import StaticToken
from adapters.hubspot.client import HubSpotClient
from adapters.hubspot.fake_routes import ValidationRule
from adapters.hubspot.fake_server import FakeHubSpot
from adapters.hubspot.transport import RetryPolicy
from connector.core.errors import PermanentCrmError

ONCE = RetryPolicy(max_attempts=1, max_total_seconds=5)


@pytest.fixture
def hs():
    with FakeHubSpot() as fake:
        yield fake


def sdk(hs: FakeHubSpot) -> HubSpot:
    return HubSpot(access_token=hs.token, host=hs.url, base_url=hs.url)


def by_email(email: str) -> PublicObjectSearchRequest:
    return PublicObjectSearchRequest(
        filter_groups=[FilterGroup(filters=[Filter(property_name="email", operator="EQ",
                                                   value=email)])],
        properties=["email", "hubspot_owner_id"], limit=1)


def test_sdk_search_finds_a_contact_by_email_at_the_legacy_path(hs):
    owner = hs.add_owner("ana@example.com", "Ana")
    wanted = hs.create_object("contacts", {"email": "pat@example.com",
                                           "hubspot_owner_id": owner})
    hs.create_object("contacts", {"email": "other@example.com"})
    found = sdk(hs).crm.contacts.search_api.do_search(public_object_search_request=by_email(
        "PAT@example.com"))
    assert found.total == 1 and [r.id for r in found.results] == [wanted]
    assert found.results[0].properties["hubspot_owner_id"] == owner
    assert hs.calls["POST /crm/v3/objects/{type}/search"] == 1
    none = sdk(hs).crm.contacts.search_api.do_search(public_object_search_request=by_email(
        "nobody@example.com"))
    assert none.total == 0 and none.results == []


def test_sdk_and_our_client_search_at_the_dated_path(hs):
    wanted = hs.create_object("contacts", {"email": "pat@example.com"})
    answer = sdk(hs).api_request({"method": "POST",
                                  "path": "/crm/objects/2026-09/contacts/search",
                                  "body": by_email("pat@example.com").to_dict()})
    assert answer.status_code == 200, answer.text
    assert [r["id"] for r in answer.json()["results"]] == [wanted]
    ours = HubSpotClient(StaticToken(hs.token), base_url=hs.url)
    assert ours.find_contact_by_email("pat@example.com") == wanted
    assert ours.find_contact_by_email("nobody@example.com") is None
    assert hs.calls["POST /crm/objects/{version}/{type}/search"] == 3


def test_search_pages_and_refuses_what_hubspot_refuses(hs):
    for n in range(3):
        hs.create_object("contacts", {"email": f"p{n}@example.com", "company": "Acme"})
    search = sdk(hs).crm.contacts.search_api.do_search
    acme = [FilterGroup(filters=[Filter(property_name="company", operator="EQ",
                                        value="acme")])]
    first = search(public_object_search_request=PublicObjectSearchRequest(
        filter_groups=acme, limit=2))
    assert first.total == 3 and len(first.results) == 2
    rest = search(public_object_search_request=PublicObjectSearchRequest(
        filter_groups=acme, limit=2, after=first.paging.next.after))
    assert len(rest.results) == 1 and rest.paging is None
    assert sorted(first.results[0].properties) == ["createdate", "email", "firstname",
                                                   "hs_object_id", "lastmodifieddate",
                                                   "lastname"]
    too_many = [FilterGroup(filters=[Filter(property_name="email", operator="EQ",
                                            value="x")]) for _ in range(6)]
    with pytest.raises(ApiException) as refused:
        search(public_object_search_request=PublicObjectSearchRequest(
            filter_groups=too_many))
    assert refused.value.status == 400 and "VALIDATION_ERROR" in refused.value.body


def test_search_has_its_own_lower_rate_limit():
    with FakeHubSpot(search_rate_limit=2, search_rate_window=60.0) as hs:
        search = sdk(hs).crm.contacts.search_api.do_search
        for _ in range(2):
            search(public_object_search_request=by_email("pat@example.com"))
        with pytest.raises(ApiException) as limited:
            search(public_object_search_request=by_email("pat@example.com"))
        assert limited.value.status == 429 and '"policyName":"SECONDLY"' in \
            limited.value.body.replace(" ", "")
        # the portal's own limit is untouched: other CRM calls still pass
        assert sdk(hs).crm.owners.owners_api.get_page().results == []


def test_sdk_batch_create_sets_the_owner_in_the_same_call(hs):
    owner = hs.add_owner("ana@example.com", "Ana")
    created = sdk(hs).crm.contacts.batch_api.create(
        BatchInputSimplePublicObjectBatchInputForCreate(inputs=[{
            "properties": {"email": "pat@example.com", "hubspot_owner_id": owner},
            "associations": []}]))
    assert created.status == "COMPLETE"
    record = created.results[0].id
    assert hs.owner_of("contacts", record) == owner
    with pytest.raises(ApiException) as conflict:
        sdk(hs).crm.contacts.batch_api.create(BatchInputSimplePublicObjectBatchInputForCreate(
            inputs=[{"properties": {"email": "PAT@example.com"}, "associations": []}]))
    assert conflict.value.status == 409
    assert f"Contact already exists. Existing ID: {record}" in conflict.value.body


def test_our_client_creates_or_names_the_existing_contact(hs):
    owner = hs.add_owner("ana@example.com", "Ana")
    ours = HubSpotClient(StaticToken(hs.token), base_url=hs.url, retry=ONCE)
    record, created = ours.create_contact({"email": "pat@example.com",
                                           "hubspot_owner_id": owner})
    assert created and hs.owner_of("contacts", record) == owner
    assert ours.create_contact({"email": "pat@example.com"}) == (record, False)
    with pytest.raises(PermanentCrmError, match="INVALID_OWNER_ID"):
        ours.create_contact({"email": "new@example.com", "hubspot_owner_id": "999"})


def test_a_portal_validation_rule_refuses_the_create_naming_the_property(hs):
    hs.validation_rules.append(ValidationRule("contacts", "phone", {}))
    ours = HubSpotClient(StaticToken(hs.token), base_url=hs.url, retry=ONCE)
    with pytest.raises(PermanentCrmError, match="A value for phone must be provided"):
        ours.create_contact({"email": "pat@example.com"})
    answer = sdk(hs).api_request({"method": "POST",
                                  "path": "/crm/objects/2026-09/contacts/batch/create",
                                  "body": {"inputs": [{"properties": {"email": "x@example.com"},
                                                       "associations": []}]}})
    assert answer.status_code == 400
    assert answer.json()["errors"][0]["code"] == "MISSING_REQUIRED_PROPERTY"
    assert hs.objects["contacts"] == {}
