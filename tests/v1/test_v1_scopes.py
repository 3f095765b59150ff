"""Every scope against every endpoint: a key works only within its scopes, and ``*``
works everywhere."""

from __future__ import annotations

import pytest

from connector.service.api_keys import SCOPES
from connector.web.v1 import SCOPE_OF
from tests.v1.conftest import make_rep

#: a public address (an IP literal: checked without a DNS lookup)
FEED = "https://93.184.215.14/calendar.ics"
#: (endpoint, method, path, body, scope it needs); ids are filled in by ``world``
ENDPOINTS = [
    ("list_reps", "GET", "/v1/reps", None, "reps:read"),
    ("create_rep", "POST", "/v1/reps", {"email": "new@company.com"}, "reps:write"),
    ("get_rep", "GET", "/v1/reps/{rep}", None, "reps:read"),
    ("patch_rep", "PATCH", "/v1/reps/{rep}", {"status": "BUSY"}, "reps:write"),
    ("delete_rep", "DELETE", "/v1/reps/{rep}", None, "reps:write"),
    ("list_rulesets", "GET", "/v1/rules", None, "rules:read"),
    ("create_ruleset", "POST", "/v1/rules", {"name": "R", "rules": []}, "rules:write"),
    ("get_ruleset", "GET", "/v1/rules/{ruleset}", None, "rules:read"),
    ("patch_ruleset", "PATCH", "/v1/rules/{ruleset}", {"name": "S"}, "rules:write"),
    ("delete_ruleset", "DELETE", "/v1/rules/{ruleset}", None, "rules:write"),
    ("activate_ruleset", "POST", "/v1/rules/{ruleset}/activate", None, "rules:write"),
    ("deactivate_ruleset", "POST", "/v1/rules/{ruleset}/deactivate", None, "rules:write"),
    ("ruleset_versions", "GET", "/v1/rules/{ruleset}/versions", None, "rules:read"),
    ("test_ruleset", "POST", "/v1/rules/{ruleset}/test", {"company": "Acme"}, "rules:read"),
    ("create_lead", "POST", "/v1/leads", {"email": "lead@example.com"}, "leads:write"),
    ("list_leads", "GET", "/v1/leads", None, "leads:read"),
    ("get_lead", "GET", "/v1/leads/{lead}", None, "leads:read"),
    ("upsert_contact", "POST", "/v1/contacts", {"email": "c@example.com"}, "contacts:write"),
    ("get_contact", "GET", "/v1/contacts/{contact}", None, "contacts:read"),
    ("patch_contact", "PATCH", "/v1/contacts/{contact}", {"status": "Working"},
     "contacts:write"),
    ("log_activity", "POST", "/v1/contacts/{contact}/activities", {"type": "NOTE"},
     "activities:write"),
    ("list_activities", "GET", "/v1/contacts/{contact}/activities", None, "activities:read"),
    ("routing_insights", "GET", "/v1/insights/routing", None, "insights:read"),
    ("routing_measures", "GET", "/v1/insights/measures", None, "insights:read"),
    ("routing_measures_csv", "GET", "/v1/insights/measures.csv", None, "insights:read"),
    ("list_notification_channels", "GET", "/v1/notification-channels", None,
     "notifications:read"),
    ("create_notification_channel", "POST", "/v1/notification-channels", {
        "name": "Ops", "type": "webhook", "secrets": {
            "url": "https://hooks.example.com/in", "signing_secret": "whsec_c2VjcmV0"}},
     "notifications:write"),
    ("delete_notification_channel", "DELETE", "/v1/notification-channels/{channel}", None,
     "notifications:write"),
    ("put_notification_preferences", "PUT", "/v1/reps/{rep}/notification-preferences",
     {"muted_kinds": ["sla.reminder"]}, "notifications:write"),
    ("create_sla_monitor", "POST", "/v1/sla-monitors",
     {"name": "S", "ruleset_id": "{ruleset}", "condition": "first_touch", "duration": "PT5M"},
     "sla:write"),
    ("list_sla_monitors", "GET", "/v1/sla-monitors", None, "sla:read"),
    ("get_sla_monitor", "GET", "/v1/sla-monitors/{monitor}", None, "sla:read"),
    ("patch_sla_monitor", "PATCH", "/v1/sla-monitors/{monitor}", {"name": "T"},
     "sla:write"),
    ("delete_sla_monitor", "DELETE", "/v1/sla-monitors/{monitor}", None, "sla:write"),
    ("contact_sla", "GET", "/v1/contacts/{contact}/sla", None, "sla:read"),
    ("create_company", "POST", "/v1/companies", {"name": "Acme", "external_id": "x"},
     "companies:write"),
    ("list_companies", "GET", "/v1/companies", None, "companies:read"),
    ("get_company", "GET", "/v1/companies/{company}", None, "companies:read"),
    ("delete_company", "DELETE", "/v1/companies/{company}", None, "companies:write"),
    ("match", "POST", "/v1/match", {"company": "Acme"}, "companies:read"),
    ("list_territories", "GET", "/v1/territories", None, "territories:read"),
    ("territory_overlaps", "GET", "/v1/territories/overlaps", None, "territories:read"),
    ("create_calibration", "POST", "/v1/routers/{router}/calibrations",
     {"rep_id": "{rep}", "delta": 1, "by": "maria", "why": "leave"}, "routers:write"),
    ("list_calibrations", "GET", "/v1/routers/{router}/calibrations", None, "routers:read"),
    ("run_backtest", "POST", "/v1/backtests", {"router_id": "{router}"}, "routers:read"),
    ("set_calendar", "PUT", "/v1/reps/{rep}/calendar", {"url": FEED}, "reps:write"),
    ("get_calendar", "GET", "/v1/reps/{rep}/calendar", None, "reps:read"),
    ("delete_calendar", "DELETE", "/v1/reps/{rep}/calendar", None, "reps:write"),
]
#: endpoints whose body is not JSON: (endpoint, path, content type, body, scope)
RAW_ENDPOINTS = [
    ("import_territories", "/v1/territories/import", "text/csv", "name,assign_to\n",
     "territories:write"),
]


