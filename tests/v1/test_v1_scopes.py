"""Every scope against every endpoint: a key works only within its scopes, and ``*``
works everywhere."""

from __future__ import annotations

import pytest

from connector.service.api_keys import SCOPES
from connector.web.v1 import SCOPE_OF
from tests.v1.conftest import make_rep

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
]


def test_the_table_covers_every_endpoint_and_matches_the_code(app):
    assert {e[0]: e[4] for e in ENDPOINTS} == {k.removeprefix("v1."): v
                                               for k, v in SCOPE_OF.items()}


@pytest.fixture
def world(client, v1):
    rep = make_rep(client, v1, "alex@company.com")
    ruleset = client.post("/v1/rules", json={"name": "R", "rules": []}, headers=v1).json["id"]
    lead = client.post("/v1/leads", json={"email": "first@example.com"}, headers=v1).json
    channel_body = next(e[3] for e in ENDPOINTS if e[0] == "create_notification_channel")
    channel = client.post("/v1/notification-channels", headers=v1, json=channel_body)
    monitor = client.post("/v1/sla-monitors", headers=v1, json={
        "name": "S", "ruleset_id": ruleset, "condition": "first_touch",
        "duration": "PT5M"}).json["id"]
    return {"rep": rep, "ruleset": ruleset, "lead": lead["id"], "contact": lead["contact_id"],
            "channel": channel.json["id"], "monitor": monitor}


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=[e[0] for e in ENDPOINTS])
def test_a_key_works_only_within_its_scopes(client, key_for, account_id, world, endpoint):
    """Each scope in turn: refused ones first, then the one needed, then ``*``."""
    _, method, path, body, needed = endpoint
    refused = [s for s in SCOPES if s not in ("*", needed)]
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
