"""Rep calendar feeds through /v1: the address stored encrypted and never shown, private
addresses refused unless allowed, conditional refreshes from a feed served on 127.0.0.1,
and a failing feed keeping its last good copy."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select

from connector.bootstrap import wire_calendars
from connector.core.model import Period
from connector.service.calendars import address_problem
from connector.service.dispatch import dispatch as live_dispatch
from connector.store import repositories as repo
from connector.store.models import AccountRow, CalendarFeedRow
from tests.integration.helpers import make_contact, make_router, make_user

ICS = (b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\n"
       b"UID:1\r\nDTSTAMP:20261201T000000Z\r\nDTSTART;VALUE=DATE:20261224\r\n"
       b"DTEND;VALUE=DATE:20261225\r\nSUMMARY:Holiday\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")


class Feed:
    """A calendar served on 127.0.0.1 with an ETag; ``fail`` makes it answer 500."""

    def __init__(self) -> None:
        self.fail = False
        self.requests: list[dict[str, str]] = []
        feed = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - the http.server name
                feed.requests.append(dict(self.headers))
                if feed.fail:
                    self.send_response(500)
                    self.end_headers()
                elif self.headers.get("If-None-Match") == '"v1"':
                    self.send_response(304)
                    self.end_headers()
                else:
                    self.send_response(200)
                    self.send_header("Content-Type", "text/calendar")
                    self.send_header("ETag", '"v1"')
                    self.send_header("Content-Length", str(len(ICS)))
                    self.end_headers()
                    self.wfile.write(ICS)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/private/secret-token.ics"

    def __enter__(self) -> Feed:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def allow_private(container):
    container.config = container.config.with_overrides({"calendar_allow_private_feeds": True})
    container.extras.pop("calendar_refresh", None)
    wire_calendars(container)
    return container


def test_a_private_address_is_refused_unless_allowed(client, v1, headers):
    ann = make_user(client, headers, "ann@example.com")
    response = client.put(f"/v1/reps/rep_{ann}/calendar",
                          json={"url": "http://127.0.0.1:9/cal.ics"}, headers=v1)
    assert response.status_code == 422
    assert response.json["error"]["fields"] == {
        "url": "its host is on a private, loopback or reserved network"}
    assert "127.0.0.1" not in response.get_data(as_text=True)
    bad = client.put(f"/v1/reps/rep_{ann}/calendar", json={"url": "ftp://x.example/c.ics"},
                     headers=v1)
    assert bad.json["error"]["fields"] == {
        "url": "must be an https://, http:// or webcal:// address"}


def test_address_check_reads_every_resolved_address():
    public = lambda host: ["93.184.215.14"]  # noqa: E731
    mixed = lambda host: ["93.184.215.14", "10.1.2.3"]  # noqa: E731
    assert address_problem("https://cal.example/x.ics", allow_private=False,
                           resolver=public) is None
    assert address_problem("webcal://cal.example/x.ics", allow_private=False,
                           resolver=mixed) == \
        "its host is on a private, loopback or reserved network"
    assert address_problem("https://[::1]/x.ics", allow_private=False,
                           resolver=lambda host: ["::1"]) is not None


def _routing_version(container) -> int:
    with container.db.session() as session:
        return session.scalar(select(AccountRow.routing_version))


def test_feed_is_stored_encrypted_refreshed_conditionally_and_kept_when_failing(
        client, v1, headers, allow_private, account_id):
    container = allow_private
    ann = make_user(client, headers, "ann@example.com")
    with Feed() as feed:
        response = client.put(f"/v1/reps/rep_{ann}/calendar", json={"url": feed.url},
                              headers=v1)
        assert response.status_code == 200, response.json
        assert response.json["status"] == "not fetched yet"
        assert "secret-token" not in response.get_data(as_text=True)
        with container.db.session() as session:
            row = session.get(CalendarFeedRow, ann)
            assert "secret-token" not in row.url_encrypted and row.url_encrypted

        refresh = container.extras["calendar_refresh"]
        version = _routing_version(container)
        assert [s.state for s in refresh()] == ["ok"]
        # the all-day event on 24 December makes the rep out of office that day
        assert _routing_version(container) == version + 1
        with container.db.session() as session:
            rep = repo.reps_by_id(session, account_id, [ann])[ann]
        assert Period(datetime(2026, 12, 24, tzinfo=UTC),
                      datetime(2026, 12, 25, tzinfo=UTC)) in rep.out_of_office
        bob = make_user(client, headers, "bob@example.com")
        router = make_router(client, headers, [ann, bob])
        on_holiday = live_dispatch(container.db, account_id, router,
                                   make_contact(client, headers),
                                   now=datetime(2026, 12, 24, 12, tzinfo=UTC))
        assert on_holiday.decision.rep.email == "bob@example.com"
        assert on_holiday.decision.skipped[0].rep_id == ann
        version = _routing_version(container)
        assert [s.state for s in refresh()] == ["ok"]
        assert feed.requests[1].get("If-None-Match") == '"v1"'  # answered 304
        assert _routing_version(container) == version  # nothing changed
        status = client.get(f"/v1/reps/rep_{ann}/calendar", headers=v1).json
        assert status["status"] == "ok" and status["has_copy"] is True

        feed.fail = True
        assert [s.state for s in refresh()] == ["failing, using last good copy"]
        status = client.get(f"/v1/reps/rep_{ann}/calendar", headers=v1).json
        assert status["status"] == "failing, using last good copy"
        assert status["last_error"] == "the feed answered HTTP 500"
        assert "secret-token" not in str(status)
        with container.db.session() as session:
            assert session.get(CalendarFeedRow, ann).body.startswith("BEGIN:VCALENDAR")
            assert session.get(CalendarFeedRow, ann).absences  # from the last good copy

    assert client.delete(f"/v1/reps/rep_{ann}/calendar", headers=v1).status_code == 204
    assert client.get(f"/v1/reps/rep_{ann}/calendar", headers=v1).status_code == 404
    assert client.put("/v1/reps/rep_nobody/calendar", json={"url": "https://a.example/c"},
                      headers=v1).status_code == 404
