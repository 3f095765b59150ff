"""SALESFORCE_OUTBOUND_VERIFY_SESSION: an Outbound Message's SessionId must be a session
of the org, asked of Salesforce (the fake org, over real HTTP) once per session."""

from __future__ import annotations

import logging

import pytest
import requests

from adapters.salesforce.fake_senders import OutboundMessageSender
from connector.bootstrap import bootstrap
from connector.config import Config
from connector.jobs.inbox import counts
from connector.web import create_app
from connector.web.salesforce import SESSION_VERIFIER
from connector.web.salesforce_session import (
    SalesforceUnavailable,
    SessionRefused,
    SessionVerifier,
    session_base_url,
)

ORG = "00D000000000001"
SECRET = "outbound-secret-" + "s" * 16
QUERY = "/services/data/v61.0/query"


@pytest.fixture
def outbound(config, fake):
    container = bootstrap(config.with_overrides({
        "salesforce_org_id": ORG, "salesforce_outbound_secrets": (SECRET,),
        "salesforce_outbound_verify_session": True, "salesforce_instance_url": fake.url}))
    app = create_app(container=container)
    yield container, app, app.test_client()
    container.close()


def _post(client, session_id: str | None, enterprise_url: str, record: str = "00Q000000000001"):
    body = OutboundMessageSender("http://unused", ORG + "AAA", session_id=session_id,
                                 enterprise_url=enterprise_url).envelope(
        "Lead", [{"Id": record, "Email": "a@example.com"}])
    return client.post(f"/webhooks/salesforce/outbound/{SECRET}", data=body,
                        headers={"Content-Type": "text/xml; charset=utf-8"})


def test_a_session_of_the_org_is_accepted_and_remembered(outbound, fake, caplog):
    container, app, client = outbound
    session = fake.open_session()
    caplog.set_level(logging.DEBUG)
    first = _post(client, session, f"{fake.url}/services/Soap/c/61.0/{ORG}", "00Q000000000001")
    second = _post(client, session, f"{fake.url}/services/Soap/c/61.0/{ORG}", "00Q000000000002")
    assert first.status_code == 200 and b"<Ack>true</Ack>" in first.data
    assert second.status_code == 200 and b"<Ack>true</Ack>" in second.data
    asked = fake.requests_to("GET", QUERY)
    assert len(asked) == 1  # the second message made no call
    assert asked[0].headers["authorization"] == f"Bearer {session}"
    assert counts(container.db) == {"pending": 2}
    verifier = app.extensions[SESSION_VERIFIER]
    assert len(verifier) == 1 and session not in repr(verifier._confirmed)
    assert session not in caplog.text


def test_a_remembered_session_is_asked_again_after_its_ttl(outbound, fake):
    container, app, client = outbound
    now = [1000.0]
    verifier = app.extensions[SESSION_VERIFIER]
    verifier.clock = lambda: now[0]
    session = fake.open_session()
    url = f"{fake.url}/services/Soap/c/61.0/{ORG}"
    assert _post(client, session, url, "00Q000000000001").status_code == 200
    now[0] += verifier.ttl + 1
    assert _post(client, session, url, "00Q000000000002").status_code == 200
    assert len(fake.requests_to("GET", QUERY)) == 2


def test_a_session_salesforce_refuses_gets_a_401_fault_and_nothing_is_stored(outbound, fake):
    container, app, client = outbound
    for session in ("00D!forged-session", None):
        answer = _post(client, session, f"{fake.url}/services/Soap/c/61.0/{ORG}")
        assert answer.status_code == 401, session
        assert b"<faultcode>soapenv:Client</faultcode>" in answer.data
    assert b"Send Session ID" in answer.data  # the nil SessionId names the setting
    assert len(fake.requests_to("GET", QUERY)) == 1  # no call for a missing session
    assert counts(container.db) == {}
    assert len(app.extensions[SESSION_VERIFIER]) == 0


def test_an_expired_session_is_refused(outbound, fake):
    container, app, client = outbound
    session = fake.open_session()
    fake.expire_tokens()
    answer = _post(client, session, f"{fake.url}/services/Soap/c/61.0/{ORG}")
    assert answer.status_code == 401 and b"INVALID_SESSION_ID" in answer.data
    assert counts(container.db) == {}


@pytest.mark.parametrize("url", [
    "https://attacker.example/services/Soap/c/61.0",
    "https://example.my.salesforce.com.attacker.example/services/Soap/c/61.0",
    "http://example.my.salesforce.com/services/Soap/c/61.0",
    "https://example.my.salesforce.com:8443/services/Soap/c/61.0",
    "https://user@example.my.salesforce.com/services/Soap/c/61.0",
    "https://169.254.169.254/latest/meta-data",
    "http://127.0.0.1:1/services/Soap/c/61.0",
    "not a url",
])
def test_a_foreign_host_is_refused_without_any_call(outbound, fake, url):
    container, app, client = outbound
    answer = _post(client, fake.open_session(), url)
    assert answer.status_code == 401
    assert b"EnterpriseUrl" in answer.data
    assert fake.requests == [] and app.extensions[SESSION_VERIFIER].calls == 0
    assert counts(container.db) == {}


