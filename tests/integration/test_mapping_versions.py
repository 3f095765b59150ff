"""Versioned mappings in the database: save, history, diff, rollback, export, and running
executors picking up a saved version for the next event without a restart."""

from __future__ import annotations

import threading

import pytest

from connector.bootstrap import bootstrap
from connector.jobs import inbox
from connector.jobs.executors import InlineExecutor, ThreadExecutor
from connector.mapping import MappingError, MappingRegistry, versions
from connector.store import mapping_repository
from tests.support.waiting import wait_until

DEAL = "mappings/hubspot/deal.yaml"


def deal_text(db, extra: str = "") -> str:
    return versions.get_version(db, "hubspot", "deal", 0).yaml_text + extra


def test_the_file_is_version_zero_until_an_admin_saves(container):
    current = versions.get_version(container.db, "hubspot", "deal")
    assert (current.version, current.label, current.author) == (0, "file", "file")
    assert current.comment.endswith("hubspot/deal.yaml")
    assert [v.version for v in versions.list_versions(container.db, "hubspot", "deal")] == [0]


def test_save_records_author_comment_time_and_text(container):
    db = container.db
    text = deal_text(db, "  close_date: {source: closedate, type: date}\n")
    saved = versions.save_version(db, "hubspot", "deal", text, "ana@example.com",
                                  "route on close date")
    assert (saved.version, saved.author, saved.comment) == (1, "ana@example.com",
                                                            "route on close date")
    assert saved.created_at is not None and saved.created_at.tzinfo is not None
    again = versions.get_version(db, "hubspot", "deal")
    assert again == saved
    assert "closedate" in again.mapping().properties
    history = versions.list_versions(db, "hubspot", "deal")
    assert [(v.version, v.author) for v in history] == [(1, "ana@example.com"), (0, "file")]


def test_an_invalid_version_is_refused_and_nothing_is_stored(container):
    db = container.db
    bad = deal_text(db, "  close_date: {source: closedate, type: dat}\n")
    with pytest.raises(MappingError) as info:
        versions.save_version(db, "hubspot", "deal", bad, "ana", "typo")
    assert info.value.errors == [
        "hubspot/deal (draft):13: field 'close_date': type must be one of string, number, "
        "integer, boolean, date, datetime, enum; got 'dat'"]
    assert info.value.issues[0].line == 13
    assert versions.get_version(db, "hubspot", "deal").version == 0


def test_a_version_must_keep_its_source_and_object(container):
    text = deal_text(container.db).replace("object: deal", "object: ticket")
    with pytest.raises(MappingError, match=r"object must be 'deal' \(the mapping being "
                                           r"edited\); got 'ticket'"):
        versions.save_version(container.db, "hubspot", "deal", text, "ana")


def test_unknown_mappings_and_versions(container):
    with pytest.raises(versions.UnknownMapping, match="no mapping for hubspot/widget"):
        versions.save_version(container.db, "hubspot", "widget", "x: 1", "ana")
    with pytest.raises(versions.UnknownMapping):
        versions.get_version(container.db, "..", "hubspot")
    with pytest.raises(versions.UnknownVersion, match="hubspot/deal has no version 4"):
        versions.get_version(container.db, "hubspot", "deal", 4)


def test_diff_between_any_two_versions(container):
    db = container.db
    base = deal_text(db)
    versions.save_version(db, "hubspot", "deal", base.replace(
        "amount: {source: amount, type: number}", "amount: {source: amount, type: integer}"),
        "ana", "whole amounts")
    versions.save_version(db, "hubspot", "deal", base + "  currency: deal_currency_code\n",
                          "bob", "currency")
    text = versions.diff(db, "hubspot", "deal", 1, 2)
    assert text.splitlines()[:2] == ["--- hubspot/deal v1", "+++ hubspot/deal v2"]
    assert "-  amount: {source: amount, type: integer}" in text
    assert "+  amount: {source: amount, type: number}" in text
    assert "+  currency: deal_currency_code" in text
    assert versions.diff(db, "hubspot", "deal", 0).splitlines()[1] == "+++ hubspot/deal v2"
    assert versions.diff(db, "hubspot", "deal", 2, 2) == ""


