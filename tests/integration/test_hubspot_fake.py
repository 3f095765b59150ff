"""The HubSpot client against the running fake HubSpot (real HTTP on 127.0.0.1)."""

import threading
import time

import pytest
import requests

from adapters.hubspot.auth import OAuthTokens, StaticToken
from adapters.hubspot.budget import SlidingWindowBudget, UnlimitedBudget
from adapters.hubspot.client import HubSpotClient
from adapters.hubspot.fake_server import FakeHubSpot
from adapters.hubspot.subscriptions import SubscriptionsClient
from adapters.hubspot.transport import RetryPolicy
from connector.core.errors import AuthenticationFailed
from connector.core.ports import OwnerWrite

FAST = RetryPolicy(max_attempts=8, max_total_seconds=10, backoff_base=0.01, backoff_max=0.05,
                   retry_after_cap=0.2)


@pytest.fixture
def hs():
    with FakeHubSpot() as fake:
        yield fake


def client_for(hs, **kw):
    kw.setdefault("retry", FAST)
    return HubSpotClient(StaticToken(hs.token), base_url=hs.url, **kw)


def test_batch_read_over_100_is_rejected_with_hubspot_error_shape(hs):
    resp = requests.post(f"{hs.url}/crm/v3/objects/contacts/batch/read",
                         headers={"Authorization": f"Bearer {hs.token}"},
                         json={"properties": [], "inputs": [{"id": str(i)} for i in range(101)]})
    body = resp.json()
    assert resp.status_code == 400
    assert body["status"] == "error" and body["category"] == "VALIDATION_ERROR"
    assert "100" in body["message"] and body["correlationId"]


def test_client_reads_250_records_in_three_calls(hs):
    owner = hs.add_owner("ana@example.com")
    ids = [hs.create_object("contacts", {"email": f"l{i}@x.com", "hubspot_owner_id": owner})
           for i in range(250)]
    client = client_for(hs)
    records = client.read_records("contact", [*ids, "999999"], ["email"])
    assert len(records) == 250
    assert records[ids[7]]["email"] == "l7@x.com" and records[ids[7]]["hubspot_owner_id"] == owner
    assert hs.operation_calls("batch/read") == 3 == client.calls


def test_owners_paging_and_lookup(hs):
    ids = [hs.add_owner(f"rep{i}@example.com") for i in range(250)]
    client = client_for(hs)
    assert len(client.list_owners()) == 250
    assert hs.operation_calls("owners") == 3
    assert client.owner_id_for_email("Rep249@Example.com") == ids[249]
    new = hs.add_owner("late@example.com")
    client.owners_min_refresh_interval = 0
    assert client.owner_id_for_email("late@example.com") == new


def test_bad_token_gets_hubspot_401_and_authentication_failed(hs):
    resp = requests.get(f"{hs.url}/crm/v3/owners", headers={"Authorization": "Bearer nope"})
    assert resp.status_code == 401 and resp.json()["category"] == "INVALID_AUTHENTICATION"
    client = HubSpotClient(StaticToken("nope"), base_url=hs.url, retry=FAST)
    with pytest.raises(AuthenticationFailed):
        client.owner_id_for_email("x@example.com")


def test_rate_limit_answer_matches_hubspot(hs):
    hs.faults.force_429 = 1
    resp = requests.get(f"{hs.url}/crm/v3/owners", headers={"Authorization": f"Bearer {hs.token}"})
    assert resp.status_code == 429
    body = resp.json()
    assert body["message"] == "You have reached your ten_secondly_rolling limit."
    assert (body["errorType"], body["policyName"]) == ("RATE_LIMIT", "TEN_SECONDLY_ROLLING")
    assert resp.headers["X-HubSpot-RateLimit-Max"] == "190"
    assert resp.headers["X-HubSpot-RateLimit-Remaining"] == "0"
    assert resp.headers["X-HubSpot-RateLimit-Interval-Milliseconds"] == "10000"
    assert "Retry-After" not in resp.headers


