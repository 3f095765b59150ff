"""The Users page: a rep's status, time zone, weekly working hours and out-of-office
periods, validated by the users API's schema, and used by the router at once."""

from __future__ import annotations

import re

from connector.store.models import RepRow
from tests.admin.seed import csrf, sign_in
from tests.admin.seed import html_of as _html


def _form(client, user_id: str, **changes) -> dict:
    html = _html(client.get(f"/admin/users/{user_id}"))
    form = html[html.index('id="user-form"'):html.index("</form>", html.index('id="user-form"'))]
    data: dict = {"ooo_start": [], "ooo_end": []}
    for tag in re.findall(r"<input[^>]*>", form):
        name = re.search(r'name="([^"]+)"', tag).group(1)
        value = re.search(r'value="([^"]*)"', tag)
        if 'type="checkbox"' in tag and "checked" not in tag:
            continue
        text = value.group(1) if value else ""
        if name in ("ooo_start", "ooo_end"):
            data[name].append(text)
        else:
            data[name] = text
    status = re.search(r'<select name="status">.*?<option value="([^"]+)" selected', form, re.S)
    data["status"] = status.group(1)
    data.update(changes)
    return data


def test_users_page_lists_only_this_accounts_reps_with_their_availability(client, two):
    acme, _ = two
    sign_in(client, acme.email)
    html = _html(client.get("/admin/users"))
    assert "jane@acme.example" in html and "globex" not in html
    assert '<span class="pill">unavailable</span>' in html  # Bob
    assert client.get(f"/admin/users/{two[1].jane}").status_code == 404


def test_edit_status_time_zone_working_hours_and_out_of_office(container, client, two):
    acme, _ = two
    sign_in(client, acme.email)
    form = _form(client, acme.bob, status="available", timezone="Europe/Oslo",
                 limit_hours="1", **{"hours-monday": "09:00-12:00, 13:00-17:00",
                                     "hours-friday": "09:00-15:00"},
                 ooo_start=["2026-07-01T08:00", ""], ooo_end=["2026-07-15T18:00", ""])
    response = client.post(f"/admin/users/{acme.bob}", data=form)
    assert response.status_code == 302, _html(response)
    with container.db.session() as session:
        bob = session.get(RepRow, acme.bob)
        assert (bob.status, bob.timezone) == ("available", "Europe/Oslo")
        assert bob.working_hours == {
            "monday": [{"start": "09:00", "end": "12:00"}, {"start": "13:00", "end": "17:00"}],
            "friday": [{"start": "09:00", "end": "15:00"}]}
        # entered in the rep's zone, stored with Oslo's summer offset as the API stores it
        assert bob.out_of_office == [{"start": "2026-07-01T08:00:00+02:00",
                                      "end": "2026-07-15T18:00:00+02:00"}]
    page = _html(client.get(f"/admin/users/{acme.bob}"))
    assert 'value="09:00-12:00, 13:00-17:00"' in page
    assert 'value="2026-07-01T08:00"' in page  # shown back in the rep's zone
    assert "mon 09:00-12:00, 13:00-17:00; fri 09:00-15:00" in _html(client.get("/admin/users"))
    api = client.get(f"/users/{acme.bob}", headers=_auth(acme)).get_json()
    assert api["working_hours"]["friday"] == [{"start": "09:00", "end": "15:00"}]
    cleared = _form(client, acme.bob, limit_hours="", ooo_start=[""], ooo_end=[""])
    del cleared["limit_hours"]
    assert client.post(f"/admin/users/{acme.bob}", data=cleared).status_code == 302
    with container.db.session() as session:
        bob = session.get(RepRow, acme.bob)
        assert (bob.working_hours, bob.out_of_office) == (None, [])


def _auth(seeded):
    from tests.conftest import auth

    return auth(seeded.account_id)


def test_errors_name_the_day_range_and_field_like_the_api_and_store_nothing(container, client,
                                                                          two):
    acme, _ = two
    sign_in(client, acme.email)
    with container.db.session() as session:
        before = session.get(RepRow, acme.jane)
        before = (before.timezone, before.working_hours, before.out_of_office)
    form = _form(client, acme.jane, timezone="Europe/Olso", limit_hours="1",
                 **{"hours-tuesday": "9:00-17:00", "hours-wednesday": "all day"},
                 ooo_start=["2026-07-15T08:00"], ooo_end=["2026-07-01T08:00"])
    response = client.post(f"/admin/users/{acme.jane}", data=form)
    html = _html(response)
    assert response.status_code == 400
    assert "Wednesday, hours 1: write a range as 09:00-17:00; got &#39;all day&#39; " \
           "(working_hours.wednesday)" in html
    assert "Time zone: unknown IANA time zone &#39;Europe/Olso&#39; (timezone)" in html
    assert "Tuesday, hours 1, start: must be a time of day as HH:MM " \
           "(working_hours.tuesday.0.start)" in html
    assert "Out of office period 1: the end must be after the start (out_of_office.0)" in html
    assert 'value="Europe/Olso"' in html and 'value="9:00-17:00"' in html  # edits kept
    with container.db.session() as session:
        after = session.get(RepRow, acme.jane)
        assert (after.timezone, after.working_hours, after.out_of_office) == before
    api = client.patch(f"/users/{acme.jane}", json={"timezone": "Europe/Olso"},
                       headers=_auth(acme))
    assert api.get_json()["message"] == \
        "Invalid field 'timezone': unknown IANA time zone 'Europe/Olso'"


def test_a_rep_out_of_office_now_is_skipped_by_the_router_at_once(client, two):
    from datetime import UTC, datetime, timedelta

    acme, _ = two
    sign_in(client, acme.email)
    now = datetime.now(UTC)
    form = _form(client, acme.jane, timezone="UTC",
                 ooo_start=[(now - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")],
                 ooo_end=[(now + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")])
    assert client.post(f"/admin/users/{acme.jane}", data=form).status_code == 302
    simulated = _html(client.post(f"/admin/routers/{acme.router_id}/simulate", data={
        "csrf_token": csrf(client), "sample": '{"country": "DE"}', "as_published": "1"}))
    assert "Jane Doe &lt;jane@acme.example&gt;: out of office" in simulated


def test_the_user_page_says_a_failing_feed_is_using_its_last_good_copy(container, client,
                                                                         two):
    from datetime import UTC, datetime

    from connector.store.models import CalendarFeedRow

    acme, _ = two
    sign_in(client, acme.email)
    assert "calendar-feed" not in _html(client.get(f"/admin/users/{acme.jane}"))
    with container.db.session() as session:
        session.add(CalendarFeedRow(rep_id=acme.jane, account_id=acme.account_id,
                                    url_encrypted="x", body="BEGIN:VCALENDAR",
                                    fetched_at=datetime(2026, 12, 1, 9, tzinfo=UTC),
                                    last_error="the feed answered HTTP 503",
                                    failed_at=datetime(2026, 12, 1, 10, tzinfo=UTC)))
    html = _html(client.get(f"/admin/users/{acme.jane}"))
    assert "failing, using last good copy: the feed answered HTTP 503" in html
    assert "Refreshed 2026-12-01 09:00 UTC" in html
