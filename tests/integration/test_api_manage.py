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
