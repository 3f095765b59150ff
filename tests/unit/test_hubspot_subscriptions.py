import json

import responses

from adapters.hubspot.subscriptions import (
    Change,
    Subscription,
    SubscriptionsClient,
    plan_subscriptions,
)

OWNER = ("contact.propertyChange", "hubspot_owner_id")
CREATED = ("contact.creation", None)


def sub(id_, event_type, prop=None, active=True):
    return Subscription(id_, event_type, prop, active)


def test_plan_creates_missing_and_activates_paused():
    plan = plan_subscriptions({OWNER, CREATED}, [sub("1", "contact.creation", active=False)])
    assert plan == [Change("activate", "contact.creation", None, "1"),
                    Change("create", "contact.propertyChange", "hubspot_owner_id")]


def test_plan_deactivates_unwanted_or_deletes_when_asked():
    existing = [sub("1", "deal.creation"), sub("2", "deal.deletion", active=False)]
    assert plan_subscriptions(set(), existing) == [Change("deactivate", "deal.creation", None,
                                                          "1")]
    assert plan_subscriptions(set(), existing, delete_unwanted=True) == [
        Change("delete", "deal.creation", None, "1"), Change("delete", "deal.deletion", None, "2")]


def test_plan_removes_duplicates_keeping_an_active_one():
    existing = [sub("1", *OWNER, active=False), sub("2", *OWNER), sub("3", *OWNER)]
    plan = plan_subscriptions({OWNER}, existing)
    assert sorted(plan, key=lambda c: c.subscription_id) == [
        Change("delete", *OWNER, "1"), Change("delete", *OWNER, "3")]


def test_plan_is_empty_when_in_sync():
    assert plan_subscriptions({OWNER}, [sub("9", *OWNER)]) == []


@responses.activate
def test_client_uses_hapikey_and_applies_plan():
    base = "https://api.test/webhooks/v3/42/subscriptions"
    responses.add(responses.GET, base, json={"results": [
        {"id": 1, "eventType": "contact.creation", "active": False},
        {"id": 2, "eventType": "deal.creation", "active": True}]})
    responses.add(responses.PATCH, f"{base}/1", json={"id": 1, "eventType": "contact.creation",
                                                     "active": True})
    responses.add(responses.PATCH, f"{base}/2", json={"id": 2, "eventType": "deal.creation",
                                                     "active": False})
    responses.add(responses.POST, base, status=201, json={
        "id": 3, "eventType": "contact.propertyChange", "propertyName": "hubspot_owner_id",
        "active": True})
    client = SubscriptionsClient(42, "dev-key", base_url="https://api.test")
    done = client.sync({OWNER, CREATED})
    assert [c.action for c in done] == ["activate", "create", "deactivate"]
    assert all("hapikey=dev-key" in c.request.url for c in responses.calls)
    assert "Authorization" not in responses.calls[0].request.headers
    assert json.loads(responses.calls[2].request.body) == {
        "eventType": "contact.propertyChange", "active": True, "propertyName": "hubspot_owner_id"}
    assert "dev-key" not in repr(client)
