"""A router's settings and reps come from the process's cache while the account's
routing version holds; any change to the account's reps or routers, by this process or
another, is seen by the next dispatch."""

from __future__ import annotations

from sqlalchemy import select

from connector.service.dispatch import dispatch as run_dispatch
from connector.store import repositories as repo
from connector.store.db import Database
from connector.store.models import AccountRow, RepRow, RouterRow
from tests.integration.helpers import dispatch, make_contact, make_router, make_user


def _version(db: Database, account_id: str) -> int:
    with db.read_session() as session:
        return session.scalar(select(AccountRow.routing_version)
                              .where(AccountRow.id == account_id))


def _count_rep_loads(monkeypatch) -> list[int]:
    loads = []
    original = repo.reps_by_id

    def counting(session, account_id, ids):
        loads.append(len(set(ids)))
        return original(session, account_id, ids)

    monkeypatch.setattr(repo, "reps_by_id", counting)
    return loads


def test_dispatches_reuse_the_router_until_something_changes(client, headers, container,
                                                            account_id, monkeypatch):
    jane, bob = (make_user(client, headers, f"{n}@example.com") for n in ("jane", "bob"))
    router = make_router(client, headers, [jane, bob])
    contacts = [make_contact(client, headers) for _ in range(3)]
    loads = _count_rep_loads(monkeypatch)
    version = _version(container.db, account_id)
    picked = [dispatch(client, headers, router, c).get_json()["user"] for c in contacts[:2]]
    assert picked == ["jane@example.com", "bob@example.com"]
    assert loads == [2]  # loaded once; the rotation written by dispatch changes no version
    assert _version(container.db, account_id) == version

    client.patch(f"/users/{jane}", json={"status": "unavailable"}, headers=headers)
    assert _version(container.db, account_id) > version
    assert dispatch(client, headers, router, contacts[2]).get_json()["user"] == \
        "bob@example.com"
    assert loads == [2, 2]


def test_a_change_made_by_another_process_is_seen_by_the_next_dispatch(
        client, headers, container, database_url, account_id):
    jane, bob = (make_user(client, headers, f"{n}@example.com") for n in ("jane", "bob"))
    router = make_router(client, headers, [jane, bob])
    first, second = make_contact(client, headers), make_contact(client, headers)
    assert run_dispatch(container.db, account_id, router, first).decision.rep.id == jane

    other = Database(database_url)  # another process: its own engine and cache
    try:
        with other.session() as session:
            session.get(RepRow, bob).status = "unavailable"
    finally:
        other.dispose()
    decision = run_dispatch(container.db, account_id, router, second).decision
    assert decision.rep.id == jane  # bob, next in turn, is unavailable now
    assert [(s.rep_id, s.reason) for s in decision.skipped] == [(bob, "unavailable")]


def test_router_edits_change_the_version_and_rotation_alone_does_not(container, account_id,
                                                                     client, headers):
    jane = make_user(client, headers, "jane@example.com")
    router = make_router(client, headers, [jane])
    version = _version(container.db, account_id)
    with container.db.session() as session:
        row = session.get(RouterRow, router)
        row.rr_last_position, row.current_weights = 7, {jane: 1}
    assert _version(container.db, account_id) == version
    with container.db.session() as session:
        session.get(RouterRow, router).name = "Renamed"
    assert _version(container.db, account_id) == version + 1
    with container.db.session() as session:
        session.delete(session.get(RouterRow, router))
    assert _version(container.db, account_id) == version + 2


def test_the_cache_keeps_the_routers_used_last(container, account_id, client, headers):
    jane = make_user(client, headers, "jane@example.com")
    routers = [make_router(client, headers, [jane]) for _ in range(3)]
    cache = container.db.router_cache
    cache.size = 2
    for router_id in routers:
        with container.db.session() as session:
            row = repo.get_router(session, account_id, router_id, lock=True)
            assert cache.load(session, account_id, row)[0].id == router_id
    assert list(cache._entries) == routers[1:]
