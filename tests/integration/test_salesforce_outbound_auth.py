"""Outbound Messages must carry the secret of their endpoint URL: the OrganizationId they
name is public, so it alone let anyone have a record's OwnerId rewritten."""

from __future__ import annotations

import pytest

from adapters.salesforce.fake_senders import OutboundMessageSender, outbound_endpoint
from connector.bootstrap import bootstrap
from connector.config import Config, ConfigError
from connector.jobs.inbox import counts
from connector.logs import secret_values
from connector.web import create_app
from connector.web.salesforce import outbound_secret_matches
from connector.web.salesforce_payloads import PayloadError, parse_outbound

ORG = "00D000000000001"
OLD = "old-outbound-secret-" + "a" * 12
NEW = "new-outbound-secret-" + "b" * 12


@pytest.fixture
def outbound(config):
    container = bootstrap(config.with_overrides({"salesforce_org_id": ORG,
                                                 "salesforce_outbound_secrets": (OLD, NEW)}))
    yield container, create_app(container=container).test_client()
    container.close()


def _message(record_id: str = "00Q000000000001") -> bytes:
    return OutboundMessageSender("http://unused", ORG + "AAA").envelope(
        "Lead", [{"Id": record_id, "Email": "a@example.com"}])


def _post(client, path: str, body: bytes):
    return client.post(path, data=body, headers={"Content-Type": "text/xml; charset=utf-8"})


def test_a_message_without_the_secret_gets_a_401_soap_fault_and_nothing_is_stored(outbound):
    container, client = outbound
    for path in ("/webhooks/salesforce/outbound",
                 "/webhooks/salesforce/outbound/not-the-secret",
                 "/webhooks/salesforce/outbound/" + OLD[:-1],
                 "/webhooks/salesforce/outbound/" + OLD + "x"):
        answer = _post(client, path, _message())
        assert answer.status_code == 401, path
        assert answer.content_type.startswith("text/xml")
        assert b"<soapenv:Fault><faultcode>soapenv:Client</faultcode>" in answer.data
        assert b"SALESFORCE_OUTBOUND_SECRETS" in answer.data
        assert OLD.encode() not in answer.data and NEW.encode() not in answer.data
    assert counts(container.db) == {}


def test_every_secret_of_a_rotation_is_accepted(outbound):
    container, client = outbound
    for index, secret in enumerate((OLD, NEW)):
        answer = _post(client, f"/webhooks/salesforce/outbound/{secret}",
                       _message(f"00Q00000000000{index}"))
        assert answer.status_code == 200 and b"<Ack>true</Ack>" in answer.data
    assert counts(container.db) == {"pending": 2}


def test_the_fake_sender_posts_to_the_definition_url_with_its_secret():
    assert outbound_endpoint("http://127.0.0.1:5000/", NEW) == \
        f"http://127.0.0.1:5000/webhooks/salesforce/outbound/{NEW}"


def test_the_org_id_is_still_checked_with_the_right_secret(outbound):
    container, client = outbound
    body = OutboundMessageSender("http://unused", "00D000000000999").envelope(
        "Lead", [{"Id": "00Q000000000001"}])
    answer = _post(client, f"/webhooks/salesforce/outbound/{NEW}", body)
    assert answer.status_code == 500 and b"OrganizationId does not match" in answer.data
    assert counts(container.db) == {}


def test_without_outbound_secrets_the_route_is_off_and_names_the_setting(config):
    container = bootstrap(config.with_overrides({"salesforce_org_id": ORG}))
    client = create_app(container=container).test_client()
    for path in ("/webhooks/salesforce/outbound", "/webhooks/salesforce/outbound/anything"):
        answer = _post(client, path, _message())
        assert answer.status_code == 503
        assert answer.get_json()["message"] == ("Salesforce Outbound Messages are disabled: "
                                                "SALESFORCE_OUTBOUND_SECRETS is not set")
    assert counts(container.db) == {}
    container.close()


@pytest.mark.parametrize("secret", ["short", "has a space" + "x" * 20, "semi;colon" + "x" * 20])
def test_a_weak_or_unsafe_secret_refuses_to_start(config, secret):
    container = bootstrap(config.with_overrides({"salesforce_org_id": ORG,
                                                 "salesforce_outbound_secrets": (secret,)}))
    with pytest.raises(ConfigError, match="SALESFORCE_OUTBOUND_SECRETS") as refused:
        create_app(container=container)
    assert secret not in str(refused.value)
    assert "token_urlsafe" in str(refused.value)
    container.close()


def test_secrets_come_comma_separated_from_the_environment_and_are_masked_in_logs():
    config = Config.from_env({"SALESFORCE_OUTBOUND_SECRETS": f" {OLD}, {NEW} ,,"})
    assert config.salesforce_outbound_secrets == (OLD, NEW)
    assert OLD not in repr(config)
    assert {OLD, NEW} <= set(secret_values(config))


def test_secret_comparison_checks_every_configured_secret():
    assert outbound_secret_matches(NEW, (OLD, NEW))
    assert outbound_secret_matches(OLD, (OLD, NEW))
    assert not outbound_secret_matches(NEW[:-1], (OLD, NEW))
    assert not outbound_secret_matches("", ())
    assert not outbound_secret_matches("\udcff", (OLD,))


UTF16_DOCTYPE = ('<?xml version="1.0" encoding="UTF-16"?>'
                 '<!DOCTYPE e [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;">]>'
                 '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">'
                 '<soapenv:Body><notifications xmlns="http://soap.sforce.com/2005/09/outbound">'
                 f"<OrganizationId>{ORG}</OrganizationId><Notification><Id>04l1</Id>"
                 '<sObject xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
                 'xsi:type="sf:Lead" xmlns:sf="urn:sobject.enterprise.soap.sforce.com">'
                 "<sf:Id>00Q000000000001</sf:Id><sf:Email>&b;</sf:Email></sObject>"
                 "</Notification></notifications></soapenv:Body></soapenv:Envelope>")


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be", "utf-8"])
def test_a_doctype_is_refused_whatever_the_encoding(encoding):
    text = UTF16_DOCTYPE if encoding.startswith("utf-16") else \
        UTF16_DOCTYPE.replace('encoding="UTF-16"', 'encoding="UTF-8"')
    if encoding in ("utf-16-le", "utf-16-be"):
        body = ("\ufeff" + text).encode(encoding)
    else:
        body = text.encode(encoding)
    with pytest.raises(PayloadError, match="DOCTYPE and entity declarations"):
        parse_outbound(body)


def test_a_utf16_doctype_through_the_route_gets_a_fault_and_stores_nothing(outbound):
    container, client = outbound
    answer = _post(client, f"/webhooks/salesforce/outbound/{OLD}",
                   UTF16_DOCTYPE.encode("utf-16"))
    assert answer.status_code == 500 and b"DOCTYPE" in answer.data
    assert counts(container.db) == {}
