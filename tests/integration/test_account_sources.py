"""One mapping of CRM portals/orgs to accounts: events come in through the real webhook
routes, and an account sees and replays only the events of its own HubSpot portals and
Salesforce org, through the API and the console. An event from a portal nobody connected
is stored, acknowledged and dead-lettered with the reason, and is nobody's until the
portal is connected."""

from __future__ import annotations

import dataclasses
import json
import time

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from adapters.hubspot.fake_server import make_event
from adapters.hubspot.signatures import sign_v3
from adapters.salesforce.fake_senders import ByocEventSender
from connector.cli import main
from connector.core.webhook_signature import HEADER, sign
from connector.jobs import inbox
from connector.jobs.executors import InlineExecutor
from connector.service.admin_users import create_admin
from connector.store import sources_repo
from connector.store.models import InboxEventRow
from tests.admin.seed import PASSWORD, csrf, sign_in
from tests.conftest import auth

HUBSPOT_SECRET = "sources-hubspot-secret"
SALESFORCE_SECRET = "sources-salesforce-secret"
ORG = "00D000000000042AAA"
byoc = ByocEventSender("http://unused", SALESFORCE_SECRET)


@pytest.fixture
def config(config):
    return dataclasses.replace(config, hubspot_client_secret=HUBSPOT_SECRET,
                               salesforce_webhook_secret=SALESFORCE_SECRET,
                               salesforce_org_id=ORG)


def cli(config, *args: str):
    return CliRunner().invoke(main, list(args), env={"DATABASE_URL": config.database_url})


def post_hubspot(client, events) -> None:
    body = json.dumps(events).encode()
    ts = int(time.time() * 1000)
    response = client.post("/webhooks/hubspot", data=body, headers={
        "Content-Type": "application/json", "X-HubSpot-Request-Timestamp": str(ts),
        "X-HubSpot-Signature-v3": sign_v3(HUBSPOT_SECRET, "POST",
                                          "http://localhost/webhooks/hubspot", body, ts)})
    assert response.status_code == 204, response.data


def post_byoc(client, *events) -> None:
    body = json.dumps({"events": list(events)}).encode()
    response = client.post("/webhooks/salesforce", data=body, headers={
        "Content-Type": "application/json", HEADER: sign(SALESFORCE_SECRET, body,
                                                         int(time.time()))})
    assert response.status_code == 200, response.data


def drain(container) -> None:
    InlineExecutor(container, container.extras["handlers"]).drain()


def rows(container) -> dict[str, InboxEventRow]:
    """Inbox rows by their portal/org: "hubspot:111", "salesforce"."""
    with container.db.session() as session:
        found = list(session.scalars(select(InboxEventRow)))
    return {(f"hubspot:{r.account_key}" if r.source == "hubspot" else r.source): r
            for r in found}


@pytest.fixture
def tenants(config, container, client, make_account):
    """Acme owns HubSpot portal 111 (OAuth/``hubspot connect``) and the configured
    Salesforce org; Globex owns portal 222 (``connector sources link``); nobody owns 999.
    Each portal and the org has sent one event, processed once and failed (no HubSpot
    credentials, no Interaction Service), so each is waiting to be replayed."""
    acme, globex = make_account("Acme"), make_account("Globex")
    container.extras["hubspot"].portals.connect("111", acme)
    result = cli(config, "sources", "link", "--account", globex, "--source", "hubspot",
                 "--key", "222")
    assert result.exit_code == 0, result.output
    container.extras["salesforce_ports"].account_id = acme  # SALESFORCE_ACCOUNT_ID
    post_hubspot(client, [make_event("contact.creation", 1, portal_id=111),
                          make_event("contact.creation", 2, portal_id=222),
                          make_event("contact.creation", 3, portal_id=999)])
    post_byoc(client, byoc.conversation_started("conv-1"))
    drain(container)
    for who, email in ((acme, "ops@acme.example"), (globex, "ops@globex.example")):
        create_admin(container.db, email, who, PASSWORD)
    return acme, globex


def test_processing_follows_the_mapping_and_orphans_are_dead_letters(container, tenants):
    acme, _ = tenants
    found = rows(container)
    assert set(found) == {"hubspot:111", "hubspot:222", "hubspot:999", "salesforce"}
    orphan = found["hubspot:999"]
    assert orphan.status == "dead" and orphan.attempts == 1
    assert orphan.last_error == "HubSpot portal 999 is not connected to an account"
    for key in ("hubspot:111", "hubspot:222", "salesforce"):  # owned: processed, then failed
        assert found[key].status in ("failed", "dead")  # no CRM credentials in this test
        assert "not connected" not in found[key].last_error
    assert found["salesforce"].account_key == ORG[:15]
    with container.db.session() as session:  # the configured org registered itself
        assert sources_repo.account_for(session, "salesforce", ORG[:15]) == acme


