"""The fake Salesforce holds the connector to the real rules: JWT assertions verified
against the connected app's certificate and Salesforce's audience, every required header
checked, sObject Collections, records, describe and SOQL answered as Salesforce does."""

from __future__ import annotations

import time
import uuid

import jwt
import pytest
import requests

from adapters.salesforce.auth import GRANT_TYPE
from adapters.salesforce.fake_keys import generate_key_pair


def assertion(fake, key_pem, **claims):
    base = {"iss": fake.client_id, "sub": fake.username, "aud": "https://login.salesforce.com",
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
    ({"aud": "https://test.salesforce.com"}, "invalid_grant"),
    ({"exp": int(time.time()) - 10}, "invalid_grant"),
])
def test_bad_assertions_are_refused(fake, keys, claims, error):
    resp = token(fake, assertion(fake, keys.private_key_pem, **claims))
    assert resp.status_code == 400 and resp.json()["error"] == error


def test_the_url_the_assertion_is_posted_to_is_not_an_accepted_audience(fake, keys):
    resp = token(fake, assertion(fake, keys.private_key_pem, aud=fake.url))
    assert resp.status_code == 400
    assert resp.json() == {"error": "invalid_grant", "error_description": "audience is invalid"}


def test_a_sandbox_accepts_the_test_audience(keys):
    from adapters.salesforce.fake_server import FakeSalesforce

    with FakeSalesforce(certificate_pem=keys.certificate_pem,
                        audiences=("https://test.salesforce.com",)) as sandbox:
        good = token(sandbox, assertion(sandbox, keys.private_key_pem,
                                        aud="https://test.salesforce.com"))
        bad = token(sandbox, assertion(sandbox, keys.private_key_pem))
    assert good.status_code == 200 and bad.json()["error"] == "invalid_grant"


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


def test_a_repeated_request_id_is_not_deduplicated(fake):
    """Salesforce documents RequestId as a reference, not an idempotency key: the same
    POST route sent twice opens two routings."""
    headers = {"Authorization": f"Bearer {fake.issue_token()}", "OrgId": fake.org_id,
               "AuthorizationContext": fake.authorization_context,
               "RequestId": str(uuid.uuid4())}
    body = {"conversationIdentifier": "c", "routingType": "Initial"}

    first = requests.post(f"{fake.url}/api/v1/route", headers=headers, json=body).json()
    again = requests.post(f"{fake.url}/api/v1/route", headers=headers, json=body).json()

    assert first["psrId"] != again["psrId"] and len(fake.routings) == 2


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


def _lead_and_owner(fake):
    return fake.add_record("Lead", {}), fake.add_user("ana@example.com")


@pytest.mark.parametrize("body", [{}, {"allOrNone": False}])
def test_collections_all_or_none_omitted_means_false(fake, body):
    lead, owner = _lead_and_owner(fake)
    records = [{"attributes": {"type": "Lead"}, "id": lead, "OwnerId": owner},
               {"attributes": {"type": "Lead"}, "id": "00Q999999999999", "OwnerId": owner}]

    resp = _patch_owners(fake, {**body, "records": records})

    assert resp.status_code == 200
    ok, failed = resp.json()
    assert ok == {"id": lead, "success": True, "errors": []}
    assert "id" not in failed and failed["success"] is False
    assert failed["errors"][0]["statusCode"] == "INVALID_CROSS_REFERENCE_KEY"
    assert fake.owner_of(lead) == owner


def test_collections_all_or_none_true_rolls_every_record_back(fake):
    lead, owner = _lead_and_owner(fake)
    records = [{"attributes": {"type": "Lead"}, "id": lead, "OwnerId": owner},
               {"attributes": {"type": "Lead"}, "id": lead[:3] + "9" * 12, "OwnerId": owner}]

    resp = _patch_owners(fake, {"allOrNone": True, "records": records})

    rolled, failed = resp.json()
    assert rolled["errors"][0]["statusCode"] == "ALL_OR_NONE_OPERATION_ROLLED_BACK"
    assert "id" not in rolled and "id" not in failed and fake.owner_of(lead) is None