def test_salesforce_unreachable_gets_a_fault_salesforce_retries(config, fake, caplog):
    container = bootstrap(config.with_overrides({
        "salesforce_org_id": ORG, "salesforce_outbound_secrets": (SECRET,),
        "salesforce_outbound_verify_session": True,
        "salesforce_instance_url": "http://127.0.0.1:9"}))
    client = create_app(container=container).test_client()
    answer = _post(client, "00D!a-session", "http://127.0.0.1:9/services/Soap/c/61.0")
    assert answer.status_code == 503
    assert "unreachable" in caplog.text and "00D!a-session" not in caplog.text
    assert b"<faultcode>soapenv:Server</faultcode>" in answer.data
    assert b"retry" in answer.data
    assert counts(container.db) == {}
    container.close()


def test_a_session_of_another_org_is_refused(outbound, fake):
    container, app, client = outbound
    fake.org_id = "00D000000000999"  # the session's org is not the configured one
    answer = _post(client, fake.open_session(), f"{fake.url}/services/Soap/c/61.0/{ORG}")
    assert answer.status_code == 401 and b"not a session of this connector" in answer.data
    assert counts(container.db) == {}


def test_the_cache_is_bounded_and_keeps_the_most_recent(fake):
    verifier = SessionVerifier(fake.url, max_entries=2)
    sessions = [fake.open_session() for _ in range(3)]
    for session in sessions:
        verifier.verify(ORG, session, fake.url)
    verifier.verify(ORG, sessions[2], fake.url)
    assert len(verifier) == 2 and verifier.calls == 3
    verifier.verify(ORG, sessions[0], fake.url)  # evicted: asked again
    assert verifier.calls == 4


@pytest.mark.parametrize("url, base", [
    ("https://acme.my.salesforce.com/services/Soap/c/61.0/00D", "https://acme.my.salesforce.com"),
    ("https://ACME--uat.sandbox.my.salesforce.com/x", "https://acme--uat.sandbox.my.salesforce.com"),
    ("https://na1.salesforce.com:443/x", "https://na1.salesforce.com"),
    ("https://acme.my.salesforce.mil/x", "https://acme.my.salesforce.mil"),
])
def test_salesforce_domains_are_called_on_their_https_origin(url, base):
    assert session_base_url(url, None) == base


def test_the_salesforce_domain_check_does_not_trust_a_lookalike():
    for url in ("https://salesforce.com.evil.example/", "https://evilsalesforce.com/",
                "https://acme.my.salesforce.com\\@evil.example/"):
        with pytest.raises(SessionRefused):
            session_base_url(url, None)


def test_simple_salesforce_asks_the_fake_for_the_org_of_a_session(fake):
    from simple_salesforce import Salesforce
    from simple_salesforce.exceptions import SalesforceExpiredSession

    sf = Salesforce(instance_url=fake.url, session_id=fake.open_session(), version="61.0")
    sf.base_url = f"{fake.url}/services/data/v61.0/"
    org = sf.query("SELECT Id FROM Organization")["records"][0]["Id"]
    assert org == ORG + "EAA"  # 18 characters: the case-safe suffix of 00D...
    sf.session_id = "00D!not-a-session"
    sf.headers["Authorization"] = "Bearer 00D!not-a-session"
    with pytest.raises(SalesforceExpiredSession) as refused:
        sf.query("SELECT Id FROM Organization")
    assert refused.value.content == [{"message": "Session expired or invalid",
                                      "errorCode": "INVALID_SESSION_ID"}]


def test_the_fake_refuses_a_bad_session_as_salesforce_does(fake):
    answer = requests.get(f"{fake.url}{QUERY}", params={"q": "SELECT Id FROM Organization"},
                          headers={"Authorization": "Bearer nope"}, timeout=5)
    assert answer.status_code == 401
    assert answer.json() == [{"message": "Session expired or invalid",
                              "errorCode": "INVALID_SESSION_ID"}]


def test_the_setting_comes_from_the_environment():
    assert Config.from_env({"SALESFORCE_OUTBOUND_VERIFY_SESSION": "true"}) \
        .salesforce_outbound_verify_session
    assert not Config.from_env({}).salesforce_outbound_verify_session


def test_new_sessions_beyond_the_minute_budget_are_refused_for_a_retry(fake):
    now = [0.0]
    verifier = SessionVerifier(fake.url, calls_per_minute=2, clock=lambda: now[0])
    remembered = fake.open_session()
    verifier.verify(ORG, remembered, fake.url)
    verifier.verify(ORG, fake.open_session(), fake.url)
    with pytest.raises(SalesforceUnavailable, match="this minute"):
        verifier.verify(ORG, fake.open_session(), fake.url)
    verifier.verify(ORG, remembered, fake.url)  # a remembered session needs no call
    assert verifier.calls == 2
    now[0] += 61
    verifier.verify(ORG, fake.open_session(), fake.url)
    assert verifier.calls == 3


def test_checks_in_flight_are_bounded(fake):
    verifier = SessionVerifier(fake.url, max_in_flight=1)
    verifier._in_flight.acquire()  # one check is waiting for Salesforce
    try:
        with pytest.raises(SalesforceUnavailable, match="in flight"):
            verifier.verify(ORG, fake.open_session(), fake.url)
    finally:
        verifier._in_flight.release()
    verifier.verify(ORG, fake.open_session(), fake.url)
    assert verifier.calls == 1