def test_the_table_covers_every_endpoint_and_matches_the_code(app):
    assert {e[0]: e[4] for e in ENDPOINTS} | {e[0]: e[4] for e in RAW_ENDPOINTS} == \
        {k.removeprefix("v1."): v for k, v in SCOPE_OF.items()}


@pytest.fixture
def world(client, v1, headers):
    rep = make_rep(client, v1, "alex@company.com")
    client.put(f"/v1/reps/{rep}/calendar", json={"url": FEED}, headers=v1)
    company = client.post("/v1/companies", json={"name": "Acme"}, headers=v1).json["id"]
    router = client.post("/routers", json={"name": "R", "object_type": "contact",
                                           "settings": {"users": []}},
                         headers=headers).get_json()["id"]
    ruleset = client.post("/v1/rules", json={"name": "R", "rules": []}, headers=v1).json["id"]
    lead = client.post("/v1/leads", json={"email": "first@example.com"}, headers=v1).json
    channel_body = next(e[3] for e in ENDPOINTS if e[0] == "create_notification_channel")
    channel = client.post("/v1/notification-channels", headers=v1, json=channel_body)
    monitor = client.post("/v1/sla-monitors", headers=v1, json={
        "name": "S", "ruleset_id": ruleset, "condition": "first_touch",
        "duration": "PT5M"}).json["id"]
    return {"rep": rep, "ruleset": ruleset, "lead": lead["id"], "contact": lead["contact_id"],
            "channel": channel.json["id"], "monitor": monitor, "company": company,
            "router": router}


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=[e[0] for e in ENDPOINTS])
def test_a_key_works_only_within_its_scopes(client, key_for, account_id, world, endpoint):
    """Each scope in turn: refused ones first, then the one needed, then ``*``."""
    _, method, path, body, needed = endpoint
    refused = [s for s in SCOPES if s not in ("*", needed)]
    if isinstance(body, dict):
        body = {k: v.format(**world) if isinstance(v, str) else v for k, v in body.items()}
    for scope in [*refused, needed, "*"]:
        filled = {k: v.format(**world) if isinstance(v, str) else v
                  for k, v in body.items()} if body else body
        response = client.open(path.format(**world), method=method, json=filled,
                               headers=key_for(account_id, [scope]))
        if scope in refused:
            assert response.status_code == 403, scope
            assert response.json["error"] == {
                "code": "FORBIDDEN", "message": f"This API key lacks the scope '{needed}'",
                "fields": {}}
        elif scope == needed:
            assert response.status_code in (200, 201, 204), response.json
        else:  # the same request again: 404 after a DELETE, 409 after a create
            assert response.status_code in (200, 201, 204, 404, 409), response.json


@pytest.mark.parametrize("endpoint", RAW_ENDPOINTS, ids=[e[0] for e in RAW_ENDPOINTS])
def test_a_raw_body_endpoint_needs_its_scope(client, key_for, account_id, endpoint):
    _, path, content_type, body, needed = endpoint
    for scope in SCOPES:
        response = client.post(path, data=body.encode(), content_type=content_type,
                               headers=key_for(account_id, [scope]))
        if scope in ("*", needed):
            assert response.status_code != 403, scope
        else:
            assert response.status_code == 403, scope
