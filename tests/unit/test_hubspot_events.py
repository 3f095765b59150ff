import json

import pytest

from adapters.hubspot.events import (
    InvalidWebhookBody,
    is_own_owner_change,
    parse_batch,
    parse_event,
)

BASE = {"eventId": 100, "subscriptionId": 5, "portalId": 62515, "appId": 54321,
        "occurredAt": 1564113600000, "attemptNumber": 0, "objectId": 123}


def ev(**fields):
    return {**BASE, **fields}


def test_parses_hubspot_documented_creation_event():
    body = (b'[{"eventId":1,"subscriptionId":12345,"portalId":62515,"occurredAt":1564113600000,'
            b'"subscriptionType":"contact.creation","attemptNumber":0,"objectId":123,'
            b'"changeSource":"CRM","changeFlag":"NEW","appId":54321}]')
    [event] = parse_batch(body)
    assert (event.object_type, event.action, event.object_id) == ("contact", "creation", 123)
    assert event.portal_id == 62515 and event.app_id == 54321 and event.change_flag == "NEW"
    assert event.dedupe_key() == (62515, "contact.creation", 123, 1, 1564113600000)
    assert event.dedupe_key_str() == "62515:contact.creation:123:1:1564113600000"


def test_event_type_key_is_accepted_like_subscription_type():
    event = parse_event(ev(eventType="deal.propertyChange", propertyName="amount",
                           propertyValue="10"))
    assert event.subscription_type == "deal.propertyChange"
    assert (event.object_type, event.property_name, event.property_value) == \
        ("deal", "amount", "10")


@pytest.mark.parametrize(("type_id", "expected"), [
    ("0-1", "contact"), ("0-2", "company"), ("0-3", "deal"), ("0-5", "ticket"), ("2-99", None),
])
def test_generic_object_events_use_object_type_id(type_id, expected):
    event = parse_event(ev(subscriptionType="object.creation", objectTypeId=type_id))
    assert event.object_type == expected and event.object_type_id == type_id
    assert event.action == "creation"


def test_generic_event_without_object_type_id_is_invalid():
    with pytest.raises(InvalidWebhookBody, match="event 0: object.creation without objectTypeId"):
        parse_batch([ev(subscriptionType="object.creation")])


def test_merge_fields_are_parsed():
    event = parse_event(ev(subscriptionType="company.merge", mergedObjectIds=[11, "12"],
                           primaryObjectId=13, newObjectId=14))
    assert event.merged_object_ids == (11, 12)
    assert (event.primary_object_id, event.new_object_id) == (13, 14)


def test_association_change_uses_from_object_id():
    raw = {k: v for k, v in ev(subscriptionType="contact.associationChange").items()
           if k != "objectId"}
    event = parse_event({**raw, "fromObjectId": 7, "toObjectId": 8,
                         "associationType": "CONTACT_TO_COMPANY", "associationRemoved": False})
    assert (event.object_id, event.from_object_id, event.to_object_id) == (7, 7, 8)
    assert event.association_removed is False


def test_privacy_deletion_and_unknown_prefixes_are_kept():
    events = parse_batch([ev(subscriptionType="contact.privacyDeletion"),
                          ev(subscriptionType="conversation.creation")])
    assert events[0].object_type == "contact" and events[0].action == "privacyDeletion"
    assert events[1].object_type is None


@pytest.mark.parametrize(("body", "message"), [
    (b"{not json", "not valid JSON"),
    (b'{"eventId": 1}', "must be a JSON array"),
    (json.dumps([ev(subscriptionType="contact.creation")] * 101), "at most 100"),
    (json.dumps([ev(subscriptionType="contact.creation"), 5]), "event 1: not a JSON object"),
    (json.dumps([{k: v for k, v in ev(subscriptionType="contact.creation").items()
                  if k != "objectId"}]), "event 0: missing objectId"),
    (json.dumps([ev(subscriptionType="contact.creation", portalId=None)]),
     "event 0: missing portalId"),
    (json.dumps([ev()]), "event 0: missing subscriptionType"),
    (json.dumps([ev(subscriptionType="contactcreation")]), "malformed subscriptionType"),
    (json.dumps([ev(subscriptionType="contact.creation", eventId=True)]),
     "eventId must be an integer"),
    (json.dumps([ev(subscriptionType="contact.propertyChange")]), "without propertyName"),
])
def test_invalid_bodies_name_the_problem(body, message):
    with pytest.raises(InvalidWebhookBody, match=message):
        parse_batch(body)


def test_invalid_body_is_a_value_error():
    assert issubclass(InvalidWebhookBody, ValueError)


def test_exactly_100_events_accepted():
    events = parse_batch([ev(subscriptionType="contact.creation", eventId=i) for i in range(100)])
    assert len(events) == 100 and len({e.dedupe_key() for e in events}) == 100


def owner_change(**fields):
    return parse_event(ev(subscriptionType="contact.propertyChange",
                          propertyName="hubspot_owner_id", propertyValue="77", **fields))


@pytest.mark.parametrize(("fields", "expected"), [
    ({"changeSource": "INTEGRATION", "sourceId": "54321"}, True),
    ({"changeSource": "INTEGRATION", "sourceId": "app:54321"}, True),
    ({"changeSource": "API", "sourceId": "54321"}, True),
    ({"changeSource": "INTEGRATION", "sourceId": "99999"}, False),  # another integration
    ({"changeSource": "CRM_UI", "sourceId": "userId:54321"}, False),  # a person in the UI
    ({"changeSource": "INTEGRATION"}, False),
    ({"changeSource": "AUTOMATION_PLATFORM", "sourceId": "54321"}, False),  # a workflow
])
def test_own_owner_change_rule(fields, expected):
    assert is_own_owner_change(owner_change(**fields), 54321) is expected


def test_own_owner_change_by_private_app_source_id():
    event = owner_change(changeSource="INTEGRATION", sourceId="LeadRouter")
    assert is_own_owner_change(event, None, extra_source_ids=["leadrouter"])
    assert not is_own_owner_change(event, 54321)


def test_other_property_changes_are_never_own_owner_changes():
    event = parse_event(ev(subscriptionType="object.propertyChange", objectTypeId="0-1",
                           propertyName="email", propertyValue="a@b.c",
                           changeSource="INTEGRATION", sourceId="54321"))
    assert not is_own_owner_change(event, 54321)
    generic = parse_event(ev(subscriptionType="object.propertyChange", objectTypeId="0-5",
                             propertyName="hubspot_owner_id", changeSource="INTEGRATION",
                             sourceId="54321"))
    assert is_own_owner_change(generic, 54321)
