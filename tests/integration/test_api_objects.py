import re

import pytest

from tests.integration.helpers import dispatch, make_router, make_user

ISO_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
TICKET = {"ticket_name": "Support request", "pipeline": "default", "ticket_stage": "new"}


def post(client, headers, plural, fields, **kw):
    return client.post(f"/{plural}", json={"fields": fields}, headers=headers, **kw)


def test_create_contact_returns_flat_201(client, headers):
    response = post(client, headers, "contacts", {"external_id": "ext-001", "first_name": "Ada",
                                                  "last_name": "Lovelace",
                                                  "email": "ada@example.com"})
    assert response.status_code == 201
    body = response.get_json()
    assert body["external_id"] == "ext-001" and body["first_name"] == "Ada"
    assert body["email"] == "ada@example.com" and body["contact_owner"] is None
    assert body["archived"] is False and "archived_by" not in body
    assert ISO_MS.match(body["created_at"]) and ISO_MS.match(body["updated_at"])
    assert "fields" not in body


def test_create_ticket_returns_flat_201(client, headers):
    response = post(client, headers, "tickets", {"external_id": "ext-001", **TICKET})
    assert response.status_code == 201
    body = response.get_json()
    assert {k: body[k] for k in TICKET} == TICKET and body["ticket_owner"] is None


@pytest.mark.parametrize("plural,fields,message", [
    ("contacts", {"phone": "1"},
     "Validation failed: at least one of email, first_name or last_name is required"),
    ("contacts", {"first_name": "A", "shoe_size": 3}, "Unknown field: shoe_size"),
    ("contacts", {"first_name": "A", "id": "x"},
     "Field 'id' is a system field and cannot be set"),
    ("contacts", {"first_name": "A", "created_at": "2026-01-01T00:00:00Z"},
     "Field 'created_at' is a system field and cannot be set"),
    ("contacts", {"first_name": "A", "contact_owner": "jane@example.com"},
     "Field 'contact_owner' is a system field and cannot be set"),
    ("contacts", {"first_name": "A", "archived": True},
     "Field 'archived' is a system field and cannot be set"),
    ("contacts", {"email": "not-an-email"},
     "Validation failed: field 'email' must be a valid email address"),
    ("contacts", {"first_name": "A", "annual_revenue": "lots"},
     "Validation failed: field 'annual_revenue' must be a number"),
    ("contacts", {"first_name": 7}, "Validation failed: field 'first_name' must be a string"),
    ("tickets", {"ticket_name": "x"},
     "Validation failed: missing required fields: ticket_stage, pipeline"),
    ("tickets", {"ticket_name": "x", "pipeline": "p"},
     "Validation failed: missing required field: ticket_stage"),
    ("tickets", {**TICKET, "ticket_owner": "x"},
     "Field 'ticket_owner' is a system field and cannot be set"),
])
def test_validation_errors_are_400(client, headers, plural, fields, message):
    response = post(client, headers, plural, fields)
    assert response.status_code == 400
    assert response.get_json() == {"message": message, "error": True}


@pytest.mark.parametrize("kwargs,message", [
    ({"data": "{", "content_type": "application/json"}, "Invalid JSON body"),
    ({"json": {"first_name": "Ada"}}, "Invalid body: 'fields' must be an object"),
    ({"json": {"fields": [1]}}, "Invalid body: 'fields' must be an object"),
    ({"json": {"fields": {"first_name": "A"}, "extra": 1}}, "Unknown property: extra"),
])
def test_invalid_bodies_are_400(client, headers, kwargs, message):
    response = client.post("/contacts", headers=headers, **kwargs)
    assert response.status_code == 400 and response.get_json()["message"] == message


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
@pytest.mark.parametrize("plural,fields", [
    ("contacts", '{"first_name": "Ada", "annual_revenue": %s}'),
    ("tickets", '{"ticket_name": "t", "pipeline": "p", "ticket_stage": "s", "effort": %s}'),
])
def test_non_finite_numbers_are_a_validation_failure(client, headers, plural, fields,
                                                     literal):
    if plural == "tickets":
        assert client.post("/fields", json={"object_type": "ticket", "internal_name": "effort",
                                            "type": "number"}, headers=headers).status_code \
            == 201
    name = "annual_revenue" if plural == "contacts" else "effort"
    body = '{"fields": %s}' % (fields % literal)
    response = client.post(f"/{plural}", data=body, content_type="application/json",
                           headers=headers)
    assert response.status_code == 400
    assert response.get_json() == {
        "message": f"Validation failed: field '{name}' must be a number", "error": True}
    assert client.get(f"/{plural}", headers=headers).get_json()["results"] == []


