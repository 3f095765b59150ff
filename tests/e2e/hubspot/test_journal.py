"""The webhooks journal as a way in, end to end through real HTTP against the fake."""

from __future__ import annotations

import logging
from collections import Counter

import pytest
import requests
from prometheus_client import REGISTRY

from adapters.hubspot.fake_server import FakeHubSpot, make_event
from adapters.hubspot.journal import JournalClient, OffsetExpired
from connector.service.admin_users import create_admin
from connector.service.hubspot_journal import gap_status
from connector.store.models import DecisionRow, HubSpotJournalOffsetRow
from tests.admin.seed import PASSWORD, sign_in

from .conftest import connect_portal, make_router
from .harness import CLIENT_SECRET, Running, wait_for

JOURNAL = dict(hubspot_client_id="fake-client-id", hubspot_ingest="both",
               hubspot_journal_poll_seconds=1)


class Clock:
    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def fast_fake():
    """HubSpot's limit raised so 10,000 records do not wait out 10-second windows."""
    with FakeHubSpot(rate_limit=5000, client_secret=CLIENT_SECRET) as hs:
        yield hs


def _connect(service, fake):
    return connect_portal(service, fake, ("ana", "ben", "cy", "dee"))


def _journal_entries(service) -> int:
    with service.container.db.session() as session:
        row = session.get(HubSpotJournalOffsetRow, "fake-client-id")
        return 0 if row is None else row.entries


