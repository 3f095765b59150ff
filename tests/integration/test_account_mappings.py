"""Field mappings per account: an account's edits are versions of its own, used for its
records only; the files are the defaults, which only the operator (admin token, CLI)
changes; the migration keeps earlier edits as the operator's defaults."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from alembic import command
from sqlalchemy import insert, text

from connector.jobs import inbox
from connector.mapping import versions
from connector.service.hubspot_processing import handle_events
from connector.store.db import Database, alembic_config
from connector.store.models import AccountRow
from tests.admin.seed import crm_settings, csrf, seed, sign_in
from tests.conftest import auth
from tests.integration.test_hubspot_processing import FakeCrm

ADMIN = auth(None, admin=True)
UPPER = ("country: {source: country, transforms: [trim]}",
         "country: {source: country, transforms: [trim, upper]}")


def default_text(client) -> str:
    return client.get("/mappings/hubspot/contact", headers=ADMIN).get_json()["current"]["yaml"]


def upper_countries(text_: str) -> str:
    assert UPPER[0] in text_
    return text_.replace(*UPPER)


def test_an_account_edit_is_its_own_through_the_api(client, container, make_account):
    acme, globex = auth(make_account("Acme")), auth(make_account("Globex"))
    file_text = default_text(client)
    saved = client.put("/mappings/hubspot/contact", headers=acme,
                       json={"yaml": upper_countries(file_text), "comment": "upper"})
    assert saved.status_code == 201, saved.get_json()
    assert saved.get_json()["version"] == 1

    mine = client.get("/mappings/hubspot/contact", headers=acme).get_json()
    theirs = client.get("/mappings/hubspot/contact", headers=globex).get_json()
    defaults = client.get("/mappings/hubspot/contact", headers=ADMIN).get_json()
    assert mine["current"]["version"] == 1 and "upper]" in mine["current"]["yaml"]
    assert (theirs["current"]["version"], theirs["current"]["yaml"]) == (0, file_text)
    assert [v["version"] for v in theirs["versions"]] == [0]
    assert (defaults["current"]["version"], defaults["current"]["yaml"]) == (0, file_text)
    hidden = client.get("/mappings/hubspot/contact/versions/1", headers=globex)
    assert hidden.status_code == 404
    listed = client.get("/mappings", headers=globex).get_json()["results"]
    assert {m["version"] for m in listed} == {0}
    # Globex saving its own version does not take Acme's number or touch Acme's mapping
    other = client.put("/mappings/hubspot/contact", headers=globex,
                       json={"yaml": file_text, "comment": "mine"})
    assert other.get_json()["version"] == 1
    assert client.get("/mappings/hubspot/contact", headers=acme).get_json()[
        "current"]["yaml"] == upper_countries(file_text)


def test_only_the_operator_changes_the_defaults(client, container, make_account):
    acme_id = make_account("Acme")
    acme, globex = auth(acme_id), auth(make_account("Globex"))
    file_text = default_text(client)
    client.put("/mappings/hubspot/contact", headers=acme,
               json={"yaml": file_text.replace("website_url", "site"), "comment": "own"})
    edited = upper_countries(file_text)
    saved = client.put("/mappings/hubspot/contact", headers=ADMIN,
                       json={"yaml": edited, "comment": "for everyone"})
    assert saved.status_code == 201 and saved.get_json()["account_id"] is None
    # Globex has no version of its own: it follows the defaults, shown as its version 0
    theirs = client.get("/mappings/hubspot/contact", headers=globex).get_json()["current"]
    assert (theirs["version"], theirs["label"], theirs["yaml"]) == (0, "default", edited)
    # Acme keeps its own version
    mine = client.get("/mappings/hubspot/contact", headers=acme).get_json()["current"]
    assert "site:" in mine["yaml"] and "upper]" not in mine["yaml"]
    assert container.mappings.get("hubspot", "contact", acme_id).version == 1
    assert "site" in {f.name for f in container.mappings.get("hubspot", "contact",
                                                              acme_id).fields}
    assert container.mappings.get("hubspot", "contact").version == 1  # the defaults' v1


def test_a_deactivated_account_cannot_edit_its_mapping(client, make_account):
    headers = auth(make_account("Gone", active=False))
    response = client.put("/mappings/hubspot/contact", headers=headers,
                          json={"yaml": "x: 1", "comment": ""})
    assert response.status_code == 403


@pytest.fixture
def portals(container, make_account):
    """Two accounts, each with its own HubSpot portal answered by its own fake CRM."""
    out = {}
    hubspot = container.extras["hubspot"].portals
    crms = {"111": FakeCrm(), "222": FakeCrm()}
    hubspot._factory = lambda portal, *args: crms[portal]
    for name, portal in (("Acme", "111"), ("Globex", "222")):
        account_id = make_account(name)
        hubspot.connect(portal, account_id)
        crms[portal].records["7"] = {"email": "a@x.org", "country": " de "}
        out[name] = (account_id, portal, crms[portal])
    return out


def _creation(portal: str) -> inbox.NewEvent:
    payload = {"portal_id": portal, "object_type": "contact", "object_id": "7",
               "action": "creation", "occurred_at": 1, "own_change": False}
    return inbox.NewEvent("hubspot", portal, f"creation:{portal}", "hubspot", payload)


def test_executors_map_each_record_with_its_accounts_mapping(container, portals):
    acme_id = portals["Acme"][0]
    file_text = versions.get_version(container.db, "hubspot", "contact").yaml_text
    versions.save_version(container.db, "hubspot", "contact", upper_countries(file_text),
                          "ops@acme.example", "upper", account_id=acme_id)
    inbox.store_events(container.db, [_creation("111"), _creation("222")])
    results = handle_events(container, inbox.claim(container.db))
    assert set(results.values()) == {None}
    from sqlalchemy import select

    from connector.store.models import ObjectRow

    with container.db.session() as session:
        countries = {row.account_id: row.fields["country"]
                     for row in session.scalars(select(ObjectRow))}
    assert countries == {acme_id: "DE", portals["Globex"][0]: "de"}


@pytest.fixture
def config(config):
    return crm_settings(config)


def test_a_console_edit_stays_in_its_account(container, client, make_account):
    acme = seed(container, client, make_account, name="Acme", email="ops@acme.example")
    globex = seed(container, client, make_account, name="Globex", email="ops@globex.example")
    sign_in(client, acme.email)
    original = client.get("/admin/mappings/hubspot/contact/export").get_data(as_text=True)
    saved = client.post("/admin/mappings/hubspot/contact", data={
        "csrf_token": csrf(client), "yaml": upper_countries(original), "comment": "upper"})
    assert saved.status_code == 302
    assert "upper]" in client.get("/admin/mappings/hubspot/contact/export").get_data(
        as_text=True)
    client.post("/admin/logout", data={"csrf_token": csrf(client)})

    sign_in(client, globex.email)
    theirs = client.get("/admin/mappings/hubspot/contact/export").get_data(as_text=True)
    assert theirs == original
    history = client.get("/admin/mappings/hubspot/contact/history").get_data(as_text=True)
    assert "ops@acme.example" not in history and "upper" not in history
    assert versions.get_version(container.db, "hubspot", "contact").yaml_text == original
    assert container.mappings.get("hubspot", "contact", globex.account_id).version == 0
    assert container.mappings.get("hubspot", "contact", acme.account_id).version == 1


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def migrate_url(request, tmp_path):
    if request.param == "postgres":
        return request.getfixturevalue("postgres_url")
    return f"sqlite:///{tmp_path / 'migrate.db'}"


def test_the_migration_keeps_earlier_edits_as_the_defaults(migrate_url, tmp_path):
    db = Database(migrate_url)
    config = alembic_config(migrate_url, db.engine)
    root = "mappings"
    try:
        command.upgrade(config, "0008")
        file_text = versions._file("hubspot", "deal", root).read_text()
        edited = file_text.replace("deal_name: {source: dealname, transforms: [trim]}",
                                   "deal_name: {source: dealname, transforms: [trim, upper]}")
        now = datetime.now(UTC)
        with db.engine.begin() as conn:
            conn.execute(insert(AccountRow).values(id="a1", name="a1", active=True,
                                                   created_at=now))
            conn.execute(text(
                "INSERT INTO mapping_versions (id, source, object, version, yaml_text, "
                "author, comment, created_at) VALUES ('m1', 'hubspot', 'deal', 1, :y, "
                "'ana', 'upper', :t)"), {"y": edited, "t": now})

        command.upgrade(config, "heads")

        assert versions.get_version(db, "hubspot", "deal", root=root).yaml_text == edited
        zero = versions.get_version(db, "hubspot", "deal", root=root, account_id="a1")
        assert (zero.version, zero.yaml_text) == (0, edited)
        # numbering goes on per scope: the defaults' next is 2, the account's first is 1
        assert versions.save_version(db, "hubspot", "deal", file_text, "op",
                                     root=root).version == 2
        assert versions.save_version(db, "hubspot", "deal", file_text, "acme", root=root,
                                     account_id="a1").version == 1
        command.downgrade(config, "0008")
        with db.engine.connect() as conn:
            assert conn.scalar(text("SELECT count(*) FROM mapping_versions")) == 2
    finally:
        db.dispose()
