"""Records client against ``responses``: SOQL lookups with caching, sObject Collections
batches of at most 200, per-record errors, limits and session renewal."""

from __future__ import annotations

import json

import pytest
import responses

from adapters.salesforce.records import SalesforceRecords, soql_quote
from adapters.salesforce.retry import RetryPolicy
from connector.core.errors import RateLimited
from connector.core.ports import OwnerWrite

INSTANCE = "https://acme.my.salesforce.com"
QUERY = f"{INSTANCE}/services/data/v61.0/query/"
COLLECTIONS = f"{INSTANCE}/services/data/v61.0/composite/sobjects"


class Token:
    def __init__(self, value: str) -> None:
        self.value, self.instance_url = value, INSTANCE


class FakeAuth:
    def __init__(self) -> None:
        self.n = 1

    def token(self) -> Token:
        return Token(f"session-{self.n}")

    def renew(self, stale=None):
        self.n += 1


def make(**kw) -> SalesforceRecords:
    return SalesforceRecords(FakeAuth(), sleep=lambda s: None,
                             retry=RetryPolicy(max_attempts=3, backoff_base=0.0,
                                               limit_backoff=0.0), **kw)


def _ok(req):
    records = json.loads(req.body)["records"]
    return 200, {"Sforce-Limit-Info": "api-usage=18/15000"}, json.dumps(
        [{"id": r["id"], "success": True, "errors": []} for r in records])


@responses.activate
def test_owner_lookup_by_email_uses_soql_and_caches_hits():
    responses.get(QUERY, json={"totalSize": 1, "done": True,
                               "records": [{"attributes": {"type": "User"},
                                            "Id": "005000000000001"}]})
    records = make()

    assert records.owner_id_for_email("Ana@Example.com") == "005000000000001"
    assert records.owner_id_for_email("ana@example.com") == "005000000000001"

    assert len(responses.calls) == 1
    soql = responses.calls[0].request.params["q"]
    assert soql == ("SELECT Id FROM User WHERE IsActive = true AND Email = "
                    "'ana@example.com' ORDER BY CreatedDate LIMIT 1")
    assert responses.calls[0].request.headers["Authorization"] == "Bearer session-1"


@responses.activate
def test_queue_lookup_by_developer_name():
    responses.get(QUERY, json={"totalSize": 1, "done": True,
                               "records": [{"Id": "00G000000000001"}]})
    assert make().queue_id("Support_Tier_1") == "00G000000000001"
    assert "DeveloperName = 'Support_Tier_1'" in responses.calls[0].request.params["q"]


def test_soql_literals_are_escaped():
    assert soql_quote("o'brien\\x@example.com") == "'o\\'brien\\\\x@example.com'"


@responses.activate
def test_writes_go_in_batches_of_200_with_all_or_none_false():
    responses.add_callback(responses.PATCH, COLLECTIONS, callback=_ok)
    writes = [OwnerWrite("lead", f"00Q{i:012d}", "005000000000001") for i in range(450)]
    records = make()

    results = records.write_owners(writes)

    bodies = [json.loads(c.request.body) for c in responses.calls]
    assert [len(b["records"]) for b in bodies] == [200, 200, 50]
    assert all(b["allOrNone"] is False for b in bodies)
    assert bodies[0]["records"][0] == {"attributes": {"type": "Lead"},
                                       "id": "00Q000000000000", "OwnerId": "005000000000001"}
    assert all(r.ok for r in results) and len(results) == 450
    assert records.api_usage == (18, 15000)


@responses.activate
def test_a_record_given_twice_is_sent_once_with_its_last_owner():
    responses.add_callback(responses.PATCH, COLLECTIONS, callback=_ok)
    writes = [OwnerWrite("lead", "00Q000000000001", "005000000000001"),
              OwnerWrite("lead", "00Q000000000002", "005000000000001"),
              OwnerWrite("lead", "00Q000000000001AAA", "005000000000002")]

    results = make().write_owners(writes)

    (call,) = responses.calls
    sent = [(r["id"], r["OwnerId"]) for r in json.loads(call.request.body)["records"]]
    assert sent == [("00Q000000000002", "005000000000001"),
                    ("00Q000000000001AAA", "005000000000002")]
    assert [(r.record_id, r.ok) for r in results] == [("00Q000000000002", True),
                                                      ("00Q000000000001AAA", True)]


@responses.activate
def test_per_record_errors_fail_only_that_record():
    responses.patch(COLLECTIONS, json=[
        {"id": "00Q000000000001", "success": True, "errors": []},
        {"id": "00Q000000000002", "success": False, "errors": [
            {"statusCode": "UNABLE_TO_LOCK_ROW", "message": "locked", "fields": []}]},
        {"id": "00Q000000000003", "success": False, "errors": [
            {"statusCode": "INVALID_CROSS_REFERENCE_KEY", "message": "bad owner",
             "fields": ["OwnerId"]}]}])
    writes = [OwnerWrite("lead", f"00Q00000000000{i}", "005000000000001") for i in (1, 2, 3)]

    ok, locked, bad = make().write_owners(writes)

    assert ok.ok and not locked.ok and not bad.ok
    assert (locked.retryable, locked.error) == (True, "UNABLE_TO_LOCK_ROW: locked")
    assert (bad.retryable, bad.error) == (False, "INVALID_CROSS_REFERENCE_KEY: bad owner")


@responses.activate
def test_request_limit_exceeded_backs_off_then_surfaces_as_rate_limited():
    limit = [{"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}]
    responses.patch(COLLECTIONS, json=limit, status=403)

    with pytest.raises(RateLimited) as caught:
        make().write_owners([OwnerWrite("case", "500000000000001", "005000000000001")])

    assert caught.value.code == "REQUEST_LIMIT_EXCEEDED"
    assert len(responses.calls) == 3


@responses.activate
def test_expired_session_renews_and_retries_with_the_new_session():
    responses.patch(COLLECTIONS, status=401,
                    json=[{"message": "Session expired or invalid",
                           "errorCode": "INVALID_SESSION_ID"}])
    responses.add_callback(responses.PATCH, COLLECTIONS, callback=_ok)

    (result,) = make().write_owners([OwnerWrite("contact", "003000000000001",
                                                "005000000000001")])

    assert result.ok
    assert [c.request.headers["Authorization"] for c in responses.calls] == \
        ["Bearer session-1", "Bearer session-2"]
