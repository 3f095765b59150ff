"""Bounded work for every input, and no internals in errors. Run on PostgreSQL too
(``TEST_DATABASE=postgres``): NUL bytes and driver errors differ there."""

from __future__ import annotations

import logging
import re

import pytest
from click.testing import CliRunner

from connector.mapping import transforms, versions
from connector.web import limits
from tests.admin.seed import csrf, sign_in
from tests.conftest import auth

ADMIN = auth(None, admin=True)
ALIAS_BOMB = """source: hubspot
object: contact
a: &a ["x","x","x","x","x","x","x","x","x"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
"""


def contact_yaml(client) -> str:
    return client.get("/mappings/hubspot/contact", headers=ADMIN).get_json()["current"]["yaml"]


# -- YAML -----------------------------------------------------------------------------------

def test_yaml_anchors_and_aliases_are_refused_before_anything_is_built(client, headers):
    for path in ("/mappings/hubspot/contact/validate", "/mappings/hubspot/contact"):
        method = client.post if path.endswith("validate") else client.put
        response = method(path, json={"yaml": ALIAS_BOMB, "comment": "x"}, headers=headers)
        body = response.get_json()
        errors = body["errors"]
        assert errors[0]["line"] == 3
        assert "anchors and aliases (&name, *name) are not allowed" in errors[0]["message"]
    assert response.status_code == 400


def test_yaml_over_the_size_cap_is_refused(client, headers):
    text = contact_yaml(client) + "#" + "x" * 70_000 + "\n"
    response = client.post("/mappings/hubspot/contact/validate", json={"yaml": text},
                           headers=headers).get_json()
    assert response["valid"] is False
    assert response["errors"][0]["message"] == (f"the text is {len(text)} characters long; "
                                                "at most 65536")


def test_yaml_limits_hold_in_the_console_and_the_cli(client, container, make_account,
                                                     tmp_path):
    from connector.service.admin_users import create_admin
    from tests.admin.seed import PASSWORD

    create_admin(container.db, "ops@acme.example", make_account(), PASSWORD)
    sign_in(client, "ops@acme.example")
    checked = client.post("/admin/mappings/hubspot/contact/validate",
                          data={"yaml": ALIAS_BOMB},
                          headers={"X-CSRF-Token": csrf(client)}).get_json()
    assert checked["ok"] is False and "anchors and aliases" in checked["errors"][0]

    from connector.cli import main

    path = tmp_path / "contact.yaml"
    path.write_text(ALIAS_BOMB)
    result = CliRunner().invoke(main, ["mappings", "validate", str(path)])
    assert result.exit_code == 1 and "anchors and aliases" in result.output


# -- regexes --------------------------------------------------------------------------------

def test_mapping_regexes_run_on_re2_with_an_input_cap(client, headers):
    kind, pattern = transforms.compile_transform({"regex": "^(a+)+$"})
    assert kind == "regex" and not isinstance(pattern, re.Pattern)
    # the backtracking case answers at once; a long value is only read up to the cap
    assert transforms.apply_transform(kind, pattern, "a" * 50 + "b") is None
    assert transforms.apply_transform(kind, pattern, "a" * 50) == "a" * 50
    kind, tail = transforms.compile_transform({"regex": "b$"})
    long_value = "a" * transforms.MAX_REGEX_INPUT + "b"
    assert transforms.apply_transform(kind, tail, long_value) is None
    text = contact_yaml(client).replace(
        "company: {source: company, transforms: [trim]}",
        "company: {source: company, transforms: [trim, {regex: '^(a+)+$'}]}")
    result = client.post("/mappings/hubspot/contact/preview", headers=headers, json={
        "yaml": text, "payload": {"company": "a" * 40 + "!"}}).get_json()
    assert result["errors"] == [] and result["record"]["company"] is None


def test_a_pattern_re2_cannot_run_is_refused_naming_the_field(client, headers):
    text = contact_yaml(client).replace(
        "company: {source: company, transforms: [trim]}",
        "company: {source: company, transforms: [trim, {regex: '(a)\\1'}]}")
    response = client.put("/mappings/hubspot/contact", json={"yaml": text}, headers=headers)
    assert response.status_code == 400
    [error] = response.get_json()["errors"]
    assert error["field"] == "company"
    assert error["message"].startswith("transform 2 (regex) cannot be used: invalid escape "
                                       "sequence: \\1. Mapping regexes run on RE2")
    lookahead = text.replace("(a)\\1", "a(?=b)")
    response = client.put("/mappings/hubspot/contact", json={"yaml": lookahead},
                          headers=headers)
    assert response.status_code == 400 and "lookaround" in response.get_json()["message"]


