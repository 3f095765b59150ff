"""HubSpotClient against ``responses``: batching, multi-status, retries, auth refresh, owners."""

import json

import pytest
import requests
import responses

from adapters.hubspot.auth import StaticToken
from adapters.hubspot.client import HubSpotClient
from adapters.hubspot.transport import RetryPolicy
from connector.core.errors import (
    AuthenticationFailed,
    PermanentCrmError,
    RateLimited,
    TransientCrmError,
)
from connector.core.ports import OwnerWrite

BASE = "https://hubspot.test"
READ = f"{BASE}/crm/objects/2026-09/contacts/batch/read"
UPDATE = f"{BASE}/crm/objects/2026-09/contacts/batch/update"
OWNERS = f"{BASE}/crm/owners/2026-09"


class FakeClock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


@pytest.fixture
def rsps():
    with responses.RequestsMock() as mock:
        yield mock


@pytest.fixture
def sleeps():
    return []


def make_client(sleeps, token=None, **kw):
    return HubSpotClient(token or StaticToken("tok"), base_url=BASE, sleep=sleeps.append,
                         retry=RetryPolicy(max_attempts=4, backoff_base=0.01, backoff_max=0.02),
                         **kw)


def batch_read_echo(request):
    body = json.loads(request.body)
    results = [{"id": i["id"], "properties": {"email": f"{i['id']}@x.com",
                                             "hubspot_owner_id": None}} for i in body["inputs"]]
    return 200, {}, json.dumps({"status": "COMPLETE", "results": results})


def test_read_batches_250_ids_into_3_calls_of_at_most_100(rsps, sleeps):
    rsps.add_callback(responses.POST, READ, callback=batch_read_echo)
    client = make_client(sleeps)
    ids = [str(i) for i in range(250)] + ["5", "6"]  # duplicates are read once
    records = client.read_records("contact", ids, ["email"])
    assert len(records) == 250 and records["249"]["email"] == "249@x.com"
    sent = [json.loads(c.request.body) for c in rsps.calls]
    assert [len(b["inputs"]) for b in sent] == [100, 100, 50]
    assert sent[0]["properties"] == ["email", "hubspot_owner_id"]
    assert client.calls == 3
    assert rsps.calls[0].request.headers["Authorization"] == "Bearer tok"


def test_read_207_leaves_missing_ids_out(rsps, sleeps):
    rsps.add(responses.POST, READ, status=207, json={
        "status": "COMPLETE", "results": [{"id": "1", "properties": {"hubspot_owner_id": "9"}}],
        "numErrors": 1, "errors": [{"status": "error", "category": "OBJECT_NOT_FOUND",
                                    "message": "gone", "context": {"ids": ["2"]}}]})
    assert make_client(sleeps).read_records("contacts", ["1", "2"], []) == \
        {"1": {"hubspot_owner_id": "9"}}


def test_429_retry_after_is_honoured(rsps, sleeps):
    rsps.add(responses.POST, READ, status=429, headers={"Retry-After": "3"},
             json={"status": "error", "message": "You have reached your ten_secondly_rolling "
                   "limit.", "errorType": "RATE_LIMIT", "policyName": "TEN_SECONDLY_ROLLING"})
    rsps.add_callback(responses.POST, READ, callback=batch_read_echo)
    client = make_client(sleeps)
    assert "1" in client.read_records("contact", ["1"], ["email"])
    assert len(sleeps) == 1 and sleeps[0] >= 3
    assert client.calls == 2


def test_429_without_retry_after_waits_from_rate_limit_headers(rsps, sleeps):
    rsps.add(responses.POST, READ, status=429, json={"errorType": "RATE_LIMIT"}, headers={
        "X-HubSpot-RateLimit-Interval-Milliseconds": "10000",
        "X-HubSpot-RateLimit-Remaining": "0", "X-HubSpot-RateLimit-Max": "190"})
    rsps.add_callback(responses.POST, READ, callback=batch_read_echo)
    make_client(sleeps).read_records("contact", ["1"], [])
    assert sleeps[0] >= 1.0


def test_429_storm_exhausts_attempts_and_raises_rate_limited(rsps, sleeps):
    rsps.add(responses.POST, READ, status=429, headers={"Retry-After": "1"},
             json={"errorType": "RATE_LIMIT", "policyName": "TEN_SECONDLY_ROLLING"})
    client = make_client(sleeps)
    with pytest.raises(RateLimited) as info:
        client.read_records("contact", ["1"], [])
    assert info.value.retry_after == 1.0 and info.value.status == 429
    assert client.calls == 4 and len(sleeps) == 3