def _seed_contacts(hs, n):
    return [hs.create_object("contacts", {"email": f"c{i}@x.com"}) for i in range(n)]


def test_429_storm_is_survived_and_every_write_lands():
    with FakeHubSpot(rate_limit=15, rate_window=0.25) as hs:
        owners = [hs.add_owner(f"rep{i}@x.com") for i in range(3)]
        ids = _seed_contacts(hs, 240)
        client = client_for(hs, budget=UnlimitedBudget(),
                            retry=RetryPolicy(max_attempts=30, max_total_seconds=20,
                                              backoff_base=0.01, backoff_max=0.1,
                                              retry_after_cap=0.1))
        failures = []

        def worker(part):
            for i in range(0, len(part), 3):  # many small calls to provoke the limit
                chunk = part[i:i + 3]
                results = client.write_owners(
                    [OwnerWrite("contact", rid, owners[int(rid) % 3]) for rid in chunk])
                failures.extend(r for r in results if not r.ok)

        threads = [threading.Thread(target=worker, args=(ids[k::8],)) for k in range(8)]
        started = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
        assert time.monotonic() - started < 30
        assert failures == []
        assert hs.rate_limited > 0  # the storm happened
        assert {w.record_id for w in hs.owner_writes} == set(ids)
        assert all(hs.owner_of("contacts", rid) == owners[int(rid) % 3] for rid in ids)


def test_client_budget_prevents_429s():
    with FakeHubSpot(rate_limit=10, rate_window=0.3) as hs:
        owner = hs.add_owner("rep@x.com")
        ids = _seed_contacts(hs, 30)
        client = client_for(hs, budget=SlidingWindowBudget(10, 0.35))
        for rid in ids:
            assert client.write_owners([OwnerWrite("contact", rid, owner)])[0].ok
        assert hs.rate_limited == 0 and len(hs.owner_writes) == 30


def test_per_record_errors_and_invalid_owner(hs):
    owner = hs.add_owner("rep@x.com")
    ids = _seed_contacts(hs, 6)
    hs.faults.record_errors[ids[1]] = "CONFLICT"
    writes = [OwnerWrite("contact", rid, owner) for rid in ids]
    writes[4] = OwnerWrite("contact", ids[4], "424242")  # not an owner: HubSpot 400s the batch
    results = client_for(hs).write_owners(writes)
    assert [r.ok for r in results] == [True, False, True, True, False, True]
    assert "CONFLICT" in results[1].error and "not a valid owner id" in results[4].error
    assert hs.owner_of("contacts", ids[4]) is None and hs.owner_of("contacts", ids[5]) == owner


def test_server_errors_and_stalls_are_retried(hs):
    ids = _seed_contacts(hs, 120)
    hs.faults.error_rate = 0.4
    client = client_for(hs, timeout=(1.0, 0.3))
    assert len(client.read_records("contact", ids, ["email"])) == 120
    assert client.calls > 2  # two batches, plus the retried failures
    hs.faults.error_rate = 0.0
    hs.faults.stall_calls, hs.faults.stall_seconds = 1, 0.6
    before = client.calls
    assert len(client.read_records("contact", ids[:5], ["email"])) == 5
    assert client.calls == before + 2  # the stalled call timed out and was retried


def test_oauth_code_exchange_and_refresh_on_401(hs):
    saved = []
    provider = OAuthTokens(hs.client_id, hs.client_secret, "https://app.example/cb",
                           base_url=hs.url, on_tokens=saved.append)
    provider.exchange_code(hs.issue_auth_code())
    hs.add_owner("rep@x.com")
    client = HubSpotClient(provider, base_url=hs.url, retry=FAST)
    assert client.owner_id_for_email("rep@x.com")
    hs.expire_token(saved[0].access_token)  # revoked early: the 401 path refreshes
    assert len(client.list_owners()) == 1
    assert len(saved) == 2 and saved[1].access_token != saved[0].access_token
    with pytest.raises(AuthenticationFailed, match="authorization_code"):
        provider.exchange_code("not-a-code")


