"""OpenAPI paths of the HubSpot webhook, OAuth install and inbox-event endpoints."""

from __future__ import annotations

from typing import Any

_ERROR = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
_PAGE = {"text/html": {"schema": {"type": "string"}}}
_ID = [{"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}]


def _r(description: str, error: bool = False) -> dict[str, Any]:
    return {"description": description, **(_ERROR if error else {})}


def paths() -> dict[str, Any]:
    header = [{"name": n, "in": "header", "schema": {"type": "string"}} for n in (
        "X-HubSpot-Signature-v3", "X-HubSpot-Request-Timestamp", "X-HubSpot-Signature",
        "X-HubSpot-Signature-Version")]
    return {
        "/webhooks/hubspot": {"post": {
            "summary": "HubSpot webhook batch (signed v3; v1/v2 only if "
                       "HUBSPOT_SIGNATURE_VERSIONS allows)", "security": [],
            "parameters": header,
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "array", "maxItems": 100, "items": {"type": "object"}}}}},
            "responses": {"204": _r("Stored (duplicates ignored)"),
                          "400": _r("Not a JSON array of at most 100 events", True),
                          "401": _r("Missing, invalid or stale signature", True),
                          "413": _r("Body over the size limit", True),
                          "503": _r("HUBSPOT_CLIENT_SECRET is not configured", True)}}},
        "/oauth/hubspot/install": {"get": {
            "summary": "Start the public app's install for the token's account (or the "
                       "signed-in console admin's); sets the nonce cookie that binds the "
                       "state to this browser",
            "responses": {"302": _r("Redirect to HubSpot's authorize page"),
                          "401": _r("Missing or invalid bearer token", True),
                          "403": _r("The token's account is not active", True),
                          "503": _r("OAuth not configured", True)}}},
        "/oauth/hubspot/callback": {"get": {
            "summary": "HubSpot's redirect: check the state against this browser's nonce "
                       "cookie and that it is used once, exchange the code, store the "
                       "tokens encrypted",
            "security": [],
            "parameters": [{"name": n, "in": "query", "required": True,
                            "schema": {"type": "string"}} for n in ("code", "state")],
            "responses": {"200": _r("Portal connected"),
                          "400": {"description": "Bad code; or a page: the state is not "
                                                 "ours, expired or already used",
                                  "content": {**_ERROR["content"], **_PAGE}},
                          "403": {"description": "A page: the install was started in "
                                                 "another browser; nothing connected",
                                  "content": _PAGE},
                          "409": _r("The portal belongs to another account", True),
                          "503": _r("OAuth not configured", True)}}},
        "/events": {"get": {
            "summary": "Inbox events (failed owner syncs included)",
            "description": "An account token sees the events of the HubSpot portals and "
                           "Salesforce org connected to its account; an admin token sees "
                           "every event, those of unconnected portals included.",
            "parameters": [{"name": "status", "in": "query", "schema": {
                "type": "string", "enum": ["failed", "pending", "processing", "done",
                                           "dead"]}},
                {"name": "limit", "in": "query", "schema": {"type": "integer"}}],
            "responses": {"200": _r("Events"), "400": _r("Bad status", True),
                          "401": _r("Missing or invalid bearer token", True),
                          "403": _r("The token's account is not active", True)}}},
        "/events/{id}": {"get": {
            "summary": "One event; a queued dispatch shows its decision", "parameters": _ID,
            "responses": {"200": _r("The event"), "401": _r("Missing or invalid bearer token",
                                                            True),
                          "403": _r("The token's account is not active", True),
                          "404": _r("No such event", True)}}},
        "/events/{id}/replay": {"post": {
            "summary": "Replay one failed or dead event", "parameters": _ID,
            "responses": {"200": _r("Queued again"), "404": _r("No such event", True),
                          "409": _r("Event is not failed or dead", True)}}},
        "/events/replay": {"post": {
            "summary": "Replay events by id, or every failed and dead one",
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object", "properties": {
                    "ids": {"type": "array", "items": {"type": "string"}},
                    "all_failed": {"type": "boolean"}}}}}},
            "responses": {"200": _r("Queued again"), "400": _r("Neither ids nor all_failed",
                                                                True)}}},
    }
