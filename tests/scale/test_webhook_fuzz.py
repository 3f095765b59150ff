"""Fuzzed HubSpot webhook bodies (correctly signed, so they reach the parser): the answer
is never a 5xx, and a batch is stored whole or not at all - a 400 stores nothing, a 204
stores every distinct event of the batch."""

from __future__ import annotations

import json
from dataclasses import replace

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from adapters.hubspot.fake_server import WebhookSender
from connector.bootstrap import bootstrap
from connector.store.models import InboxEventRow
from connector.web import create_app

SECRET = "fuzz-webhook-client-secret"
URL = "http://localhost/webhooks/hubspot"

TYPES = ["contact.creation", "contact.propertyChange", "contact.deletion", "ticket.creation",
         "deal.merge", "object.creation", "object.propertyChange", "conversation.creation",
         "2-123.creation", "bogus", "", "contact.", ".creation", "contact.unknownAction"]
scalars = st.one_of(st.none(), st.booleans(), st.integers(-2**63, 2**64),
                    st.floats(allow_nan=False), st.text(max_size=20))
json_values = st.recursive(scalars, lambda children: st.one_of(
    st.lists(children, max_size=3), st.dictionaries(st.text(max_size=8), children,
                                                    max_size=3)), max_leaves=6)


@st.composite
def events(draw):
    event = {"eventId": draw(st.one_of(st.integers(1, 10**6), json_values)),
             "subscriptionId": draw(st.integers(1, 99)),
             "portalId": draw(st.one_of(st.just(62515), st.integers(1, 10), json_values)),
             "appId": 1000,
             "occurredAt": draw(st.one_of(st.integers(0, 2 * 10**12), json_values)),
             "subscriptionType": draw(st.one_of(st.sampled_from(TYPES), json_values)),
             "attemptNumber": draw(st.integers(0, 5)),
             "objectId": draw(st.one_of(st.integers(1, 10**9), json_values))}
    for key in draw(st.lists(st.sampled_from(sorted(event)), max_size=2, unique=True)):
        del event[key]
    extras = draw(st.dictionaries(st.sampled_from(
        ["propertyName", "propertyValue", "changeSource", "sourceId", "objectTypeId",
         "mergedObjectIds", "primaryObjectId", "eventType", "changeFlag"]), json_values,
        max_size=3))
    event.update(extras)
    return event


bodies = st.one_of(
    st.lists(events(), min_size=0, max_size=120).map(lambda e: json.dumps(e).encode()),
    json_values.map(lambda v: json.dumps(v).encode()),
    st.binary(max_size=200),
    st.text(max_size=200).map(lambda t: t.encode("utf-8", "surrogatepass")),
)


def _count(container) -> int:
    with container.db.session() as session:
        return session.scalar(select(func.count()).select_from(InboxEventRow))


