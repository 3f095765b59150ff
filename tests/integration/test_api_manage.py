import pytest

from tests.conftest import auth
from tests.integration.helpers import dispatch, make_contact, make_router, make_user


def test_users_crud_and_validation(client, headers):
    created = client.post("/users", json={
        "email": "Jane@Example.com", "timezone": "Europe/Berlin",
        "working_hours": {"monday": [{"start": "09:00", "end": "17:00"}]}}, headers=headers)
    assert created.status_code == 201
    user = created.get_json()
    assert user["email"] == "jane@example.com"
    assert client.post("/users", json={"email": "jane@example.com"},
                       headers=headers).status_code == 409
    bad_zone = client.post("/users", json={"email": "x@y.io", "timezone": "Mars/Base"},
                           headers=headers)
    assert bad_zone.status_code == 400
    assert bad_zone.get_json()["message"] == \
        "Invalid field 'timezone': unknown IANA time zone 'Mars/Base'"
    bad_hours = client.post("/users", json={"email": "x@y.io", "working_hours": {
        "monday": [{"start": "9am", "end": "17:00"}]}}, headers=headers)
    assert bad_hours.get_json()["message"] == \
        "Invalid field 'working_hours.monday.0.start': must be a time of day as HH:MM"
    assert client.post("/users", json={"email": "x@y.io", "colour": "red"},
                       headers=headers).get_json()["message"] == "Unknown field 'colour'"
    patched = client.patch(f"/users/{user['id']}", json={"status": "unavailable"},
                           headers=headers)
    assert patched.get_json()["status"] == "unavailable"
    assert client.delete(f"/users/{user['id']}", headers=headers).status_code == 204
    assert client.get(f"/users/{user['id']}", headers=headers).status_code == 404


def test_router_lifecycle_and_reference_checks(client, headers):
    jane = make_user(client, headers, "jane@example.com")
    bad = client.post("/routers", json={"name": "x", "object_type": "contact", "settings": {
        "users": [{"user_id": jane}, {"user_id": "ghost"}]}}, headers=headers)
    assert bad.status_code == 400
    assert bad.get_json()["message"] == \
        "Invalid field 'settings.users.1.user_id': no user with id 'ghost'"
    wrong_op = client.post("/routers", json={"name": "x", "object_type": "contact", "settings": {
        "trigger": {"groups": [{"conditions": [{"field": "a", "operator": "near"}]}]}}},
        headers=headers)
    assert "unknown operator 'near'" in wrong_op.get_json()["message"]
    router = make_router(client, headers, [jane], published=False)
    contact = make_contact(client, headers)
    assert dispatch(client, headers, router, contact).get_json()["message"] == \
        "The router is unpublished"
    assert client.post(f"/routers/{router}/publish", headers=headers).get_json()["published"]
    assert dispatch(client, headers, router, contact).get_json()["success"]
    assert client.post(f"/routers/{router}/unpublish",
                       headers=headers).get_json()["published"] is False
    assert client.delete(f"/routers/{router}", headers=headers).status_code == 204
    assert client.get(f"/routers/{router}", headers=headers).status_code == 404


def test_editing_members_keeps_the_rotation(client, headers):
    a, b, c, d = (make_user(client, headers, f"{n}@example.com") for n in "abcd")
    router = make_router(client, headers, [a, b, c])
    picks = [dispatch(client, headers, router, make_contact(client, headers)).get_json()["user"]
             for _ in range(2)]
    assert picks == ["a@example.com", "b@example.com"]
    # remove a, add d: c is still next, then d, then b
    client.patch(f"/routers/{router}", json={"settings": {"users": [
        {"user_id": b}, {"user_id": c}, {"user_id": d}]}}, headers=headers)
    picks = [dispatch(client, headers, router, make_contact(client, headers)).get_json()["user"]
             for _ in range(3)]
    assert picks == ["c@example.com", "d@example.com", "b@example.com"]


def test_deleting_a_user_removes_them_from_routers(client, headers):
    a, b = make_user(client, headers, "a@example.com"), make_user(client, headers, "b@example.com")
    router = make_router(client, headers, [a, b])
    client.delete(f"/users/{a}", headers=headers)
    users = client.get(f"/routers/{router}", headers=headers).get_json()["settings"]["users"]
    assert [u["user_id"] for u in users] == [b]