# -- JSON, NUL, surrogates, integers ------------------------------------------------------

def test_json_nested_too_deep_gets_a_400(client, headers):
    for depth in (40, 100_000):
        body = "[" * depth + "]" * depth
        response = client.post("/users", data=body, headers={
            **headers, "Content-Type": "application/json"})
        assert response.status_code == 400, depth
        assert "nested deeper than 32 levels" in response.get_json()["message"]
    nested = {"email": "a@b.test", "crm_ids": {}}
    inner = nested["crm_ids"]
    for _ in range(40):
        inner["x"] = {}
        inner = inner["x"]
    response = client.post("/users", json=nested, headers=headers)
    assert response.get_json()["message"] == (
        "Invalid field 'crm_ids." + ".".join(["x"] * 31) + "': nested deeper than 32 levels")
    webhook = client.post("/webhooks/hubspot", data="[" * 5000 + "]" * 5000,
                          headers={"Content-Type": "application/json"})
    assert webhook.status_code == 400


def test_integers_too_large_for_their_field_get_a_400(client, headers):
    response = client.post("/routers", headers=headers, json={
        "name": "R", "object_type": "contact",
        "settings": {"users": [{"user_id": "u", "daily_cap": 10**30}]}})
    assert response.status_code == 400
    assert response.get_json()["message"] == (
        f"Invalid field 'settings.users.0.daily_cap': the number is too large (at most "
        f"{limits.MAX_INT})")
    shown = client.get(f"/mappings/hubspot/contact/versions/{10**30}", headers=headers)
    assert shown.status_code == 404
    diff = client.get(f"/mappings/hubspot/contact/diff?from={2**31}", headers=headers)
    assert diff.status_code == 400 and "'from'" in diff.get_json()["message"]
    rollback = client.post("/mappings/hubspot/contact/rollback", headers=headers,
                           json={"version": 2**40})
    assert rollback.status_code == 400 and "'version'" in rollback.get_json()["message"]


@pytest.mark.parametrize("where", ["body", "name", "query", "path", "surrogate", "key"])
def test_nul_bytes_and_lone_surrogates_get_a_400_on_every_database(client, headers, where):
    json_headers = {**headers, "Content-Type": "application/json"}
    if where == "body":
        response = client.post("/users", json={"email": "a\x00@b.test"}, headers=headers)
    elif where == "name":
        response = client.post("/users", json={"email": "a@b.test", "name": "x\x00"},
                               headers=headers)
    elif where == "query":
        response = client.get("/users?email=a%00b", headers=headers)
    elif where == "path":
        response = client.get("/users/abc%00def", headers=headers)
    elif where == "surrogate":
        response = client.post("/users", data='{"email": "a@b.test", "name": "\\ud800"}',
                               headers=json_headers)
    else:
        response = client.post("/users", data='{"email": "a@b.test", "\\udfff": 1}',
                               headers=json_headers)
    assert response.status_code == 400, response.get_json()
    message = response.get_json()["message"]
    assert "NUL character" in message or "unpaired UTF-16 surrogate" in message
    assert client.get("/users", headers=headers).get_json()["results"] == []


def test_nul_in_console_forms_gets_a_400(client, container, make_account):
    from connector.service.admin_users import create_admin
    from tests.admin.seed import PASSWORD

    create_admin(container.db, "ops@acme.example", make_account(), PASSWORD)
    sign_in(client, "ops@acme.example")
    response = client.post("/admin/mappings/hubspot/contact", data={
        "csrf_token": csrf(client), "yaml": "a", "comment": "x\x00"})
    assert response.status_code == 400
    assert response.get_json()["message"] == ("Invalid field 'comment': contains a NUL "
                                              "character")


