"""The HubSpot developer-platform project of the connector's app (``connector hubspot
project DIR``), which an admin uploads with HubSpot's CLI (``hs project upload``).

Since June 2026 (public apps) and October 2026 (private apps) HubSpot no longer lets
anyone create a legacy app; a new app is a *project* on the developer platform, described
by files (platform version ``2026.09``, HubSpot's current one):

* ``hsproject.json``: the project's name, source directory and platform version;
* ``src/app/app-hsmeta.json``: the app - its distribution, its auth (OAuth with the redirect
  URL, or a static token for one account) and the scopes it asks for;
* ``src/app/webhooks/webhooks-hsmeta.json``: the target URL and the subscriptions. A project
  app declares its subscriptions here; the webhooks API (``subscriptions sync``) is for
  legacy public apps;
* ``src/app/workflow-actions/route-with-connector-hsmeta.json``: the custom workflow action
  "Route with connector": HubSpot calls ``{public url}/webhooks/hubspot/workflow-action``
  with the enrolled record and the ``router_id`` input, and later workflow steps can use its
  ``owner_id``, ``owner_email`` and ``outcome_message`` outputs.

The subscriptions are the ones ``subscriptions sync`` computes
(:func:`connector.service.hubspot_subscriptions.wanted_subscriptions`), written as HubSpot's
``legacyCrmObjects`` (``contact.creation``, ``contact.propertyChange`` with its property,
...) and ``hubEvents`` (``contact.privacyDeletion``), the same event types the webhook
endpoint already receives from legacy apps.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

PLATFORM_VERSION = "2026.09"
APP_UID = "lead_routing_connector"
OAUTH_CALLBACK_PATH = "/oauth/hubspot/callback"
WEBHOOKS_PATH = "/webhooks/hubspot"
WORKFLOW_ACTION_PATH = "/webhooks/hubspot/workflow-action"
#: the workflow action's input and outputs (the endpoint reads and answers these names)
ACTION_INPUT = "router_id"
ACTION_OUTPUTS = {"owner_id": "Owner ID", "owner_email": "Owner email",
                  "outcome_message": "Outcome message"}
#: ``object.*``-era names HubSpot's workflow actions use for each object type
_ACTION_OBJECT_TYPES = {"contact": "CONTACT", "company": "COMPANY", "deal": "DEAL",
                        "ticket": "TICKET"}
#: subscriptions HubSpot lists under ``hubEvents`` rather than ``legacyCrmObjects``
_HUB_EVENTS = {"contact.privacyDeletion"}
#: scopes the app needs besides the CRM ones: ``oauth`` for the install flow, ``automation``
#: for the workflow action (its asynchronous completion calls the callbacks API)
APP_SCOPES = ("automation", "oauth")

Subscription = tuple[str, str | None]


def project_files(
    public_url: str,
    *,
    scopes: Iterable[str],
    subscriptions: Iterable[Subscription],
    object_types: Iterable[str],
    auth: str = "oauth",
    distribution: str = "private",
    name: str = "Lead routing connector",
    max_concurrent_requests: int = 10,
) -> dict[str, dict[str, Any]]:
    """Every file of the project by its path inside the project directory, as JSON objects.

    ``public_url`` is where HubSpot reaches the connector (HTTPS); ``scopes`` are the CRM
    scopes (:func:`adapters.hubspot.scopes.scopes_for`); ``object_types`` the HubSpot types
    the workflow action is offered on (``contact``, ...). ``auth`` is ``oauth`` (installs
    through ``/oauth/hubspot/callback``) or ``static`` (one account, a static access token).
    """
    if auth not in ("oauth", "static"):
        raise ValueError("auth must be 'oauth' or 'static'")
    if distribution not in ("private", "marketplace"):
        raise ValueError("distribution must be 'private' or 'marketplace'")
    base = public_url.rstrip("/")
    app_auth: dict[str, Any] = {
        "type": auth,
        "requiredScopes": sorted(set(scopes) | set(APP_SCOPES)),
        "optionalScopes": [],
        "conditionallyRequiredScopes": [],
    }
    if auth == "oauth":
        app_auth["redirectUrls"] = [base + OAUTH_CALLBACK_PATH]
    return {
        "hsproject.json": {"name": "lead-routing-connector", "srcDir": "src",
                           "platformVersion": PLATFORM_VERSION},
        "src/app/app-hsmeta.json": {
            "uid": APP_UID,
            "type": "app",
            "config": {
                "name": name,
                "description": "Routes new and changed CRM records to reps and writes the "
                               "owner back.",
                "distribution": distribution,
                "auth": app_auth,
                "permittedUrls": {"fetch": [base], "iframe": [], "img": []},
            },
        },
        "src/app/webhooks/webhooks-hsmeta.json": webhooks_file(
            base + WEBHOOKS_PATH, subscriptions, max_concurrent_requests),
        "src/app/workflow-actions/route-with-connector-hsmeta.json": workflow_action_file(
            base + WORKFLOW_ACTION_PATH, object_types),
    }


def webhooks_file(target_url: str, subscriptions: Iterable[Subscription],
                  max_concurrent_requests: int = 10) -> dict[str, Any]:
    """``webhooks-hsmeta.json`` holding exactly ``subscriptions``, sorted."""
    legacy: list[dict[str, Any]] = []
    hub_events: list[dict[str, Any]] = []
    for event_type, property_name in sorted(subscriptions, key=lambda s: (s[0], s[1] or "")):
        entry: dict[str, Any] = {"subscriptionType": event_type}
        if property_name:
            entry["propertyName"] = property_name
        entry["active"] = True
        (hub_events if event_type in _HUB_EVENTS else legacy).append(entry)
    return {
        "uid": "connector_webhooks",
        "type": "webhooks",
        "config": {
            "settings": {"targetUrl": target_url,
                         "maxConcurrentRequests": max_concurrent_requests},
            "subscriptions": {"crmObjects": [], "legacyCrmObjects": legacy,
                              "hubEvents": hub_events},
        },
    }


def workflow_action_file(action_url: str, object_types: Iterable[str]) -> dict[str, Any]:
    """The "Route with connector" custom workflow action."""
    types = sorted({_ACTION_OBJECT_TYPES[t] for t in object_types if t in _ACTION_OBJECT_TYPES}
                   or set(_ACTION_OBJECT_TYPES.values()))
    return {
        "uid": "route_with_connector",
        "type": "workflow-action",
        "config": {
            "actionUrl": action_url,
            "isPublished": True,
            "supportedClients": [{"client": "WORKFLOWS"}],
            "objectTypes": types,
            "inputFields": [{
                "typeDefinition": {"name": ACTION_INPUT, "type": "string",
                                   "fieldType": "text"},
                "supportedValueTypes": ["STATIC_VALUE"],
                "isRequired": True,
            }],
            "outputFields": [{"typeDefinition": {"name": field, "type": "string",
                                                 "fieldType": "text"}}
                             for field in ACTION_OUTPUTS],
            "labels": {"en": {
                "actionName": "Route with connector",
                "actionDescription": "Runs one of the connector's routers on the enrolled "
                                     "record and assigns its owner.",
                "actionCardContent": "Route with router {{" + ACTION_INPUT + "}}",
                "inputFieldLabels": {ACTION_INPUT: "Router ID"},
                "inputFieldDescriptions": {
                    ACTION_INPUT: "The id of a published router, as the connector's console "
                                  "or GET /routers shows it"},
                "outputFieldLabels": dict(ACTION_OUTPUTS),
            }},
        },
    }