def test_daily_limit_is_not_retried(rsps, sleeps):
    rsps.add(responses.POST, READ, status=429, json={"errorType": "RATE_LIMIT",
                                                    "policyName": "DAILY"})
    client = make_client(sleeps)
    with pytest.raises(RateLimited):
        client.read_records("contact", ["1"], [])
    assert client.calls == 1


def test_5xx_then_success(rsps, sleeps):
    rsps.add(responses.POST, READ, status=502, body="bad gateway")
    rsps.add(responses.POST, READ, status=503, json={"message": "unavailable"})
    rsps.add_callback(responses.POST, READ, callback=batch_read_echo)
    client = make_client(sleeps)
    assert client.read_records("contact", ["1"], []) == \
        {"1": {"email": "1@x.com", "hubspot_owner_id": None}}
    assert client.calls == 3 and len(sleeps) == 2 and all(s <= 0.02 for s in sleeps)


def test_persistent_5xx_raises_transient(rsps, sleeps):
    rsps.add(responses.POST, READ, status=500, json={"message": "boom"})
    with pytest.raises(TransientCrmError) as info:
        make_client(sleeps).read_records("contact", ["1"], [])
    assert info.value.retryable and info.value.status == 500


def test_connection_error_is_retried(rsps, sleeps):
    rsps.add(responses.POST, READ, body=requests.ConnectionError("refused"))
    rsps.add_callback(responses.POST, READ, callback=batch_read_echo)
    assert "1" in make_client(sleeps).read_records("contact", ["1"], [])


def test_total_time_bound_stops_retrying(rsps):
    rsps.add(responses.POST, READ, status=503)
    client = HubSpotClient(StaticToken("tok"), base_url=BASE, retry=RetryPolicy(
        max_attempts=100, max_total_seconds=0.15, backoff_base=0.05, backoff_max=0.05))
    with pytest.raises(TransientCrmError):
        client.read_records("contact", ["1"], [])
    assert 2 <= client.calls < 20


def test_400_is_permanent_and_not_retried(rsps, sleeps):
    rsps.add(responses.POST, READ, status=400, json={
        "status": "error", "message": "Invalid input", "category": "VALIDATION_ERROR"})
    client = make_client(sleeps)
    with pytest.raises(PermanentCrmError) as info:
        client.read_records("contact", ["1"], [])
    assert client.calls == 1 and info.value.code == "VALIDATION_ERROR"


def test_unknown_object_type_is_permanent(sleeps):
    with pytest.raises(PermanentCrmError, match="unsupported"):
        make_client(sleeps).read_records("Lead", ["1"], [])


class RefreshingToken:
    def __init__(self):
        self.token, self.refreshes = "old", 0

    def access_token(self):
        return self.token

    def refresh(self):
        self.refreshes += 1
        self.token = "new"
        return True


def test_401_refreshes_token_once_and_retries(rsps, sleeps):
    def needs_new_token(request):
        ok = request.headers["Authorization"] == "Bearer new"
        return (200, {}, json.dumps({"results": []})) if ok else (401, {}, json.dumps(
            {"status": "error", "message": "expired", "category": "EXPIRED_AUTHENTICATION"}))

    rsps.add_callback(responses.POST, READ, callback=needs_new_token)
    token = RefreshingToken()
    client = make_client(sleeps, token=token)
    assert client.read_records("contact", ["1"], []) == {}
    assert token.refreshes == 1 and client.calls == 2


def test_401_after_refresh_raises_authentication_failed(rsps, sleeps):
    rsps.add(responses.POST, READ, status=401, json={"category": "INVALID_AUTHENTICATION"})
    token = RefreshingToken()
    client = make_client(sleeps, token=token)
    with pytest.raises(AuthenticationFailed):
        client.read_records("contact", ["1"], [])
    assert token.refreshes == 1 and client.calls == 2


def test_401_with_static_token_fails_without_retry(rsps, sleeps):
    rsps.add(responses.POST, READ, status=401, json={"category": "INVALID_AUTHENTICATION"})
    client = make_client(sleeps, token=StaticToken("secret-token-value"))
    with pytest.raises(AuthenticationFailed) as info:
        client.read_records("contact", ["1"], [])
    assert client.calls == 1 and "secret-token-value" not in str(info.value)
    assert "secret-token-value" not in repr(client) + repr(StaticToken("secret-token-value"))