def test_missing_account_context_is_401(client):
    from tests.conftest import auth

    response = client.post("/contacts", json={"fields": {"first_name": "A"}},
                           headers=auth(None, admin=True))
    assert response.status_code == 401
    assert response.get_json() == {"message": "Missing account context", "error": True}
    assert client.post("/tickets", json={"fields": TICKET}).status_code == 401


@pytest.mark.parametrize("key,value", [("email", "ada@example.com"),
                                       ("website_url", "https://ada.dev"),
                                       ("external_id", "ext-9")])
def test_duplicates_of_active_records_are_409(client, headers, key, value):
    assert post(client, headers, "contacts", {"first_name": "A", key: value}).status_code == 201
    again = post(client, headers, "contacts", {"first_name": "B", key: value})
    assert again.status_code == 409
    assert again.get_json() == {"message": f"A contact with this {key} already exists",
                                "error": True}


def test_email_duplicates_ignore_case_and_archived_records(client, headers):
    first = post(client, headers, "contacts", {"email": "Ada@Example.com"}).get_json()
    assert post(client, headers, "contacts", {"email": "ada@example.com"}).status_code == 409
    archived = client.delete(f"/contacts/{first['id']}", headers=headers).get_json()
    assert ISO_MS.match(archived["archived"]) and archived["archived_by"] == "api"
    assert post(client, headers, "contacts", {"email": "ada@example.com"}).status_code == 201
    # restoring the first now collides with the new active record
    assert client.post(f"/contacts/{first['id']}/restore", headers=headers).status_code == 409


def test_ticket_external_id_duplicate_is_409(client, headers):
    assert post(client, headers, "tickets", {**TICKET, "external_id": "t1"}).status_code == 201
    assert post(client, headers, "tickets", {**TICKET, "external_id": "t1"}).status_code == 409


def test_get_patch_and_list_with_paging(client, headers):
    ids = [post(client, headers, "contacts", {"first_name": f"n{i}"}).get_json()["id"]
           for i in range(5)]
    patched = client.patch(f"/contacts/{ids[0]}", json={"fields": {"last_name": "Lovelace"}},
                           headers=headers)
    assert patched.status_code == 200
    assert patched.get_json()["last_name"] == "Lovelace"
    assert patched.get_json()["first_name"] == "n0"
    bad = client.patch(f"/contacts/{ids[0]}", json={"fields": {"nope": 1}}, headers=headers)
    assert bad.status_code == 400
    seen, after = [], None
    while True:
        query = "/contacts?limit=2" + (f"&after={after}" if after else "")
        page = client.get(query, headers=headers).get_json()
        seen += [c["id"] for c in page["results"]]
        if not page["paging"]:
            break
        after = page["paging"]["next"]["after"]
    assert seen == ids
    assert client.get("/contacts/nope", headers=headers).status_code == 404
    assert client.get("/contacts?limit=0", headers=headers).status_code == 400


def test_custom_fields_are_accepted_after_definition(client, headers):
    assert post(client, headers, "contacts", {"first_name": "A", "tier": "gold"}).status_code \
        == 400
    created = client.post("/fields", json={"object_type": "contact", "internal_name": "tier",
                                           "type": "enum", "options": ["gold", "silver"]},
                          headers=headers)
    assert created.status_code == 201
    ok = post(client, headers, "contacts", {"first_name": "A", "tier": "gold"})
    assert ok.status_code == 201 and ok.get_json()["tier"] == "gold"
    wrong = post(client, headers, "contacts", {"first_name": "A", "tier": "bronze"})
    assert wrong.get_json()["message"] == \
        "Validation failed: field 'tier' must be one of gold, silver"


