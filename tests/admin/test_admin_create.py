"""The console creates, publishes and deletes routers and users, shows the account with
its connected portals and orgs, and makes bearer tokens for its API."""

from __future__ import annotations

import jwt
from click.testing import CliRunner

from connector.cli import main
from connector.store.models import RepRow, RouterRow
from tests.admin.seed import csrf, sign_in
from tests.admin.seed import html_of as _html
from tests.conftest import JWT_SECRET, auth


def test_create_a_router_publish_it_and_delete_it(container, client, two):
    acme, globex = two
    sign_in(client, acme.email)
    token = csrf(client)
    refused = client.post("/admin/routers", data={"csrf_token": token, "name": "",
                                                  "object_type": "contact"})
    assert refused.status_code == 400
    assert "Invalid field &#39;name&#39;" in _html(refused)
    odd = client.post("/admin/routers", data={"csrf_token": token, "name": "X",
                                              "object_type": "planet"})
    assert odd.status_code == 400 and "object_type" in _html(odd)

    created = client.post("/admin/routers", data={"csrf_token": token, "name": "Inbound",
                                                  "object_type": "ticket"})
    assert created.status_code == 302
    router_id = created.headers["Location"].rsplit("/", 1)[-1]
    with container.db.session() as session:
        row = session.get(RouterRow, router_id)
        assert (row.account_id, row.name, row.object_type, row.published, row.settings) == \
            (acme.account_id, "Inbound", "ticket", False, None)
    assert "Router Inbound created" in _html(client.get(created.headers["Location"]))
    # the API sees it as any other router
    assert client.get(f"/routers/{router_id}", headers=auth(acme.account_id)).json["name"] \
        == "Inbound"

    publish = client.post(f"/admin/routers/{acme.router_id}/publish",
                          data={"csrf_token": token, "published": "1"})
    assert publish.status_code == 302
    # another account's router is not reachable
    assert client.post(f"/admin/routers/{globex.router_id}/delete",
                       data={"csrf_token": token}).status_code == 404
    deleted = client.post(f"/admin/routers/{router_id}/delete", data={"csrf_token": token})
    assert deleted.status_code == 302
    with container.db.session() as session:
        assert session.get(RouterRow, router_id) is None
        assert session.get(RouterRow, globex.router_id) is not None


def test_add_a_user_and_delete_one(container, client, two):
    acme, _ = two
    sign_in(client, acme.email)
    token = csrf(client, "/admin/users")
    bad = client.post("/admin/users", data={"csrf_token": token, "email": "nope",
                                            "name": "", "timezone": "UTC"})
    assert bad.status_code == 400 and "Invalid field &#39;email&#39;" in _html(bad)
    zone = client.post("/admin/users", data={"csrf_token": token, "email": "kim@acme.example",
                                             "name": "Kim", "timezone": "Mars/Base"})
    assert zone.status_code == 400 and "unknown IANA time zone" in _html(zone)
    taken = client.post("/admin/users", data={"csrf_token": token,
                                              "email": "jane@acme.example", "name": "J"})
    assert taken.status_code == 409 and "already exists" in _html(taken)

    added = client.post("/admin/users", data={"csrf_token": token, "email": "Kim@Acme.example",
                                              "name": "Kim Lee", "timezone": "Europe/Oslo"})
    assert added.status_code == 302
    kim = added.headers["Location"].rsplit("/", 1)[-1]
    with container.db.session() as session:
        row = session.get(RepRow, kim)
        assert (row.account_id, row.email, row.name, row.timezone, row.status) == \
            (acme.account_id, "kim@acme.example", "Kim Lee", "Europe/Oslo", "available")

    gone = client.post(f"/admin/users/{acme.jane}/delete", data={"csrf_token": token})
    assert gone.status_code == 302
    with container.db.session() as session:
        assert session.get(RepRow, acme.jane) is None
        router = session.get(RouterRow, acme.router_id)
        assert acme.jane not in [u["user_id"] for u in router.settings["users"]]


def test_account_page_shows_sources_and_makes_tokens(container, client, two):
    acme, globex = two
    sign_in(client, acme.email)
    page = _html(client.get("/admin/account"))
    assert acme.account_id in page and "Acme" in page
    assert f"HubSpot portal <code>{acme.portal}</code>" in page
    assert globex.account_id not in page and str(globex.portal) not in page

    token = csrf(client, "/admin/account")
    assert client.post("/admin/account/tokens", data={"csrf_token": token,
                                                      "lifetime": "forever"}).status_code == 400
    made = _html(client.post("/admin/account/tokens", data={"csrf_token": token,
                                                            "lifetime": "1d"}))
    issued = made.split('id="new-token" rows="3" readonly>', 1)[1].split("<", 1)[0]
    claims = jwt.decode(issued, JWT_SECRET, algorithms=["HS256"])
    assert claims["account_id"] == acme.account_id and claims["exp"] - claims["iat"] == 86_400
    assert "admin" not in claims
    assert client.get("/account", headers={"Authorization": f"Bearer {issued}"}).json["id"] \
        == acme.account_id


def test_accounts_list_names_every_account_and_its_sources(container, two, monkeypatch):
    acme, globex = two
    monkeypatch.setenv("DATABASE_URL", container.config.database_url)
    result = CliRunner().invoke(main, ["accounts", "list"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert any(line.startswith(acme.account_id) and "Acme" in line
               and f"hubspot {acme.portal}" in line for line in lines)
    assert any(line.startswith(globex.account_id) and "Globex" in line for line in lines)