def test_subscriptions_sync_against_fake(hs):
    hs.add_subscription("deal.creation")
    hs.add_subscription("contact.creation", active=False)
    subs = SubscriptionsClient(hs.app_id, hs.developer_api_key, base_url=hs.url, retry=FAST)
    wanted = {("contact.creation", None), ("contact.propertyChange", "hubspot_owner_id")}
    changes = subs.sync(wanted)
    assert sorted(c.action for c in changes) == ["activate", "create", "deactivate"]
    state = {(s.event_type, s.property_name): s.active for s in subs.list()}
    assert state == {("deal.creation", None): False, ("contact.creation", None): True,
                     ("contact.propertyChange", "hubspot_owner_id"): True}
    assert subs.sync(wanted) == []
    bad = SubscriptionsClient(hs.app_id, "wrong", base_url=hs.url, retry=FAST)
    with pytest.raises(AuthenticationFailed):
        bad.list()


def test_batch_create_and_single_get(hs):
    auth = {"Authorization": f"Bearer {hs.token}"}
    resp = requests.post(f"{hs.url}/crm/v3/objects/tickets/batch/create", headers=auth,
                         json={"inputs": [{"properties": {"subject": "Help"}}]})
    assert resp.status_code == 201 and resp.json()["status"] == "COMPLETE"
    ticket_id = resp.json()["results"][0]["id"]
    got = requests.get(f"{hs.url}/crm/v3/objects/tickets/{ticket_id}?properties=subject",
                       headers=auth).json()
    assert got["id"] == ticket_id and got["properties"]["subject"] == "Help"
    missing = requests.get(f"{hs.url}/crm/v3/objects/tickets/999999", headers=auth)
    assert missing.status_code == 404 and missing.json()["category"] == "OBJECT_NOT_FOUND"
    assert hs.calls["GET /crm/v3/objects/{type}/{id}"] == 2


def test_retry_after_from_fake_is_honoured():
    with FakeHubSpot(send_retry_after=True) as hs:
        hs.faults.force_429 = 1
        hs.add_owner("rep@x.com")
        sleeps = []
        client = HubSpotClient(StaticToken(hs.token), base_url=hs.url, sleep=sleeps.append,
                               retry=RetryPolicy(backoff_base=0.01, retry_after_cap=30))
        assert client.owner_id_for_email("rep@x.com")
        assert sleeps and sleeps[0] >= 1.0 and hs.rate_limited == 1


def test_a_recreated_hubspot_user_gets_the_new_owner_id_on_the_retry(hs):
    """HubSpot refuses the removed user's old owner id (400 INVALID_OWNER_ID); the client
    forgets it at once, so the next lookup (the retry) finds the new id, well before the
    owners cache would expire on its own."""
    old = hs.add_owner("ana@example.com")
    first, second = (hs.create_object("contacts", {"email": f"l{n}@x.org"}) for n in (1, 2))
    client = client_for(hs, owners_min_refresh_interval=3600, owners_ttl=3600)
    assert client.owner_id_for_email("ana@example.com") == old
    assert client.write_owners([OwnerWrite("contact", first, old)])[0].ok

    hs.archive_owner(old)  # ana was removed from the portal and invited again
    new = hs.add_owner("ana@example.com")
    assert new != old
    owner = client.owner_id_for_email("ana@example.com")
    [failed] = client.write_owners([OwnerWrite("contact", second, owner)])
    assert not failed.ok and "INVALID_OWNER_ID" in failed.error and failed.retryable

    owner = client.owner_id_for_email("ana@example.com")  # what the retry does
    assert owner == new
    assert client.write_owners([OwnerWrite("contact", second, owner)])[0].ok
    assert hs.owner_of("contacts", second) == new


