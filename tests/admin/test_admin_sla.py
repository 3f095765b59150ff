"""The console's SLA page: create, edit and delete monitors with the API's rules, see the
latest clocks and what stopped them; each account sees only its own; no inline script."""

from __future__ import annotations

from sqlalchemy import select

from connector.service import sla
from connector.store.models import SlaMonitorRow
from tests.admin.seed import csrf, html_of, sign_in
from tests.conftest import auth
from tests.integration.helpers import make_contact


def _form(router_id: str, **extra) -> dict:
    return {"name": "Speed to lead", "router_id": router_id, "condition": "first_touch",
            "duration": "PT15M", "clock": "working", "reminders": "0.5, 0.8",
            "manager_emails": "boss@acme.example", "stage1_on": "1", "stage1_after": "PT0S",
            "stage1_notify": ["owner", "manager"], "stage1_reassign": "1",
            "stage2_on": "1", "stage2_after": "PT30M", "stage2_notify": ["manager"],
            "stage2_set_away": "1", "active": "1", **extra}


def test_the_sla_page_creates_edits_and_deletes_monitors(client, two, container):
    acme, globex = two
    sign_in(client, acme.email)
    page = html_of(client.get("/admin/sla"))
    assert "No SLA monitors yet." in page and "<script>" not in page
    assert " on" + "click" not in page and "No SLA clocks yet." in page
    made = client.post("/admin/sla", data={"csrf_token": csrf(client, "/admin/sla"),
                                           **_form(acme.router_id)})
    assert made.status_code == 302, html_of(made)
    with container.db.session() as session:
        row = session.scalars(select(SlaMonitorRow)).one()
        assert (row.account_id, row.router_id) == (acme.account_id, acme.router_id)
        assert row.reminders == [0.5, 0.8] and row.manager_emails == ["boss@acme.example"]
        assert row.stages == [
            {"after": "PT0S", "notify": ["owner", "manager"], "reassign": True,
             "set_away": False},
            {"after": "PT30M", "notify": ["manager"], "reassign": False, "set_away": True}]
        monitor_id = row.id
    listed = html_of(client.get("/admin/sla"))
    assert "Speed to lead" in listed and "PT15M" in listed and "reassign" in listed
    bad = client.post("/admin/sla", data={"csrf_token": csrf(client, "/admin/sla"),
                                          **_form(acme.router_id, duration="P1M",
                                                  reminders="2")})
    assert bad.status_code == 400
    assert "duration:" in html_of(bad) and "reminders:" in html_of(bad)
    edited = client.post(f"/admin/sla/{monitor_id}", data={
        "csrf_token": csrf(client, "/admin/sla"),
        **_form(acme.router_id, duration="PT1H", clock="wall", stage2_on="")})
    assert edited.status_code == 302
    with container.db.session() as session:
        row = session.get(SlaMonitorRow, monitor_id)
        assert (row.duration, row.clock, len(row.stages)) == ("PT1H", "wall", 1)
    assert 'value="PT1H"' in html_of(client.get(f"/admin/sla/{monitor_id}"))

    client.post("/admin/logout", data={"csrf_token": csrf(client, "/admin/sla")})
    sign_in(client, globex.email)
    assert "No SLA monitors yet." in html_of(client.get("/admin/sla"))
    assert client.get(f"/admin/sla/{monitor_id}").status_code == 404
    refused = client.post(f"/admin/sla/{monitor_id}/delete",
                          data={"csrf_token": csrf(client, "/admin/sla")})
    assert refused.status_code == 404
    taken = client.post("/admin/sla", data={"csrf_token": csrf(client, "/admin/sla"),
                                            **_form(acme.router_id)})
    assert taken.status_code == 400 and "no router with this id" in html_of(taken)

    client.post("/admin/logout", data={"csrf_token": csrf(client, "/admin/sla")})
    sign_in(client, acme.email)
    gone = client.post(f"/admin/sla/{monitor_id}/delete",
                       data={"csrf_token": csrf(client, "/admin/sla")})
    assert gone.status_code == 302
    assert "No SLA monitors yet." in html_of(client.get("/admin/sla"))


