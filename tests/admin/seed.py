"""A small account for the console tests: two reps, a router with a trigger, a few
decisions, and inbox events including a dead letter.

The inbox events are stored by the real routes: signed HubSpot webhooks (which name a
record but carry none of its properties; the records live in ``SeedCrm``, read through
the portal's client as HubSpot would answer), Salesforce Outbound Messages and BYOC
events. The app must run with ``crm_settings(config)``."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

from adapters.hubspot.fake_webhooks import make_event
from adapters.hubspot.signatures import sign_v3
from adapters.salesforce.fake_senders import ByocEventSender, OutboundMessageSender
from connector.core.ports import WriteResult
from connector.core.webhook_signature import sign
from connector.jobs import inbox
from connector.service.admin_users import create_admin
from connector.service.sources import link_source
from connector.store import sources_repo
from tests.conftest import auth
from tests.integration.helpers import dispatch, make_contact, make_router, make_user

PASSWORD = "correct horse battery"
HUBSPOT_SECRET = "console-hubspot-secret"
SALESFORCE_SECRET = "whsec-console-" + "s" * 16
SALESFORCE_ORG = "00D000000000ACM"
OUTBOUND_SECRET = "console-outbound-" + "o" * 16
PORTALS = {"Acme": 1001, "Globex": 2002}


def crm_settings(config):
    """The config the seeded app runs with: HubSpot and Salesforce webhooks enabled."""
    return config.with_overrides({"hubspot_client_secret": HUBSPOT_SECRET,
                                  "salesforce_webhook_secret": SALESFORCE_SECRET,
                                  "salesforce_org_id": SALESFORCE_ORG,
                                  "salesforce_outbound_secrets": (OUTBOUND_SECRET,)})


@dataclass
class SeedCrm:
    """A HubSpot portal's records as its batch read answers them (only the asked
    properties); owners are never written."""

    records: dict[str, dict[str, Any]] = field(default_factory=dict)
    reads: list[tuple[str, list[str], list[str]]] = field(default_factory=list)

    def read_records(self, object_type, ids, properties):
        self.reads.append((object_type, list(ids), list(properties)))
        return {i: {p: self.records[i].get(p) for p in properties}
                for i in map(str, ids) if i in self.records}

    def owner_id_for_email(self, email):
        return None

    def write_owners(self, writes):
        return [WriteResult(w.record_id, True) for w in writes]


@dataclass
class Seeded:
    account_id: str
    email: str
    jane: str
    bob: str
    router_id: str
    contact_id: str
    dead_event_id: str
    crm: SeedCrm
    portal: str
    event_ids: dict[str, str] = field(default_factory=dict)


def seed(container, client, make_account, *, name: str = "Acme",
         email: str = "ops@acme.example") -> Seeded:
    account_id = make_account(name)
    headers = auth(account_id)
    create_admin(container.db, email, account_id, PASSWORD)
    jane = make_user(client, headers, f"jane@{name.lower()}.example", name="Jane Doe")
    bob = make_user(client, headers, f"bob@{name.lower()}.example", name="Bob Stone",
                    status="unavailable")
    router_id = make_router(
        client, headers, [jane, bob],
        trigger={"match": "any", "groups": [{"match": "all", "conditions": [
            {"field": "country", "operator": "equals", "value": "DE"}]}]})
    client.patch(f"/routers/{router_id}", json={"name": f"{name} inbound leads"},
                 headers=headers)
    contact_id = make_contact(client, headers, email=f"lead@{name.lower()}.example",
                              country="DE")
    assert dispatch(client, headers, router_id, contact_id).status_code == 200
    other = make_contact(client, headers, email=f"us@{name.lower()}.example", country="US")
    dispatch(client, headers, router_id, other)
    portal = PORTALS[name]
    crm = _connect_portal(container, account_id, str(portal))
    crm.records.update({
        f"{portal}01": {"firstname": "Ada", "country": "DE", "email": ""},
        f"{portal}02": {"email": " Lea@Example.com ", "country": "FR", "numemployees": "40"},
    })
    ids = _hubspot_webhook(container, client, [
        make_event("contact.creation", int(f"{portal}01"), portal_id=portal),
        make_event("contact.creation", int(f"{portal}02"), portal_id=portal),
        make_event("company.creation", int(f"{portal}03"), portal_id=portal)])
    dead = ids[f"{portal}01"]
    inbox.claim(container.db, limit=100)
    inbox.fail(container.db, dead, f"record {portal}01: hubspot/contact v2: field 'email': "
                                   "required, but 'email' is empty", retryable=False)
    with container.db.read_session() as session:
        owner = sources_repo.account_for(session, "salesforce", SALESFORCE_ORG)
    if owner in (None, account_id):  # the connector has one Salesforce org
        link_source(container.db, account_id, "salesforce", SALESFORCE_ORG)
        ids.update(_salesforce_events(container, client))
    inbox.claim(container.db, limit=100)
    inbox.complete(container.db, [i for i in ids.values() if i != dead])
    return Seeded(account_id, email, jane, bob, router_id, contact_id, dead, crm, str(portal),
                  ids)


def _connect_portal(container, account_id: str, portal: str) -> SeedCrm:
    portals = container.extras["hubspot"].portals
    crms = container.extras.setdefault("seed_crms", {})
    crms[portal] = SeedCrm()
    portals._factory = lambda portal_id, *_: crms[str(portal_id)]
    portals.connect(portal, account_id)
    return crms[portal]


def _stored_ids(container, before: set[str]) -> list[tuple[str, dict]]:
    from connector.store.models import InboxEventRow

    with container.db.read_session() as session:
        rows = session.query(InboxEventRow).order_by(InboxEventRow.created_at).all()
        return [(r.id, dict(r.payload)) for r in rows if r.id not in before]


def _all_ids(container) -> set[str]:
    return {i for i, _ in _stored_ids(container, set())}


def _hubspot_webhook(container, client, events: list[dict]) -> dict[str, str]:
    """POST a signed batch to /webhooks/hubspot; {object id: stored event id}."""
    before = _all_ids(container)
    body = json.dumps(events).encode()
    ts = int(time.time() * 1000)
    response = client.post("/webhooks/hubspot", data=body, headers={
        "Content-Type": "application/json", "X-HubSpot-Request-Timestamp": str(ts),
        "X-HubSpot-Signature-v3": sign_v3(HUBSPOT_SECRET, "POST",
                                          "http://localhost/webhooks/hubspot", body, ts)})
    assert response.status_code == 204, response.get_data(as_text=True)
    return {p["object_id"]: i for i, p in _stored_ids(container, before)}


def _salesforce_events(container, client) -> dict[str, str]:
    """An Outbound Message (a Lead and a Contact) and BYOC events, through their routes;
    {record or conversation id: stored event id}."""
    before = _all_ids(container)
    soap = OutboundMessageSender("http://unused", SALESFORCE_ORG).envelope("Lead", [
        {"Id": "00Q000000000001", "Email": " Lead@Acme.example ", "Country": "DE",
         "Company": "Acme GmbH", "NumberOfEmployees": "120"}])
    soap_contact = OutboundMessageSender("http://unused", SALESFORCE_ORG).envelope(
        "Contact", [{"Id": "003000000000001", "Email": "c@acme.example"}])
    for body in (soap, soap_contact):
        answer = client.post(f"/webhooks/salesforce/outbound/{OUTBOUND_SECRET}", data=body,
                             headers={"Content-Type": "text/xml; charset=utf-8"})
        assert b"<Ack>true</Ack>" in answer.data, answer.data
    byoc = ByocEventSender("http://unused", SALESFORCE_SECRET)
    body = json.dumps({"events": [
        byoc.conversation_started("conv-1", attributes={"language": "EN", "country": "DE"}),
        byoc.routing_requested("conv-1")]}).encode()
    answer = client.post("/webhooks/salesforce", data=body, headers={
        "Content-Type": "application/json",
        "X-Connector-Signature": sign(SALESFORCE_SECRET, body, int(time.time()))})
    assert answer.status_code == 200, answer.get_data(as_text=True)
    out = {}
    for event_id, payload in _stored_ids(container, before):
        if payload.get("eventType") == "OutboundMessage":
            out[payload["record"]["Id"]] = event_id
        else:
            key = (payload.get("data") or {}).get("conversationIdentifier", "")
            out[f"{payload['eventType']}:{key}"] = event_id
    return out


def sign_in(client, email: str, password: str = PASSWORD):
    page = client.get("/admin/login")
    token = _csrf_from(page.get_data(as_text=True))
    return client.post("/admin/login", data={"email": email, "password": password,
                                             "csrf_token": token})


def _csrf_from(html: str) -> str:
    marker = 'name="csrf_token" value="'
    start = html.index(marker) + len(marker)
    return html[start:html.index('"', start)]


def csrf(client, path: str = "/admin/routers") -> str:
    return _csrf_from(client.get(path).get_data(as_text=True))


def html_of(response) -> str:
    return response.get_data(as_text=True)
