"""The fake Salesforce holds the connector to the real rules: JWT assertions verified
against the connected app's certificate, every required header checked."""

from __future__ import annotations

import time
import uuid

import jwt
import pytest
import requests

from adapters.salesforce.auth import GRANT_TYPE
from adapters.salesforce.fake_keys import generate_key_pair


def assertion(fake, key_pem, **claims):
    base = {"iss": fake.client_id, "sub": fake.username, "aud": fake.url,
            "exp": int(time.time()) + 120}
    return jwt.encode({**base, **claims}, key_pem, algorithm="RS256")


def token(fake, value):
    return requests.post(f"{fake.url}/services/oauth2/token",
                         data={"grant_type": GRANT_TYPE, "assertion": value})


def test_a_good_assertion_gets_a_token_and_the_instance_url(fake, keys):
    resp = token(fake, assertion(fake, keys.private_key_pem))
    assert resp.status_code == 200
    assert resp.json()["instance_url"] == fake.url and resp.json()["token_type"] == "Bearer"


@pytest.mark.parametrize("claims,error", [
    ({"iss": "someone-else"}, "invalid_client_id"),
    ({"sub": "other@example.com"}, "invalid_grant"),
    ({"aud": "https://login.salesforce.com"}, "invalid_grant"),
    ({"exp": int(time.time()) - 10}, "invalid_grant"),
])
def test_bad_assertions_are_refused(fake, keys, claims, error):
    resp = token(fake, assertion(fake, keys.private_key_pem, **claims))
    assert resp.status_code == 400 and resp.json()["error"] == error


def test_an_assertion_signed_by_another_key_is_refused(fake):
    other = generate_key_pair()
    resp = token(fake, assertion(fake, other.private_key_pem))
    assert resp.status_code == 400 and resp.json()["error_description"] == "invalid assertion"


@pytest.mark.parametrize("change,code,status", [
    ({"Authorization": "Bearer nope"}, 10004, 401),
    ({"OrgId": None}, 10016, 400),
    ({"OrgId": "00D000000000001AAA"}, 10016, 400),
    ({"AuthorizationContext": "Other_Channel"}, 10005, 403),
    ({"RequestId": "not-a-uuid"}, 10016, 400),
])
def test_every_required_header_is_checked(fake, change, code, status):
    headers = {"Authorization": f"Bearer {fake.issue_token()}", "OrgId": fake.org_id,
               "AuthorizationContext": fake.authorization_context,
               "RequestId": str(uuid.uuid4())}
    headers.update(change)
    headers = {k: v for k, v in headers.items() if v is not None}

    resp = requests.post(f"{fake.url}/api/v1/route", headers=headers,
                         json={"conversationIdentifier": "c", "routingType": "Initial"})

    assert resp.status_code == status and resp.json()["code"] == code


def test_multipart_without_a_json_part_is_refused(fake):
    headers = {"Authorization": f"Bearer {fake.issue_token()}", "OrgId": fake.org_id,
               "AuthorizationContext": fake.authorization_context,
               "RequestId": str(uuid.uuid4())}
    resp = requests.post(f"{fake.url}/api/v1/route", headers=headers,
                         files={"body": (None, "{}", "application/json")})
    assert resp.status_code == 400 and resp.json()["code"] == 10100


def test_a_retried_request_id_gets_the_first_answer(fake):
    headers = {"Authorization": f"Bearer {fake.issue_token()}", "OrgId": fake.org_id,
               "AuthorizationContext": fake.authorization_context,
               "RequestId": str(uuid.uuid4())}
    body = {"conversationIdentifier": "c", "routingType": "Initial"}

    first = requests.post(f"{fake.url}/api/v1/route", headers=headers, json=body).json()
    again = requests.post(f"{fake.url}/api/v1/route", headers=headers, json=body).json()

    assert first == again and len(fake.psrs) == 1


def _patch_owners(fake, body):
    return requests.patch(f"{fake.url}/services/data/v61.0/composite/sobjects", json=body,
                          headers={"Authorization": f"Bearer {fake.issue_token()}"})


def test_the_same_record_twice_in_one_collections_request_fails_each_copy(fake):
    owner = fake.add_user("ana@example.com")
    lead, other = fake.add_record("Lead", {}), fake.add_record("Lead", {})
    record = {"attributes": {"type": "Lead"}, "id": lead, "OwnerId": owner}

    resp = _patch_owners(fake, {"allOrNone": False, "records": [
        record, {"attributes": {"type": "Lead"}, "id": other, "OwnerId": owner}, record]})

    assert resp.status_code == 200
    first, second, third = resp.json()
    assert second["success"] is True
    for failed in (first, third):
        assert failed["success"] is False
        assert failed["errors"][0]["statusCode"] == "INVALID_FIELD"
        assert "Duplicate Id" in failed["errors"][0]["message"]
    assert fake.owner_of(lead) is None and fake.owner_of(other) == owner


@pytest.mark.parametrize("body", [{}, {"allOrNone": True}, {"allOrNone": "false"}])
def test_collections_updates_must_send_all_or_none_false(fake, body):
    lead = fake.add_record("Lead", {})
    records = [{"attributes": {"type": "Lead"}, "id": lead,
                "OwnerId": fake.add_user("ana@example.com")}]

    resp = _patch_owners(fake, {**body, "records": records})

    assert resp.status_code == 400 and resp.json()[0]["errorCode"] == "INVALID_FIELD"
    assert "allOrNone" in resp.json()[0]["message"] and fake.owner_of(lead) is None