def test_write_owners_207_gives_per_record_results(rsps, sleeps):
    rsps.add(responses.POST, UPDATE, status=207, json={
        "status": "COMPLETE", "results": [{"id": "1"}], "numErrors": 1,
        "errors": [{"status": "error", "category": "OBJECT_NOT_FOUND", "message": "no such",
                    "context": {"ids": ["2"]}}]})
    results = make_client(sleeps).write_owners(
        [OwnerWrite("contact", "1", "77"), OwnerWrite("contact", "2", "77")])
    assert [(r.record_id, r.ok, r.retryable) for r in results] == \
        [("1", True, False), ("2", False, False)]
    assert "OBJECT_NOT_FOUND" in results[1].error
    sent = json.loads(rsps.calls[0].request.body)
    assert sent == {"inputs": [{"id": "1", "properties": {"hubspot_owner_id": "77"}},
                               {"id": "2", "properties": {"hubspot_owner_id": "77"}}]}


def test_write_owners_batches_per_type_and_keeps_last_duplicate(rsps, sleeps):
    def ok(request):
        body = json.loads(request.body)
        return 200, {}, json.dumps({"results": [{"id": i["id"]} for i in body["inputs"]]})

    rsps.add_callback(responses.POST, UPDATE, callback=ok)
    rsps.add_callback(responses.POST, f"{BASE}/crm/objects/2026-09/tickets/batch/update",
                      callback=ok)
    writes = [OwnerWrite("contact", str(i), "7") for i in range(150)]
    writes += [OwnerWrite("ticket", "t1", "7"), OwnerWrite("contact", "0", "8")]
    results = make_client(sleeps).write_owners(writes)
    assert len(results) == len(writes) and all(r.ok for r in results)
    bodies = [json.loads(c.request.body) for c in rsps.calls]
    assert sorted(len(b["inputs"]) for b in bodies) == [1, 50, 100]
    first = next(i for b in bodies for i in b["inputs"] if i["id"] == "0")
    assert first["properties"]["hubspot_owner_id"] == "8"


def test_write_owners_bisects_a_400_to_isolate_the_bad_record(rsps, sleeps):
    def reject_owner_99(request):
        inputs = json.loads(request.body)["inputs"]
        if any(i["properties"]["hubspot_owner_id"] == "99" for i in inputs):
            return 400, {}, json.dumps({"status": "error", "category": "VALIDATION_ERROR",
                                        "message": "99 is not a valid owner id"})
        return 200, {}, json.dumps({"results": [{"id": i["id"]} for i in inputs]})

    rsps.add_callback(responses.POST, UPDATE, callback=reject_owner_99)
    writes = [OwnerWrite("contact", str(i), "99" if i == 5 else "7") for i in range(8)]
    results = make_client(sleeps).write_owners(writes)
    assert [r.ok for r in results] == [i != 5 for i in range(8)]
    assert "not a valid owner id" in results[5].error and not results[5].retryable
    assert len(rsps.calls) <= 1 + 2 * 3  # log2(8) levels, not one call per record


def test_write_owners_raises_when_every_batch_failed(rsps, sleeps):
    rsps.add(responses.POST, UPDATE, status=503)
    with pytest.raises(TransientCrmError):
        make_client(sleeps).write_owners([OwnerWrite("contact", "1", "7")])


def test_write_owners_reports_failed_batch_when_another_succeeded(rsps, sleeps):
    rsps.add(responses.POST, UPDATE, status=503)
    rsps.add(responses.POST, f"{BASE}/crm/objects/2026-09/deals/batch/update",
             json={"results": [{"id": "d1"}]})
    results = make_client(sleeps).write_owners(
        [OwnerWrite("contact", "1", "7"), OwnerWrite("deal", "d1", "7")])
    assert (results[0].ok, results[0].retryable) == (False, True)
    assert results[1].ok


def owners_page(request):
    after = int(request.params.get("after") or 0)
    owners = [{"id": str(i), "email": f"rep{i}@x.com"} for i in range(after, min(after + 2, 5))]
    body = {"results": owners}
    if after + 2 < 5:
        body["paging"] = {"next": {"after": str(after + 2)}}
    return 200, {}, json.dumps(body)


def test_owners_are_paged_cached_and_refreshed_on_a_miss(rsps, sleeps):
    rsps.add_callback(responses.GET, OWNERS, callback=owners_page)
    clock = FakeClock()
    client = make_client(sleeps, clock=clock, owners_min_refresh_interval=60)
    assert client.owner_id_for_email("REP4@x.com") == "4"
    assert client.calls == 3  # pages of 2: 0-1, 2-3, 4
    assert client.owner_id_for_email("rep1@x.com") == "1"
    assert client.calls == 3  # cached
    assert client.owner_id_for_email("new@x.com") is None
    assert client.calls == 3  # miss within the minimum interval: no reload
    clock.now += 61
    assert client.owner_id_for_email("new@x.com") is None
    assert client.calls == 6  # reloaded after the interval


