from email.utils import parsedate_to_datetime

import pytest

from tests.conftest import auth
from tests.integration.helpers import dispatch, make_contact, make_router, make_user

INVALID = {"message": "Invalid event: require router_id and object_id", "error": True}


def test_success_shape_matches_the_document(client, headers):
    jane = make_user(client, headers, "jane@example.com")
    router = make_router(client, headers, [jane])
    contact = make_contact(client, headers, email="ada@example.com")
    response = dispatch(client, headers, router, contact)
    assert response.status_code == 200
    body = response.get_json()
    assert list(body) == ["message", "success", "user", "field_name", "owner_assigned_at"]
    assert body["message"] == "The object was successfully assigned"
    assert body["success"] is True and body["user"] == "jane@example.com"
    assert body["field_name"] == "contact_owner"
    assert body["owner_assigned_at"].endswith(" GMT")
    assert parsedate_to_datetime(body["owner_assigned_at"]).tzinfo is not None
    assert client.get(f"/contacts/{contact}", headers=headers).get_json()["contact_owner"] \
        == "jane@example.com"


def test_ticket_router_writes_ticket_owner(client, headers):
    jane = make_user(client, headers, "jane@example.com")
    router = make_router(client, headers, [jane], object_type="ticket")
    ticket = client.post("/tickets", json={"fields": {"ticket_name": "Help", "pipeline": "p",
                                                      "ticket_stage": "new"}},
                         headers=headers).get_json()["id"]
    body = dispatch(client, headers, router, ticket).get_json()
    assert body["field_name"] == "ticket_owner"
    assert client.get(f"/tickets/{ticket}", headers=headers).get_json()["ticket_owner"] == \
        "jane@example.com"


def _only_message(response, message):
    assert response.status_code == 200
    assert response.get_json() == {"message": message}


def test_account_not_found_and_inactive(client, container, make_account):
    ghost = auth("no-such-account")
    _only_message(dispatch(client, ghost, "r", "o"), "Account not found")
    inactive = make_account("Sleepy", active=False)
    _only_message(dispatch(client, auth(inactive), "r", "o"), "Account is not active")


def test_router_outcomes(client, headers):
    jane = make_user(client, headers, "jane@example.com")
    contact = make_contact(client, headers)
    _only_message(dispatch(client, headers, "missing", contact), "Router not found")
    draft = make_router(client, headers, [jane], published=False)
    _only_message(dispatch(client, headers, draft, contact), "The router is unpublished")
    bare = client.post("/routers", json={"name": "x", "object_type": "contact",
                                         "published": True}, headers=headers).get_json()["id"]
    _only_message(dispatch(client, headers, bare, contact), "The router has no settings")
    router = make_router(client, headers, [jane])
    _only_message(dispatch(client, headers, router, "missing"), "Object not found")


def test_trigger_overwrite_availability_backup_and_limit(client, headers):
    jane = make_user(client, headers, "jane@example.com")
    away = make_user(client, headers, "away@example.com", status="unavailable")
    boss = make_user(client, headers, "boss@example.com")
    trigger = {"groups": [{"conditions": [{"field": "country", "operator": "equals",
                                           "value": "DE"}]}]}
    picky = make_router(client, headers, [jane], trigger=trigger)
    _only_message(dispatch(client, headers, picky, make_contact(client, headers, country="US")),
                  "Trigger did not match")

    router = make_router(client, headers, [jane])
    owned = make_contact(client, headers, first_name="Owned")
    assert dispatch(client, headers, router, owned).get_json()["success"]
    _only_message(dispatch(client, headers, router, owned), "The router can not overwrite")

    nobody = make_router(client, headers, [away])
    _only_message(dispatch(client, headers, nobody, make_contact(client, headers)),
                  "There are no users available and the backup user is disabled")
    with_backup = make_router(client, headers, [away],
                              backup_user={"enabled": True, "user_id": boss})
    body = dispatch(client, headers, with_backup, make_contact(client, headers)).get_json()
    assert body["success"] and body["user"] == "boss@example.com"

    capped = client.post("/routers", json={
        "name": "capped", "object_type": "contact", "published": True,
        "settings": {"users": [{"user_id": jane, "daily_cap": 1}]}}, headers=headers)
    capped = capped.get_json()["id"]
    assert dispatch(client, headers, capped, make_contact(client, headers)).get_json()["success"]
    _only_message(dispatch(client, headers, capped, make_contact(client, headers)),
                  "Assignment limit reached")


@pytest.mark.parametrize("kwargs", [
    {"data": "{not json", "content_type": "application/json"},
    {"json": {"router_id": "r"}},
    {"json": {"object_id": "o"}},
    {"json": {"router_id": "", "object_id": "o"}},
    {"json": {"router_id": 5, "object_id": "o"}},
    {"json": ["router_id", "object_id"]},
])
def test_bad_request(client, headers, kwargs):
    response = client.post("/dispatch/router", headers=headers, **kwargs)
    assert response.status_code == 400 and response.get_json() == INVALID