def test_a_decision_page_shows_the_records_sla_clock_and_what_stopped_it(client, two,
                                                                         container):
    from datetime import UTC, datetime

    acme, _ = two
    sign_in(client, acme.email)
    client.post("/admin/sla", data={"csrf_token": csrf(client, "/admin/sla"),
                                    **_form(acme.router_id)})
    headers = auth(acme.account_id)
    contact = make_contact(client, headers, email="new@acme.example", country="DE")
    routed = client.post("/dispatch/router", headers=headers,
                         json={"router_id": acme.router_id, "object_id": contact})
    assert routed.status_code == 200, routed.get_json()
    sla.touch(container.db, acme.account_id, contact, "touch", datetime.now(UTC),
              source="api")
    with container.db.session() as session:
        from connector.store.models import DecisionRow

        decision = session.scalars(select(DecisionRow).where(
            DecisionRow.object_id == contact)).one().id
    page = html_of(client.get(f"/admin/decisions/{decision}"))
    assert "SLA clocks of this record" in page and "Speed to lead" in page
    assert "touch from api" in page and ">met<" in page
    assert ">met<" in html_of(client.get("/admin/sla"))


def _running_clock(client, container, acme, email: str) -> str:
    from connector.store.models import SlaClockRow

    headers = auth(acme.account_id)
    contact = make_contact(client, headers, email=email, country="DE")
    routed = client.post("/dispatch/router", headers=headers,
                         json={"router_id": acme.router_id, "object_id": contact})
    assert routed.status_code == 200, routed.get_json()
    with container.db.session() as session:
        clock = session.scalars(select(SlaClockRow).where(
            SlaClockRow.object_id == contact)).one()
        assert clock.state == "running"
        return clock.id


def test_the_accept_and_reassign_links_act_only_by_a_signed_in_post(client, two,
                                                                    container):
    from connector.store.models import SlaClockRow

    acme, globex = two
    calls: list[dict] = []
    container.extras["notify"] = lambda session, **kw: calls.append(kw)
    client.patch(f"/users/{acme.bob}", headers=auth(acme.account_id),
                 json={"status": "available"})
    sign_in(client, acme.email)
    client.post("/admin/sla", data={"csrf_token": csrf(client, "/admin/sla"),
                                    **_form(acme.router_id, stage2_on="")})
    accepted = _running_clock(client, container, acme, "one@acme.example")
    page = f"/admin/sla/clocks/{accepted}"
    shown = html_of(client.get(page + "?action=accept"))
    assert "Accept this record" in shown and f"{page}/accept" in shown
    assert f"{page}/reassign" in shown and "<script>" not in shown
    # a GET (a link preview) and a POST without the console's token change nothing
    assert client.post(f"{page}/accept").status_code == 400
    with container.db.session() as session:
        assert session.get(SlaClockRow, accepted).state == "running"
    done = client.post(f"{page}/accept", data={"csrf_token": csrf(client, page)})
    assert done.status_code == 302
    with container.db.session() as session:
        clock = session.get(SlaClockRow, accepted)
        assert clock.state == "met"
        assert (clock.stopped_by["source"], clock.stopped_by["signal"]) == \
            ("console", "accepted")
        assert clock.stopped_by["detail"]["by"] == acme.email
    again = client.post(f"{page}/accept", data={"csrf_token": csrf(client, page)},
                        follow_redirects=True)
    assert "no longer running" in html_of(again)

    late = _running_clock(client, container, acme, "two@acme.example")
    page = f"/admin/sla/clocks/{late}"
    with container.db.session() as session:
        first_owner = session.get(SlaClockRow, late).rep_id
    ran = client.post(f"{page}/reassign", data={"csrf_token": csrf(client, page)},
                      follow_redirects=True)
    assert "Ran the next stage: reassigned to" in html_of(ran)
    with container.db.session() as session:
        clock = session.get(SlaClockRow, late)
        assert clock.stages_done == 1 and clock.rep_id != first_owner
        assert clock.reps == [first_owner, clock.rep_id]
        assert clock.events[-1]["by"] == "console"
    assert [c["kind"] for c in calls] == ["sla.breach", "sla.reassigned"]
    # the only stage is done: nothing more to run
    more = client.post(f"{page}/reassign", data={"csrf_token": csrf(client, page)},
                       follow_redirects=True)
    assert "no stage left" in html_of(more)

    client.post("/admin/logout", data={"csrf_token": csrf(client, "/admin/sla")})
    assert client.get(page).status_code == 302  # to the sign-in
    sign_in(client, globex.email)
    assert client.get(page).status_code == 404
    assert client.post(f"{page}/reassign",
                       data={"csrf_token": csrf(client, "/admin/sla")}).status_code == 404