def test_the_budget_learns_a_lower_portal_limit_from_the_headers_and_avoids_429s():
    """A public app (or a Free/Starter portal) gets 100 calls per 10 s, not the 190 the
    budget starts with; the first answer's X-HubSpot-RateLimit-* headers teach it, so 150
    calls take two windows instead of drawing 50 429s."""
    with FakeHubSpot(rate_limit=100, rate_window=10.0) as fake:
        ids = [fake.create_object("contacts", {"email": f"l{n}@x.org"}) for n in range(3)]
        budget = SlidingWindowBudget(190, 10.0)
        client = client_for(fake, budget=budget)
        errors = []

        def work():
            try:
                for _ in range(50):
                    client.read_records("contact", ids, ["email"])
            except Exception as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

        threads = [threading.Thread(target=work) for _ in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert not errors
        assert (budget.max_calls, budget.window) == (90, 10.0)  # 90 % of what HubSpot says
        assert fake.rate_limited == 0
        assert client.calls == 150


def test_a_learned_limit_is_shared_through_redis():
    import uuid

    import redis

    from adapters.common.redis_window import RedisSlidingWindow
    from connector.core.errors import RateLimited

    r = redis.Redis.from_url("redis://127.0.0.1:6379/0", socket_connect_timeout=1)
    try:
        r.ping()
    except redis.RedisError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    key = f"test:budget:{uuid.uuid4().hex}"
    try:
        seen_it = RedisSlidingWindow(r, key, 190, 10.0, max_wait=0)
        other_process = RedisSlidingWindow(r, key, 190, 10.0, max_wait=0)
        seen_it.learn(10, 10.0)
        for _ in range(9):  # 90 % of 10
            other_process.acquire()
        with pytest.raises(RateLimited):
            other_process.acquire()
        seen_it.learn(1000, 10.0)  # never above the configured ceiling
        assert r.hget(f"{key}:limit", "limit") == b"190"
    finally:
        r.delete(key, f"{key}:limit")


def test_calls_inside_a_time_limit_share_one_deadline(hs):
    """The API's write-back looks the owner up and then writes: both together stay within
    the interactive limit, not each on its own."""
    from connector.core.errors import TransientCrmError

    owner = hs.add_owner("ana@example.com")
    cid = hs.create_object("contacts", {"email": "l@x.org"})
    policy = RetryPolicy(max_attempts=3, max_total_seconds=1.0, backoff_base=0.01,
                         backoff_max=0.02)
    hs.faults.latency = 0.7  # every call takes 0.7 s: each alone fits in 1 s, two do not

    separate = client_for(hs, retry=policy)
    assert separate.owner_id_for_email("ana@example.com") == owner
    assert separate.write_owners([OwnerWrite("contact", cid, owner)])[0].ok

    bounded = client_for(hs, retry=policy)
    started = time.monotonic()
    with bounded.time_limit():
        assert bounded.owner_id_for_email("ana@example.com") == owner
        with pytest.raises(TransientCrmError, match="timed out"):
            bounded.write_owners([OwnerWrite("contact", cid, owner)])
    assert time.monotonic() - started < 1.5
    hs.faults.latency = 0.0


@pytest.mark.parametrize(("version", "refusal", "refused"), [
    ("2026-09", "207", True), ("2026-09", "400", True), ("2026-03", "207", False),
    ("legacy", "400", False)])
def test_a_validation_rule_refuses_one_write_from_2026_09_on(version, refusal, refused):
    with FakeHubSpot(validation_refusal=refusal) as hs:
        hs.add_validation_rule("deals", "closedate", {"dealstage": "closedwon"})
        owner = hs.add_owner("ana@example.com")
        ids = [hs.create_object("0-3", {"dealstage": "closedwon" if i == 3 else "open"})
               for i in range(8)]
        client = client_for(hs, api_version=version)
        results = client.write_owners([OwnerWrite("deal", i, owner) for i in ids])
        assert [r.ok for r in results] == [not refused or n != 3 for n in range(8)]
        assert (hs.owner_of("deals", ids[3]) is None) == refused
        if refused:
            assert results[3].retryable is False
            assert results[3].error.startswith("VALIDATION_ERROR") or refusal == "400"
            assert "closedate is required because of a conditional property rule based on " \
                   "[dealstage]" in results[3].error
            # a 400 for the whole batch is bisected: log2(8) levels, not a call per record
            assert client.calls == (1 if refusal == "207" else 7)
