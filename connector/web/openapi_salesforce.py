"""OpenAPI paths of the Salesforce routes (merged into ``GET /openapi.json``)."""

from __future__ import annotations

from typing import Any


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {
        "schema": {"$ref": "#/components/schemas/Error"}}}}


def salesforce_paths() -> dict[str, Any]:
    envelope = {"type": "object", "required": ["eventType", "data"], "properties": {
        "eventId": {"type": "string"},
        "eventType": {"enum": ["ConversationStarted", "RoutingRequested", "Interaction"]},
        "data": {"type": "object"}}}
    signature = [{"name": "X-Connector-Signature", "in": "header", "required": True,
                  "schema": {"type": "string"},
                  "description": 't=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body">'}]
    soap = {"content": {"text/xml": {"schema": {"type": "string"}}}}
    return {
        "/webhooks/salesforce": {"post": {
            "summary": "BYOC events (served when SALESFORCE_WEBHOOK_SECRET is set)",
            "security": [], "parameters": signature,
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "oneOf": [envelope, {"type": "object", "properties": {
                    "events": {"type": "array", "items": envelope}}}]}}}},
            "responses": {"200": {"description": "Stored (duplicates counted)"},
                          "400": _error("Malformed body; the message names the field"),
                          "401": _error("Signature missing, wrong or outside 5 minutes"),
                          "503": _error("SALESFORCE_WEBHOOK_SECRET is not set")}}},
        "/webhooks/salesforce/outbound/{secret}": {"post": {
            "summary": "Salesforce Outbound Messages for Lead, Contact, Case: the endpoint "
                       "URL of the Outbound Message definition, with a secret of "
                       "SALESFORCE_OUTBOUND_SECRETS (served when it and SALESFORCE_ORG_ID "
                       "are set)",
            "security": [],
            "parameters": [{"name": "secret", "in": "path", "required": True,
                            "schema": {"type": "string"},
                            "description": "one of SALESFORCE_OUTBOUND_SECRETS"}],
            "requestBody": {"required": True, **soap},
            "responses": {"200": {"description": "SOAP Ack, after storing", **soap},
                          "401": {"description": "SOAP fault: not one of "
                                                 "SALESFORCE_OUTBOUND_SECRETS, or (with "
                                                 "SALESFORCE_OUTBOUND_VERIFY_SESSION) a "
                                                 "SessionId the org does not confirm; "
                                                 "nothing stored", **soap},
                          "500": {"description": "SOAP fault: nothing acknowledged", **soap},
                          "503": {"description": "SALESFORCE_ORG_ID or "
                                                 "SALESFORCE_OUTBOUND_SECRETS is not set "
                                                 "(JSON), or Salesforce could not be asked "
                                                 "to confirm the SessionId (SOAP fault, "
                                                 "retried by Salesforce); nothing stored",
                                  "content": {**_error("")["content"], **soap["content"]}}}}},
        "/webhooks/salesforce/outbound": {"post": {
            "summary": "Refused: an Outbound Message must be sent to "
                       "/webhooks/salesforce/outbound/{secret}",
            "security": [], "requestBody": {"required": True, **soap},
            "responses": {"401": {"description": "SOAP fault: the endpoint URL has no "
                                                 "secret; nothing stored", **soap},
                          "503": _error("SALESFORCE_ORG_ID or SALESFORCE_OUTBOUND_SECRETS "
                                        "is not set")}}},
        "/conversations/{identifier}": {"get": {
            "summary": "A BYOC conversation's routing state and its decision",
            "parameters": [{"name": "identifier", "in": "path", "required": True,
                            "schema": {"type": "string"}}],
            "responses": {"200": {"description": "The conversation, with the offers and "
                                                 "route deletions made for it and, when it "
                                                 "failed, its next_action"},
                          "401": _error("Missing or invalid bearer token"),
                          "403": _error("The token's account is not active"),
                          "404": _error("Not found")}}},
        "/conversations/{identifier}/retry": {"post": {
            "summary": "Route a failed BYOC conversation again, or hand it to a queue",
            "parameters": [{"name": "identifier", "in": "path", "required": True,
                            "schema": {"type": "string"}}],
            "requestBody": {"required": False, "content": {"application/json": {"schema": {
                "type": "object", "additionalProperties": False, "properties": {
                    "queue_id": {"type": "string", "pattern": "^00G",
                                 "description": "Hand the conversation to this Salesforce "
                                                "queue instead of routing it again"}}}}}},
            "responses": {"202": {"description": "Queued for a worker"},
                          "400": _error("Bad body; the message names the field"),
                          "401": _error("Missing or invalid bearer token"),
                          "403": _error("The token's account is not active"),
                          "404": _error("Not found"),
                          "409": _error("The conversation is not failed, or no Salesforce "
                                        "org is connected")}}},
    }
