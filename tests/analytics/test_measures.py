"""The routing measures equal a hand count of the decisions and activities tables (see
``tests/analytics/seed.py`` for the table of the count), in the /v1 API, its CSV, the
console dashboard and the Prometheus metrics; without ``sla_clocks`` the SLA figures are
zero and the report says so."""

from __future__ import annotations

import csv
import io
import re

import pytest

from tests.admin.seed import sign_in

from .seed import NOW, seed


@pytest.fixture
def world(container, client, make_account, clock):
    clock.at = NOW
    return seed(container, client, make_account)


PERIOD = {"from": "2026-12-01T00:00:00Z", "to": "2026-12-02T12:00:00Z"}


def measures(client, key_for, world, group_by):
    response = client.get("/v1/insights/measures", query_string={**PERIOD,
                                                                  "group_by": group_by},
                          headers=key_for(world.account_id, ["insights:read"]))
    assert response.status_code == 200, response.json
    return response.json


def test_totals_equal_the_hand_count(client, key_for, world):
    report = measures(client, key_for, world, "total")
    assert report["sla_available"] is True
    assert report["totals"] == {
        "decisions": 6, "assigned": 5, "unassigned": 1, "unassigned_rate": 0.1667,
        "backup": 1, "backup_rate": 0.2, "reassignments": 1, "touched": 4,
        "speed_to_lead_seconds": {"p50": 1500.0, "p90": 3060.0},
        "sla_met": 1, "sla_breached": 3, "sla_open": 1, "sla_met_pct": 25.0}


def test_by_router_rep_and_day(client, key_for, world):
    by_router = {g["name"]: g for g in measures(client, key_for, world, "router")["groups"]}
    inbound, partners = by_router["Inbound"], by_router["Partners"]
    assert (inbound["decisions"], inbound["assigned"], inbound["reassignments"],
            inbound["touched"]) == (4, 4, 1, 3)
    assert inbound["speed_to_lead_seconds"] == {"p50": 1200.0, "p90": 1680.0}
    assert (inbound["sla_met"], inbound["sla_breached"], inbound["sla_open"],
            inbound["sla_met_pct"]) == (1, 2, 1, 33.33)
    assert (partners["decisions"], partners["unassigned"], partners["backup"],
            partners["backup_rate"], partners["sla_breached"], partners["sla_met_pct"]) == \
        (2, 1, 1, 1.0, 1, 0.0)

    by_rep = {g["name"]: g for g in measures(client, key_for, world, "rep")["groups"]}
    assert {n: (g["assigned"], g["share"], g["fair_share"]) for n, g in by_rep.items()
            if n} == {"jane@acme.example": (2, 0.4, 0.3333),
                      "bob@acme.example": (2, 0.4, 0.3333),
                      "carl@acme.example": (1, 0.2, 0.3333)}
    bob = by_rep["bob@acme.example"]
    assert (bob["reassignments"], bob["touched"], bob["sla_breached"], bob["sla_open"]) == \
        (1, 2, 1, 1)
    assert bob["speed_to_lead_seconds"] == {"p50": 1500.0, "p90": 1740.0}
    assert by_rep[None]["unassigned"] == 1

    by_day = {g["key"]: g for g in measures(client, key_for, world, "day")["groups"]}
    assert {d: (g["decisions"], g["assigned"], g["sla_met"], g["sla_breached"])
            for d, g in by_day.items()} == {"2026-12-01": (4, 4, 1, 2),
                                             "2026-12-02": (2, 1, 0, 1)}


def test_csv_has_a_row_per_group_and_a_total(client, key_for, world):
    response = client.get("/v1/insights/measures.csv", query_string={
        **PERIOD, "group_by": "day"}, headers=key_for(world.account_id, ["insights:read"]))
    assert response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [(r["key"], r["decisions"], r["speed_to_lead_p50_seconds"]) for r in rows] == [
        ("2026-12-01", "4", "1200.0"), ("2026-12-02", "2", "3600.0"), ("total", "6", "1500.0")]


def test_the_dashboard_shows_the_hand_count(client, world):
    sign_in(client, world.email)
    page = client.get("/admin/insights", query_string={
        "from": "2026-12-01", "to": "2026-12-02", "group_by": "rep"})
    html = page.get_data(as_text=True)
    shown = dict(re.findall(r'data-measure="(\w+)">([^<]*)<', html))
    assert shown == {"decisions": "6", "assigned": "5", "unassigned_rate": "16.7 %",
                     "backup_rate": "20.0 %", "reassignments": "1", "p50": "1500.0 s",
                     "p90": "3060.0 s", "sla_met_pct": "25.0 %", "sla_breached": "3"}
    assert html.count("<svg") == 3
    assert not re.search(r"<script(?![^>]*\bsrc=)", html)  # no inline script (the CSP)
    assert "<title>bob@acme.example, Share: 40" in html
    csv_text = client.get("/admin/insights.csv", query_string={
        "from": "2026-12-01", "to": "2026-12-02"}).get_data(as_text=True)
    assert csv_text.splitlines()[-1].startswith("total,,6,5,1,")


def test_prometheus_reports_the_last_day(client, world):
    body = client.get("/metrics").get_data(as_text=True)
    account = world.account_id
    # the 24 hours before NOW (from Dec 1 12:00) hold d4, d5, d6 and clocks k4 (breached)
    # and k5 (open); d4 is not a reassignment there, as d3 is before the window
    assert f'connector_routing_decisions{{account="{account}"}} 3.0' in body
    assert f'connector_routing_reassignments{{account="{account}"}} 0.0' in body
    assert f'connector_routing_backup{{account="{account}"}} 1.0' in body
    assert f'connector_routing_sla_breached{{account="{account}"}} 1.0' in body
    assert (f'connector_speed_to_lead_seconds{{account="{account}",quantile="0.5"}} '
            '2400.0') in body


def test_without_the_sla_table_sla_figures_are_zero_and_said_so(container, client,
                                                                 make_account, key_for,
                                                                 clock):
    clock.at = NOW
    world = seed(container, client, make_account, clocks=False)
    report = measures(client, key_for, world, "total")
    assert report["sla_available"] is False and "SLA" in report["sla_note"]
    assert (report["totals"]["sla_met"], report["totals"]["sla_breached"],
            report["totals"]["sla_met_pct"]) == (0, 0, None)
    assert report["totals"]["decisions"] == 6


def test_bad_query_parameters_are_named(client, v1):
    response = client.get("/v1/insights/measures?group_by=week&from=yesterday", headers=v1)
    assert response.status_code == 422
    assert set(response.json["error"]["fields"]) == {"group_by", "from"}