@pytest.mark.parametrize("header", [None, "Bearer", "Bearer not-a-jwt", "Basic abc"])
def test_unauthorized(client, header):
    headers = {"Authorization": header} if header else {}
    response = client.post("/dispatch/router", json={"router_id": "r", "object_id": "o"},
                           headers=headers)
    assert response.status_code == 401 and response.get_json()["error"] is True


def test_token_signed_with_another_secret_is_refused(client, account_id):
    from connector.web.auth import issue_token

    forged = issue_token("another-secret-of-enough-length-here", account_id)
    response = client.post("/dispatch/router", json={"router_id": "r", "object_id": "o"},
                           headers={"Authorization": f"Bearer {forged}"})
    assert response.status_code == 401


def test_processing_error_is_500_with_an_error_id(client, headers, container, monkeypatch):
    from connector.web import api

    def broken(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(api, "dispatch", broken)
    response = dispatch(client, headers, "r", "o")
    assert response.status_code == 500
    body = response.get_json()
    assert body == {"message": "Internal error. Quote this error id to the operator: "
                               f"{body['error_id']}", "error": True,
                    "error_id": body["error_id"]}


def test_hubspot_sync_failure_is_reported_with_the_assignment(client, headers, container):
    from connector.core.errors import TransientCrmError
    from connector.store.models import ObjectRow

    def failing_sync(account_id, obj, rep, decision_id):
        raise TransientCrmError("HubSpot answered 503 after 5 attempts", status=503)

    container.owner_sync = failing_sync
    jane = make_user(client, headers, "jane@example.com")
    router = make_router(client, headers, [jane])
    contact = make_contact(client, headers)
    with container.db.session() as session:
        session.get(ObjectRow, contact).source = "hubspot"
    body = dispatch(client, headers, router, contact).get_json()
    assert body["success"] is True and body["user"] == "jane@example.com"
    assert body["hubspot_sync_failed"] is True
    assert body["hubspot_error"] == "HubSpot answered 503 after 5 attempts (HTTP 503)"
    decision = client.get(f"/decisions?object_id={contact}", headers=headers).get_json()
    assert decision["results"][0]["sync_status"] == "failed"


def test_decisions_explain_who_was_skipped(client, headers):
    away = make_user(client, headers, "away@example.com", status="unavailable")
    jane = make_user(client, headers, "jane@example.com")
    router = make_router(client, headers, [away, jane])
    contact = make_contact(client, headers)
    dispatch(client, headers, router, contact)
    [decision] = client.get(f"/decisions?object_id={contact}",
                            headers=headers).get_json()["results"]
    assert decision["user"] == "jane@example.com"
    assert decision["reason"]["skipped"] == [
        {"rep_id": away, "email": "away@example.com", "reason": "unavailable"}]
    assert decision["reason"]["model"] == "round_robin"


def test_round_robin_over_http_is_fair(client, headers):
    users = [make_user(client, headers, f"rep{i}@example.com") for i in range(3)]
    router = make_router(client, headers, users)
    picks = [dispatch(client, headers, router, make_contact(client, headers)).get_json()["user"]
             for _ in range(9)]
    assert picks == [f"rep{i % 3}@example.com" for i in range(9)]


@pytest.mark.parametrize("text", ["NaN", "sNaN", "Infinity"])
def test_non_finite_text_in_a_compared_field_is_no_processing_error(client, headers, text):
    jane = make_user(client, headers, "jane@example.com")
    trigger = {"groups": [{"conditions": [{"field": "job_title", "operator": "lt",
                                           "value": 5}]}]}
    router = make_router(client, headers, [jane], trigger=trigger)
    response = dispatch(client, headers, router, make_contact(client, headers, job_title=text))
    assert response.status_code == 200
    assert response.get_json() == {"message": "Trigger did not match"}


def _owner(client, headers, contact):
    return client.get(f"/contacts/{contact}", headers=headers).get_json()["contact_owner"]


def test_overwrite_if_owner_unavailable_over_http(client, headers):
    jane = make_user(client, headers, "jane@example.com")
    bob = make_user(client, headers, "bob@example.com")
    router = make_router(client, headers, [jane, bob], overwrite="if_owner_unavailable")
    contact = make_contact(client, headers)
    assert dispatch(client, headers, router, contact).get_json()["user"] == "jane@example.com"
    _only_message(dispatch(client, headers, router, contact), "The router can not overwrite")
    assert _owner(client, headers, contact) == "jane@example.com"
    client.patch(f"/users/{jane}", json={"status": "unavailable"}, headers=headers)
    body = dispatch(client, headers, router, contact).get_json()
    assert body["success"] is True and body["user"] == "bob@example.com"
    assert _owner(client, headers, contact) == "bob@example.com"


def test_overwrite_always_over_http(client, headers):
    jane = make_user(client, headers, "jane@example.com")
    bob = make_user(client, headers, "bob@example.com")
    router = make_router(client, headers, [jane, bob], overwrite="always")
    contact = make_contact(client, headers)
    assert dispatch(client, headers, router, contact).get_json()["user"] == "jane@example.com"
    body = dispatch(client, headers, router, contact).get_json()
    assert body["success"] is True and body["user"] == "bob@example.com"
    assert _owner(client, headers, contact) == "bob@example.com"


def test_weekly_cap_over_http(client, headers):
    jane = make_user(client, headers, "jane@example.com")
    router = client.post("/routers", json={
        "name": "weekly", "object_type": "contact", "published": True,
        "settings": {"users": [{"user_id": jane, "weekly_cap": 2}]}},
        headers=headers).get_json()["id"]
    for _ in range(2):
        assert dispatch(client, headers, router, make_contact(client, headers)).get_json()[
            "success"]
    capped = make_contact(client, headers)
    _only_message(dispatch(client, headers, router, capped), "Assignment limit reached")
    [decision] = client.get(f"/decisions?object_id={capped}",
                            headers=headers).get_json()["results"]
    assert decision["reason"]["skipped"] == [
        {"rep_id": jane, "email": "jane@example.com", "reason": "weekly cap reached"}]


@pytest.mark.parametrize("window_hours,expected", [(1, "b@example.com"),
                                                   (24, "a@example.com")])
def test_load_balancing_counts_only_assignments_inside_the_window(
        client, headers, container, account_id, window_hours, expected):
    """B had two assignments three hours ago, A one half an hour ago. With a one-hour
    window only A's counts, so B is next; with a day's window B has more, so A is."""
    from datetime import UTC, datetime, timedelta

    from connector.service.dispatch import dispatch as run

    a = make_user(client, headers, "a@example.com")
    b = make_user(client, headers, "b@example.com")
    router = make_router(client, headers, [a, b], distribution="load_balanced",
                         load_window_hours=window_hours)
    now = datetime.now(UTC)
    for _ in range(2):
        old = run(container.db, account_id, router, make_contact(client, headers),
                  now=now - timedelta(hours=3), exclude_rep_ids=[a])
        assert old.decision.rep.email == "b@example.com"
    recent = run(container.db, account_id, router, make_contact(client, headers),
                 now=now - timedelta(minutes=30), exclude_rep_ids=[b])
    assert recent.decision.rep.email == "a@example.com"
    body = dispatch(client, headers, router, make_contact(client, headers)).get_json()
    assert body["success"] is True and body["user"] == expected


def test_a_dispatch_body_is_read_without_the_json_content_type(client, headers):
    import json

    jane = make_user(client, headers, "jane@example.com")
    router = make_router(client, headers, [jane])
    contact = make_contact(client, headers)
    response = client.post("/dispatch/router", headers=headers, data=json.dumps(
        {"router_id": router, "object_id": contact}),
        content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200 and response.get_json()["success"] is True
    broken = client.post("/dispatch/router", headers=headers, data="router_id=r&object_id=o",
                         content_type="application/x-www-form-urlencoded")
    assert broken.status_code == 400 and broken.get_json() == INVALID


def test_weighted_state_of_a_removed_member_is_dropped(client, headers, container):
    from connector.store.models import RouterRow

    a, b, c = (make_user(client, headers, f"{n}@example.com") for n in "abc")
    router = client.post("/routers", json={
        "name": "w", "object_type": "contact", "published": True,
        "settings": {"distribution": "weighted", "users": [
            {"user_id": a, "weight": 3}, {"user_id": b}, {"user_id": c, "weight": 2}]}},
        headers=headers).get_json()["id"]
    for _ in range(3):
        assert dispatch(client, headers, router, make_contact(client, headers)).get_json()[
            "success"]
    with container.db.read_session() as session:
        before = dict(session.get(RouterRow, router).current_weights)
    assert set(before) == {a, b, c}
    assert client.patch(f"/routers/{router}", json={"settings": {
        "distribution": "weighted", "users": [{"user_id": a, "weight": 3}, {"user_id": b}]}},
        headers=headers).status_code == 200
    client.patch(f"/users/{b}", json={"status": "unavailable"}, headers=headers)
    assert dispatch(client, headers, router, make_contact(client, headers)).get_json()[
        "user"] == "a@example.com"
    with container.db.read_session() as session:
        after = dict(session.get(RouterRow, router).current_weights)
    assert set(after) == {a, b} and after[b] == before[b]