def test_rollback_is_a_new_version_equal_to_the_old_one(container):
    db = container.db
    original = deal_text(db)
    versions.save_version(db, "hubspot", "deal", original + "  currency: cur\n", "ana", "x")
    restored = versions.rollback(db, "hubspot", "deal", 0, "bob")
    assert (restored.version, restored.restored_from, restored.comment) == (
        2, 0, "rollback to file")
    assert restored.yaml_text == original
    assert versions.diff(db, "hubspot", "deal", 0, 2) == ""
    assert [v.version for v in versions.list_versions(db, "hubspot", "deal")] == [2, 1, 0]
    assert versions.rollback(db, "hubspot", "deal", 1, "bob", "again").comment == "again"


def test_export_gives_back_the_exact_yaml(container):
    db = container.db
    text = deal_text(db, "  currency: cur\n")
    versions.save_version(db, "hubspot", "deal", text, "ana")
    assert versions.export(db, "hubspot", "deal") == text
    assert versions.export(db, "hubspot", "deal", 0) == deal_text(db)
    assert versions.export(db, "hubspot", "deal", 1) == text


def test_list_mappings_shows_every_default_with_its_current_version(container):
    versions.save_version(container.db, "hubspot", "deal", deal_text(container.db), "ana",
                          "same")
    found = {(m["source"], m["object"]): m for m in versions.list_mappings(container.db)}
    assert len(found) == 8
    assert found[("hubspot", "deal")]["version"] == 1
    assert found[("salesforce", "lead")]["version"] == 0 and "yaml" not in found[
        ("salesforce", "lead")]


def test_concurrent_saves_get_distinct_version_numbers(container):
    text = deal_text(container.db)
    errors: list[Exception] = []

    def save(n: int) -> None:
        try:
            versions.save_version(container.db, "hubspot", "deal", text, f"user{n}")
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=save, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    numbers = [v.version for v in versions.list_versions(container.db, "hubspot", "deal")]
    assert numbers == [6, 5, 4, 3, 2, 1, 0]


# -- the registry and the executors -----------------------------------------------------

class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_registry_rechecks_the_database_after_its_ttl(container):
    """Another process saved a version (no in-process notice): it counts once the ttl
    has passed, and not before, so ``get`` stays one cache lookup per batch."""
    clock = FakeClock()
    registry = MappingRegistry(db=container.db, ttl=1.0, clock=clock)
    assert registry.get("hubspot", "deal").version == 0
    with container.db.session() as session:
        mapping_repository.add_row(session, "hubspot", "deal",
                                   deal_text(container.db, "  currency: cur\n"), "other", "")
    clock.now += 0.5
    assert registry.get("hubspot", "deal").version == 0
    clock.now += 0.6
    mapping = registry.get("hubspot", "deal")
    assert mapping.version == 1 and "cur" in mapping.properties
    assert mapping.origin == "hubspot/deal v1"


def test_registry_sees_a_save_in_the_same_process_at_once(container):
    registry = MappingRegistry(db=container.db, ttl=3600, clock=FakeClock())
    first = registry.get("hubspot", "deal")
    assert registry.get("hubspot", "deal") is first
    versions.save_version(container.db, "hubspot", "deal",
                          deal_text(container.db, "  currency: cur\n"), "ana")
    assert registry.get("hubspot", "deal").version == 1


def test_bootstrap_wires_a_database_aware_registry(container):
    assert container.mappings.db is container.db
    versions.save_version(container.db, "hubspot", "deal",
                          deal_text(container.db, "  currency: cur\n"), "ana")
    assert container.mappings.get("hubspot", "deal").version == 1


def _mapping_handler(seen: list[dict]):
    def handle(container, events):
        results = {}
        for event in events:
            mapping = container.mappings.get("hubspot", "deal")
            try:
                seen.append({"version": mapping.version, **mapping.apply(event.payload)})
                results[event.id] = None
            except MappingError as exc:
                results[event.id] = str(exc)
        return results

    return handle


def _connected(container):
    """A container whose HubSpot portal "1" (the events' portal) belongs to an account."""
    from connector.service.sources import link_source
    from connector.store.models import AccountRow

    with container.db.session() as session:
        account = AccountRow(name="Acme", active=True)
        session.add(account)
        session.flush()
        account_id = account.id
    link_source(container.db, account_id, "hubspot", "1")
    return container


def _event(n: int, payload: dict) -> inbox.NewEvent:
    return inbox.NewEvent(source="hubspot", account_key="1", event_key=f"e{n}",
                          kind="deal.mapped", payload=payload)