def test_the_api_lists_and_replays_only_the_accounts_own_events(container, client, tenants):
    acme, globex = tenants
    found = rows(container)

    def listed(account_id=None, admin=False):
        response = client.get("/events?status=failed", headers=auth(account_id, admin=admin))
        assert response.status_code == 200
        return {e["id"] for e in response.get_json()["results"]}

    assert listed(acme) == {found["hubspot:111"].id, found["salesforce"].id}
    assert listed(globex) == {found["hubspot:222"].id}
    assert found["hubspot:999"].id in listed(admin=True)  # an operator sees the orphan

    for foreign in (found["hubspot:222"].id, found["hubspot:999"].id):
        assert client.post(f"/events/{foreign}/replay", headers=auth(acme)).status_code == 404
    replayed = client.post("/events/replay", json={"all_failed": True}, headers=auth(acme))
    assert replayed.get_json() == {"replayed": 2}
    one = client.post("/events/replay", json={"ids": [found["hubspot:222"].id]},
                      headers=auth(acme))
    assert one.get_json() == {"replayed": 0}

    after = {k: r.status for k, r in rows(container).items()}
    assert after == {"hubspot:111": "pending", "salesforce": "pending",
                     "hubspot:222": "dead", "hubspot:999": "dead"}


def test_the_console_shows_and_replays_only_the_accounts_own_events(container, client,
                                                                    tenants):
    found = rows(container)
    sign_in(client, "ops@acme.example")
    page = client.get("/admin/events").get_data(as_text=True)
    assert f'id="event-{found["hubspot:111"].id}"' in page
    assert f'id="event-{found["salesforce"].id}"' in page
    assert found["hubspot:222"].id not in page and found["hubspot:999"].id not in page
    assert f"HubSpot portal 111, Salesforce org {ORG[:15]}" in page

    token = csrf(client, "/admin/events")
    for foreign in (found["hubspot:222"].id, found["hubspot:999"].id):
        response = client.post(f"/admin/events/{foreign}/replay", data={"csrf_token": token})
        assert response.status_code == 404
    client.post("/admin/events/replay", data={"csrf_token": token})

    after = {k: r.status for k, r in rows(container).items()}
    assert after == {"hubspot:111": "pending", "salesforce": "pending",
                     "hubspot:222": "dead", "hubspot:999": "dead"}


def test_connecting_the_portal_later_gives_its_events_to_that_account(config, container,
                                                                      client, tenants):
    _, globex = tenants
    orphan = rows(container)["hubspot:999"]
    result = cli(config, "hubspot", "connect", "--portal", "999", "--account", globex)
    assert result.exit_code == 0, result.output

    response = client.get("/events?status=dead", headers=auth(globex))
    (event,) = [e for e in response.get_json()["results"] if e["id"] == orphan.id]
    assert event["error"] == "HubSpot portal 999 is not connected to an account"
    assert client.post(f"/events/{orphan.id}/replay",
                       headers=auth(globex)).get_json() == {"replayed": 1}
    drain(container)
    after = rows(container)["hubspot:999"]
    assert after.status in ("failed", "dead") and "not connected" not in after.last_error


def test_a_portal_is_never_taken_from_its_account_silently(config, container, tenants):
    acme, globex = tenants
    taken = cli(config, "sources", "link", "--account", globex, "--source", "hubspot",
                "--key", "111")
    assert taken.exit_code != 0
    assert f"HubSpot portal 111 is already connected to account {acme}" in taken.output
    moved = cli(config, "admin", "link-source", "--account", globex, "--source", "hubspot",
                "--key", "111", "--move")
    assert moved.exit_code == 0, moved.output
    assert container.extras["hubspot"].portals.account_for("111") == globex
    assert container.extras["hubspot"].portals.portal_for_account(acme) is None

    listed = cli(config, "sources", "list", "--account", globex)
    assert listed.output.split("\n")[:2] == [f"hubspot\t222\t{globex}",
                                             f"hubspot\t111\t{globex}"]
    unknown = cli(config, "sources", "link", "--account", "nope", "--source", "hubspot",
                  "--key", "5")
    assert unknown.exit_code != 0 and "no account with id nope" in unknown.output


def test_cli_event_list_is_scoped_to_an_account(config, container, tenants):
    acme, _ = tenants
    found = rows(container)
    result = cli(config, "events", "list", "--account", acme)
    ids = {json.loads(line)["id"] for line in result.output.splitlines()}
    assert ids == {found["hubspot:111"].id, found["salesforce"].id}


def test_an_event_keyed_by_the_account_itself_is_that_accounts(container, client, tenants):
    """Owner write-back retries of an account without a portal are keyed by its id."""
    acme, globex = tenants
    inbox.store_events(container.db, [inbox.NewEvent("hubspot", acme, "owner-sync:x",
                                                     "hubspot_owner_sync", {})])
    mine = client.get("/events?status=pending", headers=auth(acme)).get_json()["results"]
    theirs = client.get("/events?status=pending", headers=auth(globex)).get_json()["results"]
    assert [e["kind"] for e in mine] == ["hubspot_owner_sync"] and theirs == []