def test_journal_10k_restart_midway_and_webhooks_at_once_write_every_owner_once(
        fast_fake, database_url):
    fake = fast_fake
    n = 10_000
    ids = [fake.create_object("contacts", {"email": f"j{i}@example.org"}) for i in range(n)]
    events = [make_event("contact.creation", int(i), portal_id=fake.portal_id) for i in ids]
    overrides = dict(JOURNAL, hubspot_burst_limit=fake.rate_limit, worker_threads=2)
    service = Running(fake, database_url, **overrides)
    try:
        portal = _connect(service, fake)
        make_router(service, portal)
        fake.journal.publish(events[:6000])
        # the same events also come by webhook, part of them: stored once, routed once
        assert set(service.sender.send_all(events[4000:7000])) == {204}
        wait_for(lambda: _journal_entries(service) >= 20, what="journal read under way")
    finally:
        service.stop()  # restarted mid-way: the offset, not the memory, says where it was
    fake.journal.publish(events[6000:])
    service = Running(fake, database_url, **overrides)
    try:
        wait_for(lambda: all(fake.owner_of("contacts", i) for i in ids), timeout=120,
                 what="every owner written")
        wait_for(lambda: service.count(DecisionRow, DecisionRow.sync_status == "synced") == n,
                 timeout=60, what="every decision synced")
        writes = Counter(w.record_id for w in fake.owner_writes)
        assert len(writes) == n and set(writes.values()) == {1}  # each owner written once
        assert service.decisions() == n
        assert service.inbox_count() == n  # one row per event, whichever way it came
        assert _journal_entries(service) == n // 100
        owners = Counter(fake.owner_of("contacts", i) for i in ids)
        assert owners == {o: n // 4 for o in portal["reps"].values()}
        crm = {k: v for k, v in fake.calls.items() if "/crm/" in k}
        owners_pages = sum(v for k, v in crm.items() if "owners" in k)
        assert owners_pages <= 2  # the owners directory, once per process start
        # batches of 100 reads and writes, whichever way the events came; journal reads
        # are exempt from the limit and not counted
        assert (sum(crm.values()) - owners_pages) / n <= 0.02
        assert fake.journal.reads > 0
    finally:
        service.stop()


def _poller(service):
    return service.container.extras["hubspot_journal"]


def test_gap_older_than_three_days_is_reported_and_reading_goes_on(fast_fake, database_url,
                                                                   caplog):
    fake = fast_fake
    clock = Clock()
    fake.journal.clock = clock
    service = Running(fake, database_url, **dict(JOURNAL, hubspot_ingest="journal",
                                                 hubspot_journal_poll_seconds=3600))
    try:
        portal = _connect(service, fake)
        make_router(service, portal)
        first = [fake.create_object("contacts", {"email": f"a{i}@x.org"}) for i in range(3)]
        fake.journal.publish([make_event("contact.creation", int(i)) for i in first],
                             per_entry=1)
        poller = _poller(service)
        assert poller.poll().entries == 3
        clock.now += 4 * 24 * 3600  # the connector was down for four days
        lost = fake.create_object("contacts", {"email": "lost@x.org"})
        fake.journal.publish([make_event("contact.creation", int(lost))])
        clock.now += 3 * 24 * 3600 + 60  # that entry expired too, unread
        later = fake.create_object("contacts", {"email": "later@x.org"})
        fake.journal.publish([make_event("contact.creation", int(later))])
        before = REGISTRY.get_sample_value("connector_hubspot_journal_gaps_total") or 0
        with caplog.at_level(logging.ERROR, logger="connector.service.hubspot_journal"):
            result = poller.poll()
        assert result.gap and "lost" in result.gap and result.entries == 1
        assert any("no longer has offset" in r.getMessage() for r in caplog.records)
        assert REGISTRY.get_sample_value("connector_hubspot_journal_gaps_total") == before + 1
        [status] = gap_status(service.container.db)
        assert status["gap_at"] is not None and "3 days" in status["gap_message"]
        wait_for(lambda: fake.owner_of("contacts", later), what="reading went on")
        assert fake.owner_of("contacts", lost) is None

        create_admin(service.container.db, "admin@acme.example", portal["account_id"],
                     PASSWORD)
        console = service.app.test_client()
        sign_in(console, "admin@acme.example")
        page = console.get("/admin/events").get_data(as_text=True)
        assert 'id="journal-gap"' in page and "events were lost" in page
    finally:
        service.stop()


def test_poller_backs_off_on_errors_and_keeps_its_offset(fast_fake, database_url):
    fake = fast_fake
    service = Running(fake, database_url, **dict(JOURNAL, hubspot_ingest="journal",
                                                 hubspot_journal_poll_seconds=3600))
    try:
        portal = _connect(service, fake)
        make_router(service, portal)
        cid = fake.create_object("contacts", {"email": "b@x.org"})
        fake.journal.publish([make_event("contact.creation", int(cid))])
        poller = _poller(service)
        slept: list[float] = []
        poller._sleep = slept.append
        fake.journal.fail_next = 3
        result = poller.poll()
        assert result.entries == 1 and slept == [1.0, 2.0, 4.0]
        fake.journal.fail_next = 10
        with pytest.raises(Exception, match="Service unavailable"):
            poller.poll()
        assert len(slept) == 3 + 4  # five attempts, four waits, then the round ends
        assert _journal_entries(service) == 1  # the offset stayed
        wait_for(lambda: fake.owner_of("contacts", cid), what="owner written")
    finally:
        service.stop()


def test_journal_client_follows_the_documented_calls(fast_fake):
    fake = fast_fake
    clock = Clock()
    fake.journal.clock = clock
    client = JournalClient(fake.client_id, fake.client_secret, base_url=fake.url, clock=clock)
    assert client.earliest() == []
    offsets = fake.journal.publish([make_event("contact.creation", i) for i in range(250)])
    entries = client.earliest(2)
    assert [e.offset for e in entries] == offsets[:2]
    assert len(client.events(entries[0])) == 100
    assert [e.offset for e in client.after(offsets[0], 100)] == offsets[1:]
    assert client.after(offsets[-1]) == []
    clock.now += 3 * 24 * 3600 + 1
    with pytest.raises(OffsetExpired):
        client.after(offsets[0])
    assert fake.rate_limited == 0 and not any("/crm/" in k for k in fake.calls)
    assert "secret" not in repr(client).replace("<secret hidden>", "")


def _client_credentials(fake, scope: str) -> str:
    return requests.post(fake.url + "/oauth/v1/token", data={
        "grant_type": "client_credentials", "client_id": fake.client_id,
        "client_secret": fake.client_secret, "scope": scope}, timeout=10).json()["access_token"]


def test_journal_refuses_other_tokens_and_unknown_offsets(fast_fake):
    fake = fast_fake
    base = fake.url + "/webhooks-journal/journal/2026-03"
    r = requests.get(base + "/earliest", headers={"Authorization": f"Bearer {fake.token}"},
                     timeout=10)
    assert r.status_code == 401 and r.json()["category"] == "INVALID_AUTHENTICATION"
    token = _client_credentials(fake, "crm.objects.contacts.read")
    r = requests.get(base + "/earliest", headers={"Authorization": f"Bearer {token}"},
                     timeout=10)
    assert r.status_code == 403 and r.json()["category"] == "MISSING_SCOPES"
    token = _client_credentials(fake, "developer.webhooks_journal.read")
    auth = {"Authorization": f"Bearer {token}"}
    fake.journal.publish([make_event("contact.creation", 1)])
    r = requests.post(base + "/batch/read", json={"inputs": ["not-a-uuid"]}, headers=auth,
                      timeout=10)
    assert r.status_code == 400 and "not-a-uuid" in r.json()["message"]
    missing = "3c90c3cc-0d44-4b50-8888-8dd25736052a"
    r = requests.post(base + "/batch/read", json={"inputs": [missing]}, headers=auth,
                      timeout=10)
    assert r.status_code == 207 and r.json()["numErrors"] == 1
    r = requests.get(base + f"/offset/{missing}/next", headers=auth, timeout=10)
    assert r.status_code == 404 and r.json()["category"] == "OBJECT_NOT_FOUND"

    [first] = fake.journal.entries
    other = fake.journal.publish([make_event("contact.creation", 2, portal_id=777)])[0]
    latest = requests.get(base + "/latest", headers=auth, timeout=10).json()
    assert latest["currentOffset"] == other and latest["url"].startswith(fake.url)
    r = requests.get(base + f"/offset/{first.offset}/next", headers=auth, timeout=10)
    assert r.json()["currentOffset"] == other
    assert requests.get(base + f"/offset/{other}/next", headers=auth,
                        timeout=10).status_code == 204  # nothing newer yet
    r = requests.post(base + "/batch/read", json={"inputs": [first.offset, other]},
                      headers=auth, timeout=10)
    assert r.status_code == 200 and len(r.json()["results"]) == 2
    local = fake.url + "/webhooks-journal/journal-local/2026-03/batch/latest/10"
    r = requests.get(local, params={"installPortalId": 777}, headers=auth, timeout=10)
    assert [e["currentOffset"] for e in r.json()["results"]] == [other]
    r = requests.get(base + "/batch/earliest/0", headers=auth, timeout=10)
    assert r.status_code == 400 and "count" in r.json()["message"]
    r = requests.get(fake.url + "/webhooks-journal/journal/2025-09/earliest", headers=auth,
                     timeout=10)
    assert r.status_code == 404 and r.json()["category"] == "OBJECT_NOT_FOUND"


def test_sdk_client_credentials_grant_against_the_fake(fast_fake):
    """The official SDK gets a client-credentials token from the fake (it cannot send a
    ``scope``, so that token reads no journal: ours asks for the journal scope)."""
    from hubspot.oauth import ApiClient, Configuration, TokensApi

    fake = fast_fake
    sdk = TokensApi(ApiClient(Configuration(host=fake.url)))
    tokens = sdk.create(grant_type="client_credentials",
                                         client_id=fake.client_id,
                                         client_secret=fake.client_secret)
    r = requests.get(fake.url + "/webhooks-journal/journal/2026-03/earliest",
                     headers={"Authorization": f"Bearer {tokens.access_token}"}, timeout=10)
    assert r.status_code == 403


def test_large_and_unreadable_entries_neither_lose_nor_stop_the_journal(fast_fake,
                                                                         database_url, caplog):
    fake = fast_fake
    service = Running(fake, database_url, **dict(JOURNAL, hubspot_ingest="journal",
                                                 hubspot_journal_poll_seconds=3600))
    try:
        fake.journal.publish([make_event("contact.creation", i) for i in range(1, 251)],
                             per_entry=250)
        fake.journal.publish([{"subscriptionType": "contact.creation"}])  # no objectId...
        fake.journal.publish([make_event("contact.creation", 999)])
        with caplog.at_level(logging.ERROR, logger="connector.service.hubspot_journal"):
            result = _poller(service).poll()
        assert (result.entries, result.stored) == (3, 251)
        assert any("skipped" in r.getMessage() for r in caplog.records)
        assert service.inbox_count() == 251
        assert _journal_entries(service) == 3
    finally:
        service.stop()