def test_accounts_need_an_admin_token(client, headers):
    assert client.post("/accounts", json={"name": "New"}, headers=headers).status_code == 403
    admin = auth(None, admin=True)
    created = client.post("/accounts", json={"name": "New"}, headers=admin)
    assert created.status_code == 201
    new_id = created.get_json()["id"]
    assert client.get("/account", headers=auth(new_id)).get_json()["name"] == "New"
    client.patch(f"/accounts/{new_id}", json={"active": False}, headers=admin)
    assert dispatch(client, auth(new_id), "r", "o").get_json() == {
        "message": "Account is not active"}


def test_tenant_isolation(client, headers, make_account):
    other = auth(make_account("Other"))
    jane = make_user(client, headers, "jane@example.com")
    router = make_router(client, headers, [jane])
    contact = make_contact(client, headers, email="ada@example.com")
    ticket = client.post("/tickets", json={"fields": {"ticket_name": "t", "pipeline": "p",
                                                      "ticket_stage": "s"}},
                         headers=headers).get_json()["id"]
    # the other tenant sees nothing, changes nothing, routes nothing
    for path in (f"/contacts/{contact}", f"/tickets/{ticket}", f"/users/{jane}",
                 f"/routers/{router}"):
        assert client.get(path, headers=other).status_code == 404
        assert client.delete(path, headers=other).status_code == 404
    assert client.patch(f"/contacts/{contact}", json={"fields": {"first_name": "X"}},
                        headers=other).status_code == 404
    assert client.patch(f"/routers/{router}", json={"published": False},
                        headers=other).status_code == 404
    assert client.post(f"/routers/{router}/unpublish", headers=other).status_code == 404
    assert client.get("/contacts", headers=other).get_json()["results"] == []
    assert client.get("/users", headers=other).get_json()["results"] == []
    assert client.get("/routers", headers=other).get_json()["results"] == []
    assert client.get(f"/decisions?object_id={contact}", headers=other).get_json()[
        "results"] == []
    assert dispatch(client, other, router, contact).get_json() == {"message": "Router not found"}
    their_user = make_user(client, other, "spy@example.com")
    their_router = make_router(client, other, [their_user])
    assert dispatch(client, other, their_router, contact).get_json() == {
        "message": "Object not found"}
    mixed = client.post("/routers", json={"name": "x", "object_type": "contact",
                                          "settings": {"users": [{"user_id": jane}]}},
                        headers=other)
    assert mixed.status_code == 400
    # the other tenant may reuse an email that exists in this one
    assert client.post("/contacts", json={"fields": {"email": "ada@example.com"}},
                       headers=other).status_code == 201
    assert client.get(f"/contacts/{contact}", headers=headers).get_json()["first_name"] == "Ada"


def test_openapi_and_health(client):
    spec = client.get("/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    for path in ("/dispatch/router", "/contacts", "/contacts/{id}", "/tickets", "/users",
                 "/routers", "/routers/{id}/publish", "/decisions", "/fields"):
        assert path in spec["paths"], path
    assert "UserIn" in spec["components"]["schemas"]
    assert client.get("/healthz").get_json() == {"status": "ok", "database": "ok"}


def _router_with(condition):
    return {"name": "x", "object_type": "contact", "published": True, "settings": {
        "trigger": {"groups": [{"conditions": [
            {"field": "country", "operator": "equals", "value": "DE"}, condition]}]}}}


WHERE = "settings.trigger.groups.0.conditions.1"


