"""``POST /dispatch/router?async=true``: stored, answered 202, run by the executor once."""

from sqlalchemy import select, update

from connector.jobs.executors import InlineExecutor, default_handlers
from connector.store.models import DecisionRow, InboxEventRow
from tests.conftest import auth
from tests.integration.helpers import make_contact, make_router, make_user


def _queue(client, headers, router_id, object_id, *, key=None, via_prefer=False):
    extra = {"Idempotency-Key": key} if key else {}
    if via_prefer:
        extra["Prefer"] = "respond-async"
    url = "/dispatch/router" if via_prefer else "/dispatch/router?async=true"
    return client.post(url, json={"router_id": router_id, "object_id": object_id},
                       headers={**headers, **extra})


def _drain(container) -> int:
    return InlineExecutor(container, default_handlers(container)).drain()


def _decisions(container) -> list[DecisionRow]:
    with container.db.session() as session:
        return list(session.scalars(select(DecisionRow).order_by(DecisionRow.created_at)))


def test_queued_dispatch_is_stored_answered_202_and_run_by_the_executor(client, headers,
                                                                         container):
    jane = make_user(client, headers, "jane@example.com")
    router = make_router(client, headers, [jane])
    contact = make_contact(client, headers, email="ada@example.com")

    response = _queue(client, headers, router, contact)
    assert response.status_code == 202
    body = response.get_json()
    assert body["message"] == "The dispatch was queued"
    assert body["status_url"] == f"/events/{body['event_id']}"
    waiting = client.get(body["status_url"], headers=headers).get_json()
    assert waiting["status"] == "pending" and waiting["decision"] is None
    assert client.get(f"/contacts/{contact}", headers=headers).get_json()["contact_owner"] \
        is None

    assert _drain(container) == 1
    done = client.get(body["status_url"], headers=headers).get_json()
    assert done["status"] == "done" and done["kind"] == "dispatch"
    assert done["decision"]["message"] == "The object was successfully assigned"
    assert done["decision"]["user"] == "jane@example.com"
    assert client.get(f"/contacts/{contact}", headers=headers).get_json()["contact_owner"] \
        == "jane@example.com"


def test_prefer_respond_async_queues_and_a_non_assignment_is_a_done_decision(
        client, headers, container):
    jane = make_user(client, headers, "jane@example.com")
    trigger = {"groups": [{"conditions": [{"field": "country", "operator": "equals",
                                           "value": "DE"}]}]}
    router = make_router(client, headers, [jane], trigger=trigger)
    contact = make_contact(client, headers, country="US")
    response = _queue(client, headers, router, contact, via_prefer=True)
    assert response.status_code == 202
    _drain(container)
    event = client.get(response.get_json()["status_url"], headers=headers).get_json()
    assert event["status"] == "done"
    assert event["decision"]["message"] == "Trigger did not match"
    assert event["decision"]["assigned"] is False


def test_idempotency_key_makes_a_resend_a_duplicate(client, headers, container):
    jane = make_user(client, headers, "jane@example.com")
    ben = make_user(client, headers, "ben@example.com")
    router = make_router(client, headers, [jane, ben], overwrite="always")
    contact = make_contact(client, headers)
    first = _queue(client, headers, router, contact, key="crm-42")
    again = _queue(client, headers, router, contact, key="crm-42")
    assert first.status_code == again.status_code == 202
    assert first.get_json()["event_id"] == again.get_json()["event_id"]
    other = _queue(client, headers, router, "another-object", key="crm-42")
    assert other.status_code == 409
    assert other.get_json() == {"message": "Idempotency-Key was already used for another "
                                           "dispatch", "error": True}
    assert _drain(container) == 1
    assert len(_decisions(container)) == 1


def test_an_event_processed_again_after_a_crash_routes_once(client, headers, container):
    jane = make_user(client, headers, "jane@example.com")
    ben = make_user(client, headers, "ben@example.com")
    router = make_router(client, headers, [jane, ben], overwrite="always")
    contact = make_contact(client, headers)
    event_id = _queue(client, headers, router, contact).get_json()["event_id"]
    _drain(container)
    # the worker died after the routing commit, before the event was marked done
    with container.db.session() as session:
        session.execute(update(InboxEventRow).where(InboxEventRow.id == event_id)
                        .values(status="pending"))
    assert _drain(container) == 1
    (decision,) = _decisions(container)
    assert decision.rep_email == "jane@example.com" and decision.inbox_event_id == event_id
    # the rotation moved once: the next record goes to ben
    second = make_contact(client, headers, first_name="Second")
    _queue(client, headers, router, second)
    _drain(container)
    assert client.get(f"/contacts/{second}", headers=headers).get_json()["contact_owner"] \
        == "ben@example.com"


def test_missing_account_is_answered_at_once_and_bad_input_is_refused(client, headers,
                                                                      container):
    ghost = _queue(client, auth("no-such-account"), "r", "o")
    assert ghost.status_code == 200 and ghost.get_json() == {"message": "Account not found"}
    bad_flag = client.post("/dispatch/router?async=maybe",
                           json={"router_id": "r", "object_id": "o"}, headers=headers)
    assert bad_flag.status_code == 400
    assert bad_flag.get_json()["message"] == ("Invalid query parameter 'async': use true "
                                              "or false")
    missing = client.post("/dispatch/router?async=true", json={"router_id": "r"},
                          headers=headers)
    assert missing.status_code == 400
    assert missing.get_json()["message"] == "Invalid event: require router_id and object_id"
    with container.db.session() as session:
        assert session.scalar(select(InboxEventRow.id)) is None


def test_another_account_does_not_see_a_queued_dispatch(client, headers, make_account):
    jane = make_user(client, headers, "jane@example.com")
    router = make_router(client, headers, [jane])
    contact = make_contact(client, headers)
    url = _queue(client, headers, router, contact).get_json()["status_url"]
    other = auth(make_account("Other"))
    response = client.get(url, headers=other)
    assert response.status_code == 404
    assert response.get_json() == {"message": "Event not found", "error": True}