def test_owner_email_appears_after_dispatch_and_archive_hides_from_router(client, headers):
    jane = make_user(client, headers, "jane@example.com")
    router = make_router(client, headers, [jane])
    contact = post(client, headers, "contacts", {"first_name": "A"}).get_json()["id"]
    client.delete(f"/contacts/{contact}", headers=headers)
    assert dispatch(client, headers, router, contact).get_json() == {
        "message": "Object not found"}


@pytest.mark.parametrize("kwargs,message", [
    ({"data": "{", "content_type": "application/json"}, "Invalid JSON body"),
    ({"data": "", "content_type": "application/json"}, "Invalid JSON body"),
    ({"json": {"ticket_name": "t"}}, "Invalid body: 'fields' must be an object"),
    ({"json": {"fields": {**TICKET}, "extra": 1}}, "Unknown property: extra"),
    ({"json": {"fields": {**TICKET, "severity": "high"}}}, "Unknown field: severity"),
    ({"json": {"fields": {**TICKET, "email": "a@example.com"}}}, "Unknown field: email"),
])
def test_invalid_ticket_bodies_are_400(client, headers, kwargs, message):
    response = client.post("/tickets", headers=headers, **kwargs)
    assert response.status_code == 400
    assert response.get_json() == {"message": message, "error": True}
    assert client.get("/tickets", headers=headers).get_json()["results"] == []


def test_unknown_field_on_ticket_patch_is_400(client, headers):
    ticket = post(client, headers, "tickets", TICKET).get_json()["id"]
    response = client.patch(f"/tickets/{ticket}", json={"fields": {"severity": "high"}},
                            headers=headers)
    assert response.status_code == 400
    assert response.get_json() == {"message": "Unknown field: severity", "error": True}


@pytest.mark.parametrize("plural,fields", [("contacts", {"first_name": "Ada"}),
                                           ("tickets", TICKET)])
def test_a_store_failure_is_500_with_an_error_id(client, headers, monkeypatch, plural,
                                                 fields):
    from connector.service import objects

    def broken(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(objects, "create", broken)
    response = post(client, headers, plural, fields)
    assert response.status_code == 500
    assert response.is_json
    body = response.get_json()
    assert body == {"message": "Internal error. Quote this error id to the operator: "
                               f"{body['error_id']}", "error": True,
                    "error_id": body["error_id"]}


@pytest.mark.parametrize("object_type,name", [
    ("contact", "contact_owner"), ("ticket", "ticket_owner"), ("contact", "ticket_owner"),
    ("contact", "id"), ("ticket", "created_at"), ("contact", "updated_at"),
    ("contact", "archived"), ("ticket", "archived_by"), ("contact", "owner_assigned_at"),
])
def test_a_custom_field_may_not_take_a_system_fields_name(client, headers, object_type,
                                                          name):
    response = client.post("/fields", json={"object_type": object_type, "internal_name": name,
                                            "type": "string"}, headers=headers)
    assert response.status_code == 400
    assert response.get_json() == {
        "message": f"Invalid field 'internal_name': '{name}' is a system field and cannot be "
                   "defined", "error": True}
    assert client.get("/fields", headers=headers).get_json()["results"] == []


def test_a_custom_field_named_like_a_built_in_one_already_exists(client, headers):
    response = client.post("/fields", json={"object_type": "contact", "internal_name": "email"},
                           headers=headers)
    assert response.status_code == 409
    assert response.get_json()["message"] == "Field 'email' already exists"


@pytest.mark.parametrize("content_type", [None, "text/plain",
                                          "application/x-www-form-urlencoded"])
def test_a_json_body_is_read_without_the_json_content_type(client, headers, content_type):
    import json

    kwargs = {"content_type": content_type} if content_type else {}
    created = client.post("/contacts", data=json.dumps({"fields": {"first_name": "Ada"}}),
                          headers=headers, **kwargs)
    assert created.status_code == 201, created.get_json()
    assert created.get_json()["first_name"] == "Ada"
    ticket = client.post("/tickets", data=json.dumps({"fields": TICKET}), headers=headers,
                         **kwargs)
    assert ticket.status_code == 201
    broken = client.post("/tickets", data="{not json", headers=headers, **kwargs)
    assert broken.status_code == 400
    assert broken.get_json() == {"message": "Invalid JSON body", "error": True}