def test_retry_after_is_parsed_as_seconds_or_http_date():
    from datetime import UTC, datetime
    from email.utils import format_datetime

    from adapters.hubspot.transport import parse_retry_after

    now = 1_700_000_000.0
    assert parse_retry_after("3", now=now) == 3.0
    assert parse_retry_after(" 0 ", now=now) == 0.0
    date = format_datetime(datetime.fromtimestamp(now + 7, UTC), usegmt=True)
    assert date.endswith("GMT")
    assert parse_retry_after(date, now=now) == pytest.approx(7.0)
    past = format_datetime(datetime.fromtimestamp(now - 30, UTC), usegmt=True)
    assert parse_retry_after(past, now=now) == 0.0
    assert parse_retry_after("soon", now=now) is None
    assert parse_retry_after(None) is None


def test_429_with_an_http_date_retry_after_waits_until_then(rsps, sleeps):
    import time
    from email.utils import formatdate

    rsps.add(responses.POST, READ, status=429,
             headers={"Retry-After": formatdate(time.time() + 4, usegmt=True)},
             json={"status": "error", "message": "slow down", "policyName": "SECONDLY"})
    rsps.add(responses.POST, READ, json={"results": []})
    client = HubSpotClient(StaticToken("t"), base_url=BASE, retry=RetryPolicy(
        max_attempts=3, backoff_base=0.0, backoff_max=0.0), sleep=sleeps.append)
    assert client.read_records("contact", ["1"], []) == {}
    assert len(sleeps) == 1 and 2.5 <= sleeps[0] <= 4.0


def test_owners_cache_expires_after_its_ttl_even_on_a_hit(rsps, sleeps):
    rsps.add_callback(responses.GET, OWNERS, callback=owners_page)
    clock = FakeClock()
    client = make_client(sleeps, clock=clock, owners_min_refresh_interval=60, owners_ttl=600)
    assert client.owner_id_for_email("rep1@x.com") == "1"
    clock.now += 599
    assert client.owner_id_for_email("rep1@x.com") == "1"
    assert client.calls == 3
    clock.now += 1
    assert client.owner_id_for_email("rep1@x.com") == "1"
    assert client.calls == 6  # reloaded: ten minutes old


def test_associations_follow_each_records_paging(rsps, sleeps):
    path = f"{BASE}/crm/associations/2026-09/contacts/companies/batch/read"
    pages = {("1", None): (["11", "12"], "p2"), ("1", "p2"): (["13"], None),
             ("2", None): (["21"], None)}
    sent = []

    def answer(request):
        inputs = json.loads(request.body)["inputs"]
        sent.append(inputs)
        results = []
        for item in inputs:
            if (item["id"], item.get("after")) not in pages:
                continue
            targets, after = pages[(item["id"], item.get("after"))]
            result = {"from": {"id": item["id"]},
                      "to": [{"toObjectId": int(t), "associationTypes": []} for t in targets]}
            if after:
                result["paging"] = {"next": {"after": after}}
            results.append(result)
        return 200, {}, json.dumps({"status": "COMPLETE", "results": results})

    rsps.add_callback(responses.POST, path, callback=answer)
    found = make_client(sleeps).read_associations("0-1", ["1", "2", "3", "1"], "company")
    assert found == {"1": ["11", "12", "13"], "2": ["21"]}
    assert sent == [[{"id": "1"}, {"id": "2"}, {"id": "3"}], [{"id": "1", "after": "p2"}]]


def test_legacy_client_calls_the_v3_and_v4_paths(rsps, sleeps):
    rsps.add(responses.GET, f"{BASE}/crm/v3/owners", json={"results": [
        {"id": "5", "email": "ana@x.com", "type": "PERSON"}]})
    rsps.add(responses.POST, f"{BASE}/crm/v4/associations/deals/contacts/batch/read",
             json={"results": []})
    client = make_client(sleeps, api_version="legacy")
    assert client.owner_id_for_email("ana@x.com") == "5"
    assert client.read_associations("deal", ["1"], "0-1") == {}
    with pytest.raises(ValueError, match="api_version"):
        make_client(sleeps, api_version="v3")