def test_inline_executor_uses_a_new_version_for_the_next_event(config):
    seen: list[dict] = []
    container = _connected(bootstrap(config))
    try:
        executor = InlineExecutor(container, {"deal.mapped": _mapping_handler(seen)})
        inbox.store_events(container.db, [_event(1, {"dealname": " Big ", "amount": "10"})])
        assert executor.drain() == 1
        versions.save_version(container.db, "hubspot", "deal", deal_text(container.db).replace(
            "deal_name: {source: dealname, transforms: [trim]}",
            "deal_name: {source: dealname, transforms: [trim, upper]}"), "ana", "upper")
        inbox.store_events(container.db, [_event(2, {"dealname": " Big ", "amount": "10"})])
        assert executor.drain() == 1
    finally:
        container.close()
    assert [(s["version"], s["deal_name"]) for s in seen] == [(0, "Big"), (1, "BIG")]


def test_a_record_failing_a_required_field_is_kept_with_its_reason_and_replayed(config):
    seen: list[dict] = []
    container = _connected(bootstrap(config))
    try:
        db = container.db
        executor = InlineExecutor(container, {"deal.mapped": _mapping_handler(seen)})
        versions.save_version(db, "hubspot", "deal", deal_text(db).replace(
            "pipeline: {source: pipeline}", "pipeline: {source: pipeline, required: true}"),
            "ana", "pipeline required")
        inbox.store_events(db, [_event(1, {"dealname": "No pipeline"})])
        executor.drain()
        assert seen == []
        with db.session() as session:
            from connector.store.models import InboxEventRow

            row = session.query(InboxEventRow).one()
            assert row.status == "failed"
            assert row.last_error == ("hubspot/deal v1: field 'pipeline': required, but "
                                      "'pipeline' is empty")
        versions.rollback(db, "hubspot", "deal", 0, "ana", "pipeline optional again")
        assert inbox.replay(db, all_failed=True) == 1
        assert executor.drain() == 1
    finally:
        container.close()
    assert [(s["version"], s["deal_name"], s["pipeline"]) for s in seen] == [
        (2, "No pipeline", None)]


def test_thread_executor_uses_a_new_version_without_a_restart(config):
    seen: list[dict] = []
    container = _connected(bootstrap(config))
    executor = ThreadExecutor(container, {"deal.mapped": _mapping_handler(seen)}, threads=2,
                              interval=0.05)
    executor.start()
    try:
        inbox.store_events(container.db, [_event(1, {"amount": "10.5"})])
        executor.notify()
        wait_until(lambda: len(seen) == 1)
        versions.save_version(container.db, "hubspot", "deal", deal_text(container.db).replace(
            "amount: {source: amount, type: number}",
            "amount: {source: amount, type: integer}"), "ana", "whole amounts")
        inbox.store_events(container.db, [_event(2, {"amount": "10.5"}),
                                          _event(3, {"amount": "11"})])
        executor.notify()
        wait_until(lambda: len(seen) == 2 and inbox.counts(container.db).get("failed") == 1)
    finally:
        executor.stop()
        container.close()
    assert seen[0]["version"] == 0 and seen[0]["amount"] == 10.5
    assert (seen[1]["version"], seen[1]["amount"]) == (1, 11)


@pytest.mark.postgres
def test_concurrent_saves_and_reload_on_postgres(postgres_url):
    from connector.config import Config

    container = bootstrap(Config(database_url=postgres_url, executor="inline",
                                 jwt_secret="x" * 32))
    try:
        db = container.db
        text = deal_text(db, "  currency: cur\n")
        errors: list[Exception] = []

        def save(n: int) -> None:
            try:
                versions.save_version(db, "hubspot", "deal", text, f"user{n}")
            except Exception as exc:  # noqa: BLE001
                errors.append(exc)

        threads = [threading.Thread(target=save, args=(n,)) for n in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        assert [v.version for v in versions.list_versions(db, "hubspot", "deal")] == [
            8, 7, 6, 5, 4, 3, 2, 1, 0]
        assert sorted(v.author for v in versions.list_versions(db, "hubspot", "deal")[:-1]) \
            == sorted(f"user{n}" for n in range(8))
        assert container.mappings.get("hubspot", "deal").version == 8
    finally:
        container.close()