def test_fuzzed_webhook_bodies_never_5xx_and_never_store_part_of_a_batch(config):
    container = bootstrap(replace(config, hubspot_client_secret=SECRET))
    client = create_app(container=container).test_client()
    receiver = container.extras["hubspot"].receiver
    sender = WebhookSender(URL, SECRET)
    answers: set[int] = set()

    @given(body=bodies)
    @settings(max_examples=300, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    def check(body: bytes) -> None:
        before = _count(container)
        response = client.post("/webhooks/hubspot", data=body,
                               headers=sender.signed_headers(body))
        answers.add(response.status_code)
        assert response.status_code < 500, response.get_data(as_text=True)
        stored = _count(container) - before
        if response.status_code == 204:
            keys = {e.event_key for e in receiver.parse(body)}
            with container.db.session() as session:
                present = session.scalar(select(func.count()).select_from(InboxEventRow)
                                         .where(InboxEventRow.event_key.in_(keys)))
            assert present == len(keys)  # every event of the batch is there
        else:
            assert response.status_code == 400, response.status_code
            assert response.get_json()["error"] is True
            assert stored == 0

    try:
        check()
    finally:
        container.close()
    assert {204, 400} <= answers


OUTBOUND_ORG = "00D000000000001"
OUTBOUND_SECRETS = ("fuzz-outbound-secret-" + "a" * 12, "fuzz-outbound-secret-" + "b" * 12)
DOCTYPES = ['<!DOCTYPE x [<!ENTITY a "b">]>', '<!DOCTYPE x SYSTEM "file:///etc/passwd">',
            "<!DOCTYPE x>"]
#: Python codec -> the name the XML declaration gives
XML_ENCODINGS = {"utf-8": "UTF-8", "utf-16": "UTF-16", "utf-16-le": "UTF-16LE",
                 "utf-16-be": "UTF-16BE", "latin-1": "ISO-8859-1"}


@st.composite
def outbound_bodies(draw):
    """SOAP-ish bodies: a real message, a DTD in front of one in any encoding, junk."""
    from adapters.salesforce.fake_senders import OutboundMessageSender

    sender = OutboundMessageSender("http://unused", OUTBOUND_ORG)
    record = {"Id": draw(st.text(min_size=1, max_size=18).filter(str.strip)),
              "Email": draw(st.text(max_size=30))}
    message = sender.envelope("Lead", [record]).decode()
    kind = draw(st.sampled_from(["message", "doctype", "junk"]))
    if kind == "junk":
        return draw(st.binary(max_size=300))
    encoding = draw(st.sampled_from(sorted(XML_ENCODINGS)))
    body = message.split("?>", 1)[1]
    if kind == "doctype":
        body = draw(st.sampled_from(DOCTYPES)) + body
    text = f'<?xml version="1.0" encoding="{XML_ENCODINGS[encoding]}"?>' + body
    try:
        return (("\ufeff" if encoding.endswith(("-le", "-be")) else "") + text).encode(encoding)
    except UnicodeEncodeError:
        return text.encode("utf-8")


def test_fuzzed_outbound_messages_need_the_url_secret_and_never_store_a_dtd(config):
    """Wrong or missing secret: 401 SOAP fault, nothing read or stored. Right secret: a
    DTD in any encoding is a fault and stores nothing; every answer is SOAP."""
    container = bootstrap(replace(config, salesforce_org_id=OUTBOUND_ORG,
                                  salesforce_outbound_secrets=OUTBOUND_SECRETS))
    client = create_app(container=container).test_client()
    answers: set[int] = set()

    @given(body=outbound_bodies(),
           secret=st.one_of(st.sampled_from(OUTBOUND_SECRETS),
                            st.sampled_from(OUTBOUND_SECRETS).map(lambda s: s[:-1]),
                            st.text(alphabet="abcdefghijklmnop-_0123456789", max_size=40)))
    @settings(max_examples=200, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    def check(body: bytes, secret: str) -> None:
        before = _count(container)
        path = "/webhooks/salesforce/outbound" + (f"/{secret}" if secret else "")
        response = client.post(path, data=body, headers={"Content-Type": "text/xml"})
        answers.add(response.status_code)
        assert response.content_type.startswith("text/xml"), response.status_code
        stored = _count(container) - before
        if secret not in OUTBOUND_SECRETS:
            assert response.status_code == 401 and stored == 0
            return
        if b"DOCTYPE" in body.replace(b"\x00", b"") or response.status_code != 200:
            assert response.status_code == 500 and b"<soapenv:Fault>" in response.data
            assert stored == 0
        else:
            assert b"<Ack>true</Ack>" in response.data

    try:
        check()
    finally:
        container.close()
    assert {200, 401, 500} <= answers


def _nested(depth: int, leaf) -> object:
    for n in range(depth):
        leaf = [leaf] if n % 2 else {"k": leaf}
    return leaf


#: a value no field may hold: NUL, an unpaired surrogate, nesting past the cap, an
#: integer beyond 64 bits
hostile_values = st.one_of(
    st.text(max_size=10).map(lambda t: t + "\x00"),
    st.sampled_from(["\ud800", "a\udfffb", "\udbff"]),
    st.integers(33, 2000).map(lambda d: _nested(d, 1)),
    st.integers(2**63, 2**80), st.integers(-(2**80), -(2**63) - 1),
)


@st.composite
def hostile_batches(draw):
    batch = draw(st.lists(events(), min_size=1, max_size=5))
    target = draw(st.integers(0, len(batch) - 1))
    key = draw(st.sampled_from(["propertyValue", "sourceId", "objectId", "eventId",
                                "mergedObjectIds"]))
    batch[target][key] = draw(hostile_values)
    return json.dumps(batch).encode()


def test_hostile_values_anywhere_in_a_batch_get_a_400_and_store_nothing(config):
    """The request limits hold for webhooks too: the whole batch is refused with a 400
    naming the field, whatever the position of the bad value."""
    container = bootstrap(replace(config, hubspot_client_secret=SECRET))
    client = create_app(container=container).test_client()
    sender = WebhookSender(URL, SECRET)

    @given(body=hostile_batches())
    @settings(max_examples=150, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    def check(body: bytes) -> None:
        response = client.post("/webhooks/hubspot", data=body,
                               headers=sender.signed_headers(body))
        assert response.status_code == 400, response.get_data(as_text=True)
        message = response.get_json()["message"]
        assert message.startswith(("Invalid field '", "Invalid JSON body: nested deeper"))
        assert _count(container) == 0

    try:
        check()
    finally:
        container.close()
