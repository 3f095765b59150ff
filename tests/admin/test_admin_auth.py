"""Sign-in, sessions, CSRF and throttling of the admin console."""

from __future__ import annotations

import pytest

from connector.service.admin_users import AdminUserError, create_admin
from connector.store import admin_repo
from tests.admin.seed import PASSWORD, csrf, seed, sign_in


@pytest.fixture
def seeded(container, client, make_account):
    return seed(container, client, make_account)


@pytest.mark.parametrize("path", ["/admin/", "/admin/routers", "/admin/mappings",
                                  "/admin/decisions", "/admin/events",
                                  "/admin/mappings/hubspot/contact"])
def test_pages_redirect_to_sign_in_without_a_session(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/admin/login?next=")


def test_sign_in_then_pages_open_and_sign_out_ends_the_session(client, seeded):
    response = sign_in(client, seeded.email)
    assert response.status_code == 302 and response.headers["Location"] == "/admin/"
    assert client.get("/admin/routers").status_code == 200
    client.post("/admin/logout", data={"csrf_token": csrf(client)})
    assert client.get("/admin/routers").status_code == 302


def test_wrong_password_is_refused_without_saying_which_part_was_wrong(client, seeded):
    wrong = sign_in(client, seeded.email, "not the password")
    unknown = sign_in(client, "nobody@acme.example", PASSWORD)
    for response in (wrong, unknown):
        assert response.status_code == 401
        assert "Wrong email or password." in response.get_data(as_text=True)
    assert client.get("/admin/routers").status_code == 302


def test_session_cookie_is_http_only_and_same_site_lax(client, seeded):
    response = sign_in(client, seeded.email)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert PASSWORD not in cookie


def test_post_without_csrf_token_is_refused_with_400(client, seeded):
    sign_in(client, seeded.email)
    response = client.post(f"/admin/routers/{seeded.router_id}/publish",
                           data={"published": "0"})
    assert response.status_code == 400
    assert "CSRF token missing or invalid" in response.get_data(as_text=True)
    wrong = client.post(f"/admin/routers/{seeded.router_id}/publish",
                        data={"published": "0", "csrf_token": "forged"})
    assert wrong.status_code == 400


def test_sign_in_form_itself_needs_the_csrf_token(client, seeded):
    response = client.post("/admin/login", data={"email": seeded.email,
                                                 "password": PASSWORD})
    assert response.status_code == 400


def test_repeated_failures_are_throttled_even_with_the_right_password(client, seeded):
    for _ in range(5):
        assert sign_in(client, seeded.email, "guess").status_code == 401
    response = sign_in(client, seeded.email)
    assert response.status_code == 429
    assert "Too many failed sign-ins" in response.get_data(as_text=True)


def test_next_parameter_only_redirects_inside_the_console(client, seeded):
    token = csrf(client, "/admin/login")
    response = client.post("/admin/login", data={
        "email": seeded.email, "password": PASSWORD, "csrf_token": token,
        "next": "https://evil.example/"})
    assert response.headers["Location"] == "/admin/"


def test_password_is_stored_hashed(container, seeded):
    with container.db.session() as session:
        row = admin_repo.admin_by_email(session, seeded.email)
        assert row.password_hash.startswith("scrypt:")
        assert PASSWORD not in row.password_hash


def test_deactivated_admin_is_signed_out_on_the_next_request(container, client, seeded):
    sign_in(client, seeded.email)
    with container.db.session() as session:
        admin_repo.admin_by_email(session, seeded.email).active = False
    assert client.get("/admin/routers").status_code == 302


def test_create_admin_refuses_short_passwords_duplicates_and_unknown_accounts(container,
                                                                              seeded):
    with pytest.raises(AdminUserError, match="at least 10 characters"):
        create_admin(container.db, "x@acme.example", seeded.account_id, "short")
    with pytest.raises(AdminUserError, match="already exists"):
        create_admin(container.db, seeded.email.upper(), seeded.account_id, PASSWORD)
    with pytest.raises(AdminUserError, match="no account with id 'nope'"):
        create_admin(container.db, "y@acme.example", "nope", PASSWORD)


def test_console_is_disabled_without_a_secret_key(config):
    from dataclasses import replace

    from connector.web import create_app

    app = create_app(replace(config, secret_key=None), start_executor=False)
    response = app.test_client().get("/admin/login")
    assert response.status_code == 503
    assert "CONNECTOR_SECRET_KEY" in response.get_data(as_text=True)
    app.config["CONTAINER"].close()


def test_cli_creates_an_admin_from_stdin(config, container, make_account, monkeypatch):
    from click.testing import CliRunner

    from connector.cli import main

    account_id = make_account("Cli")
    monkeypatch.setenv("DATABASE_URL", config.database_url)
    result = CliRunner().invoke(main, ["admin", "create-user", "--email", "Ana@Cli.example",
                                       "--account", account_id, "--password-stdin"],
                                input=PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    with container.db.session() as session:
        assert admin_repo.admin_by_email(session, "ana@cli.example").account_id == account_id
    again = CliRunner().invoke(main, ["admin", "create-user", "--email", "ana@cli.example",
                                      "--account", account_id, "--password-stdin"],
                               input=PASSWORD + "\n")
    assert again.exit_code != 0 and "already exists" in again.output