@pytest.mark.parametrize("condition,where,message", [
    ({"field": "n", "operator": "between", "value": 5}, "value",
     "'between' needs a [low, high] pair"),
    ({"field": "n", "operator": "between", "value": [1, 2, 3]}, "value",
     "'between' needs a [low, high] pair"),
    ({"field": "n", "operator": "between", "value": ["a", "z"]}, "value",
     "'between' needs a [low, high] pair of two numbers or two dates"),
    ({"field": "n", "operator": "between", "value": [10, 1]}, "value",
     "'between' needs low <= high"),
    ({"field": "n", "operator": "in", "value": []}, "value",
     "'in' needs a non-empty list of values"),
    ({"field": "n", "operator": "not_in", "value": 5}, "value",
     "'not_in' needs a non-empty list of values"),
    ({"field": "n", "operator": "in", "value": [{"a": 1}]}, "value",
     "'in' needs a non-empty list of values"),
    ({"field": "n", "operator": "gt", "value": "lots"}, "value",
     "'gt' needs a number or a date"),
    ({"field": "n", "operator": "lte", "value": None}, "value",
     "'lte' needs a number or a date"),
    ({"field": "n", "operator": "gte", "value": [1]}, "value",
     "'gte' needs a number or a date"),
    ({"field": "n", "operator": "is_known", "value": "DE"}, "value",
     "'is_known' takes no value"),
    ({"field": "n", "operator": "equals"}, "value",
     "'equals' needs one text, number or boolean value"),
    ({"field": "n", "operator": "contains", "value": ["a"]}, "value",
     "'contains' needs one text, number or boolean value"),
    ({"field": "n", "operator": "near", "value": 1}, "operator",
     "unknown operator 'near', use one of equals, not_equals, contains, not_contains, "
     "starts_with, ends_with, in, not_in, is_known, is_unknown, gt, gte, lt, lte, between"),
])
def test_a_condition_value_must_fit_its_operator(client, headers, condition, where, message):
    created = client.post("/routers", json=_router_with(condition), headers=headers)
    assert created.status_code == 400
    assert created.get_json() == {"message": f"Invalid field '{WHERE}.{where}': {message}",
                                  "error": True}
    router = client.post("/routers", json={"name": "ok", "object_type": "contact"},
                         headers=headers).get_json()["id"]
    patched = client.patch(f"/routers/{router}", json={"settings": _router_with(
        condition)["settings"]}, headers=headers)
    assert patched.status_code == 400
    assert patched.get_json()["message"] == f"Invalid field '{WHERE}.{where}': {message}"
    assert client.get(f"/routers/{router}", headers=headers).get_json()["settings"] is None


def test_a_non_finite_condition_value_is_refused(client, headers):
    body = '{"name": "x", "object_type": "contact", "settings": {"trigger": {"groups": [' \
        '{"conditions": [{"field": "n", "operator": "equals", "value": "DE"}, ' \
        '{"field": "n", "operator": "gt", "value": NaN}]}]}}}'
    response = client.post("/routers", data=body, content_type="application/json",
                           headers=headers)
    assert response.status_code == 400
    assert response.get_json()["message"] == \
        f"Invalid field '{WHERE}.value': 'gt' needs a number or a date"


@pytest.mark.parametrize("condition", [
    {"field": "n", "operator": "between", "value": [1, 10]},
    {"field": "n", "operator": "between", "value": ["10", "500"]},
    {"field": "n", "operator": "between", "value": ["2026-01-01", "2026-12-31"]},
    {"field": "n", "operator": "in", "value": ["DE", "FR"]},
    {"field": "n", "operator": "not_in", "value": "DE, FR"},
    {"field": "n", "operator": "is_known"},
    {"field": "n", "operator": "is_unknown", "value": None},
    {"field": "n", "operator": "gt", "value": 5},
    {"field": "n", "operator": "lt", "value": "2026-03-01T09:00:00Z"},
    {"field": "n", "operator": "equals", "value": True},
])
def test_conditions_that_fit_are_saved_and_dispatch(client, headers, condition):
    jane = make_user(client, headers, "jane@example.com")
    body = _router_with(condition)
    body["settings"]["users"] = [{"user_id": jane}]
    body["settings"]["trigger"]["groups"][0]["match"] = "any"
    created = client.post("/routers", json=body, headers=headers)
    assert created.status_code == 201, created.get_json()
    response = dispatch(client, headers, created.get_json()["id"],
                        make_contact(client, headers, country="DE"))
    assert response.status_code == 200 and response.get_json()["success"] is True


def test_management_bodies_are_read_without_the_json_content_type(client, headers):
    import json

    created = client.post("/users", data=json.dumps({"email": "jane@example.com"}),
                          headers=headers, content_type="text/plain")
    assert created.status_code == 201 and created.get_json()["email"] == "jane@example.com"
    broken = client.post("/users", data="email=jane", headers=headers)
    assert broken.status_code == 400