def test_what_the_api_accepts_the_console_can_show(client, container, make_account):
    from connector.service.admin_users import create_admin
    from tests.admin.seed import PASSWORD

    account = make_account()
    headers = auth(account)
    far = client.post("/users", headers=headers, json={
        "email": "far@b.test", "timezone": "Pacific/Kiritimati",
        "out_of_office": [{"start": "2026-12-01T00:00:00Z", "end": "9999-12-31T23:59:59Z"}]})
    assert far.status_code == 400
    assert far.get_json()["message"] == ("Invalid field 'out_of_office.0.end': must be "
                                         "between 1970-01-01 and 9998-12-31")
    overflow = client.post("/users", headers=headers, json={
        "email": "far@b.test",
        "out_of_office": [{"start": "2026-12-01T00:00:00Z",
                           "end": "9999-12-31T23:00:00-05:00"}]})
    assert overflow.status_code == 400
    ok = client.post("/users", headers=headers, json={
        "email": "ok@b.test", "timezone": "Pacific/Kiritimati",
        "out_of_office": [{"start": "2026-12-01T00:00:00Z", "end": "9998-12-30T00:00:00Z"}]})
    assert ok.status_code == 201
    create_admin(container.db, "ops@acme.example", account, PASSWORD)
    sign_in(client, "ops@acme.example")
    page = client.get("/admin/users")
    assert page.status_code == 200 and "ok@b.test" in page.get_data(as_text=True)


def test_sign_in_with_a_huge_email_is_refused(client):
    page = client.get("/admin/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = client.post("/admin/login", data={"email": "a" * 500_000 + "@x.test",
                                                 "password": "p", "csrf_token": token})
    assert response.status_code == 400
    assert "Invalid field &#39;email&#39;: at most 254 characters" in \
        response.get_data(as_text=True)


# -- no internals in errors ------------------------------------------------------------

def test_an_unexpected_error_is_a_generic_500_with_an_id_in_the_log(client, headers,
                                                                   monkeypatch, caplog):
    from sqlalchemy.exc import OperationalError

    from connector.web import api

    def broken(*args, **kwargs):
        raise OperationalError("SELECT secret FROM users WHERE id = %(id)s",
                               {"id": "hunter2"}, Exception("server closed"))

    monkeypatch.setattr(api, "dispatch", broken, raising=False)
    monkeypatch.setattr(versions, "list_mappings", broken)
    with caplog.at_level(logging.ERROR):
        response = client.get("/mappings", headers=headers)
    assert response.status_code == 500
    body = response.get_json()
    assert set(body) == {"message", "error", "error_id"} and body["error"] is True
    assert body["message"] == ("Internal error. Quote this error id to the operator: "
                               f"{body['error_id']}")
    text = response.get_data(as_text=True)
    for leak in ("SELECT", "hunter2", "OperationalError", "server closed"):
        assert leak not in text
    [record] = [r for r in caplog.records if body["error_id"] in r.getMessage()]
    assert record.exc_info is not None and "hunter2" in caplog.text


def test_a_nul_in_a_path_never_returns_sql(client, headers):
    for path in ("/users/x%00y", "/routers/x%00y", "/contacts/x%00y", "/events/x%00y",
                 "/mappings/hubspot/contact%00"):
        response = client.get(path, headers=headers)
        text = response.get_data(as_text=True)
        assert response.status_code == 400, path
        assert "SELECT" not in text and "parameters" not in text.lower()


def test_health_checks_name_no_exception(client, container):
    from sqlalchemy import create_engine

    container.db.engine = create_engine("postgresql+psycopg://nobody@127.0.0.1:1/none")
    for path in ("/healthz", "/readyz"):
        response = client.get(path)
        assert response.status_code == 503
        assert response.get_json()["database"] == "unreachable"
        assert "Error" not in response.get_data(as_text=True)


def test_text_that_only_looks_like_a_limit_is_accepted(client, headers):
    """A literal backslash-u0000, a surrogate pair (an emoji) and a long number as text
    are ordinary values."""
    body = ('{"email": "ok@b.test", "name": "C:\\\\u0000 \\ud83d\\ude00", '
            '"crm_ids": {"hubspot": "12345678901234567890123"}}')
    response = client.post("/users", data=body, headers={
        **headers, "Content-Type": "application/json"})
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["name"] == "C:\\u0000 \U0001F600"


def test_the_console_shows_a_date_stored_before_the_limit(client, container, make_account):
    from connector.service.admin_users import create_admin
    from connector.store.models import RepRow
    from tests.admin.seed import PASSWORD

    account = make_account()
    with container.db.session() as session:
        session.add(RepRow(account_id=account, email="far@b.test",
                           timezone="Pacific/Kiritimati", out_of_office=[
                               {"start": "2026-01-01T00:00:00Z",
                                "end": "9999-12-31T23:59:59Z"}]))
    create_admin(container.db, "ops@acme.example", account, PASSWORD)
    sign_in(client, "ops@acme.example")
    page = client.get("/admin/users")
    assert page.status_code == 200 and "9999-12-31 23:59:59Z" in page.get_data(as_text=True)