def test_collections_all_or_none_must_be_a_boolean(fake):
    lead, owner = _lead_and_owner(fake)
    resp = _patch_owners(fake, {"allOrNone": "false", "records": [
        {"attributes": {"type": "Lead"}, "id": lead, "OwnerId": owner}]})
    assert resp.status_code == 400 and resp.json()[0]["errorCode"] == "JSON_PARSER_ERROR"


@pytest.mark.parametrize("sobject", ["Lead", "Case"])
def test_an_active_assignment_rule_reassigns_a_write_without_the_header(fake, sobject):
    rule_owner = fake.add_queue("Triage")
    fake.assignment_rules[sobject] = rule_owner
    record, owner = fake.add_record(sobject, {}), fake.add_user("ana@example.com")
    body = {"records": [{"attributes": {"type": sobject}, "id": record, "OwnerId": owner}]}
    headers = {"Authorization": f"Bearer {fake.issue_token()}"}
    url = f"{fake.url}/services/data/v61.0/composite/sobjects"

    requests.patch(url, json=body, headers=headers)
    assert fake.owner_of(record) == rule_owner

    requests.patch(url, json=body, headers={**headers, "Sforce-Auto-Assign": "FALSE"})
    assert fake.owner_of(record) == owner


def _rest(fake, method, path, **kw):
    return requests.request(method, f"{fake.url}/services/data/v61.0/{path}",
                            headers={"Authorization": f"Bearer {fake.issue_token()}"}, **kw)


def test_single_records_describe_and_errors_answer_in_salesforces_shapes(fake):
    lead = fake.add_record("Lead", {"Email": "x@example.com"})

    got = _rest(fake, "GET", f"sobjects/Lead/{lead}", params={"fields": "Email"}).json()
    assert got["Id"] == lead and got["Email"] == "x@example.com"
    assert got["attributes"]["type"] == "Lead"
    names = {o["name"] for o in _rest(fake, "GET", "sobjects").json()["sobjects"]}
    assert {"Lead", "Contact", "Case", "User", "Group"} <= names
    fields = {f["name"]: f for f in _rest(fake, "GET", "sobjects/Lead/describe").json()["fields"]}
    assert fields["OwnerId"]["referenceTo"] == ["Group", "User"]
    for method, path, status, code in [
            ("GET", "sobjects/Lead/00Q999999999999", 404, "NOT_FOUND"),
            ("GET", "sobjects/Widget__c/describe", 404, "NOT_FOUND"),
            ("GET", "limits", 404, "NOT_FOUND"),
            ("DELETE", "composite/sobjects", 405, "METHOD_NOT_ALLOWED")]:
        resp = _rest(fake, method, path)
        assert resp.status_code == status, path
        (error,) = resp.json()
        assert error["errorCode"] == code and error["message"]


@pytest.mark.parametrize("soql", [
    "SELECT Id, Name FROM User",
    "SELECT Id FROM User WHERE IsActive = true AND Email = 'a@b.c'",
    "SELECT Id FROM Lead"])
def test_soql_the_connector_does_not_send_is_malformed(fake, soql):
    resp = _rest(fake, "GET", "query", params={"q": soql})
    assert resp.status_code == 400 and resp.json()[0]["errorCode"] == "MALFORMED_QUERY"


def test_routing_result_follows_the_error_message_rules(fake):
    work_item = fake.add_session("conv-r")
    headers = {"Authorization": f"Bearer {fake.issue_token()}", "OrgId": fake.org_id,
               "AuthorizationContext": fake.authorization_context}
    base = {"conversationIdentifier": "conv-r", "workItemId": work_item,
            "externallyRouted": False}

    def post(body):
        return requests.post(f"{fake.url}/api/v1/routingResult", json=body,
                             headers={**headers, "RequestId": str(uuid.uuid4())})

    assert post({**base, "success": True, "errorMessage": "x"}).json()["code"] == 10033
    assert post({**base, "success": False}).json()["code"] == 10034
    assert post({**base, "success": True, "workItemId": "0Mw999999999999"}).json()["code"] \
        == 10012
    ok = post({**base, "success": True})
    assert ok.status_code == 202 and ok.json() == {"success": True}
    assert len(fake.routing_results) == 1
