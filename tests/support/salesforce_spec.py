"""Salesforce's Interaction Service OpenAPI and outbound event payloads (tests/specs/,
Apache-2.0) as JSON Schema validators, to check what the client sends, what the fake
answers, and what the fake BYOC event sender posts.

The published document uses a few non-JSON-Schema type names ("int", "double"); they
are read as "integer" and "number".
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

SPEC_DIR = Path(__file__).resolve().parents[1] / "specs" / "salesforce-interaction-service"
TYPE_NAMES = {"int": "integer", "double": "number", "long": "integer", "float": "number"}
OPERATIONS = {"route": ("/route", "post"), "delete-route": ("/route", "delete"),
              "agentWork": ("/agentWork", "post"),
              "routingResult": ("/routingResult", "post")}
REQUEST_SCHEMAS = {"route": "PostRouteRequest", "delete-route": "DeleteRouteRequest",
                   "agentWork": "AgentWorkRequest", "routingResult": "RoutingResultRequest"}
RESPONSE_SCHEMAS = {"route": "PostRouteResponse", "delete-route": "DeleteRouteResponse",
                    "agentWork": "AgentWorkResponse",
                    "routingResult": "RoutingResultResponse"}


def _normalise(node: Any) -> Any:
    if isinstance(node, dict):
        out = {k: _normalise(v) for k, v in node.items()}
        if isinstance(out.get("type"), str):
            out["type"] = TYPE_NAMES.get(out["type"], out["type"])
        return out
    if isinstance(node, list):
        return [_normalise(v) for v in node]
    return node


@lru_cache(maxsize=1)
def inbound_spec() -> dict[str, Any]:
    return _normalise(yaml.safe_load((SPEC_DIR / "inbound-interaction-api.yaml").read_text()))


@lru_cache(maxsize=1)
def outbound_spec() -> dict[str, Any]:
    """``outbound-custom-event-payload.yaml``: the events Salesforce sends the partner."""
    return _normalise(yaml.safe_load(
        (SPEC_DIR / "outbound-custom-event-payload.yaml").read_text()))


SPECS = {"inbound": inbound_spec, "outbound": outbound_spec}


@cache
def validator(schema_name: str, spec: str = "inbound") -> Draft202012Validator:
    document = SPECS[spec]()
    registry = Registry().with_resource(
        f"urn:{spec}", Resource.from_contents(document, default_specification=DRAFT202012))
    return Draft202012Validator({"$ref": f"urn:{spec}#/components/schemas/{schema_name}"},
                                registry=registry)


def schema_errors(schema_name: str, instance: Any, spec: str = "inbound") -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}"
            for e in validator(schema_name, spec).iter_errors(instance)]


#: the outbound schema of each BYOC event type's ``data`` (ConversationStarted is the
#: partner channel's own event, not Salesforce's, so it has none)
EVENT_SCHEMAS = {"RoutingRequested": "RoutingRequested", "Interaction": "InteractionEvent"}
#: entry payloads: RoutingResult is in the outbound document; RoutingWorkResult is only
#: published in the inbound one
ENTRY_SCHEMAS = {"RoutingResult": ("RoutingResult", "outbound"),
                 "RoutingWorkResult": ("RoutingWorkResult", "inbound")}


def event_problems(event: Mapping[str, Any]) -> list[str]:
    """How a BYOC event envelope's ``data`` breaks Salesforce's outbound payload schema."""
    kind = event.get("eventType")
    if kind not in EVENT_SCHEMAS:
        return []
    data = event.get("data")
    problems = schema_errors(EVENT_SCHEMAS[kind], data, "outbound")
    if kind == "RoutingRequested":
        payload = (data or {}).get("payload") or {}
        problems += schema_errors("RoutingRequestedEvent", payload, "outbound")
    else:
        entry = (data or {}).get("payload") or {}
        problems += schema_errors("ConversationEntry", entry, "outbound")
        target = ENTRY_SCHEMAS.get(entry.get("entryType"))
        if target is not None:
            problems += schema_errors(target[0], entry.get("entryPayload"), target[1])
    return problems


def unknown_properties(schema_name: str, instance: Mapping[str, Any]) -> list[str]:
    """Properties the spec does not define (top level and routingInfo/flow)."""
    schemas = inbound_spec()["components"]["schemas"]
    known = set(schemas[schema_name].get("properties", {}))
    extra = [k for k in instance if k not in known]
    info = instance.get("routingInfo")
    if isinstance(info, dict):
        extra += [f"routingInfo.{k}" for k in info if k not in schemas["RoutingInfo"]
                  ["properties"]]
        flow = info.get("flow")
        if isinstance(flow, dict):
            extra += [f"routingInfo.flow.{k}" for k in flow
                      if k not in schemas["FlowInfo"]["properties"]]
    return extra


def required_headers(operation: str) -> list[str]:
    path, method = OPERATIONS[operation]
    params = inbound_spec()["paths"][path][method].get("parameters", [])
    return [p["name"] for p in params if p.get("in") == "header" and p.get("required")]


def request_problems(operation: str, headers: Mapping[str, str], body: Any) -> str | None:
    """For FakeSalesforce(request_validator=...): None when the request follows the spec."""
    lowered = {k.lower() for k in headers}
    problems = [f"missing header {h}" for h in required_headers(operation)
                if h.lower() not in lowered]
    problems += schema_errors(REQUEST_SCHEMAS[operation], body)
    if isinstance(body, dict):
        problems += [f"unknown property {p}" for p in
                     unknown_properties(REQUEST_SCHEMAS[operation], body)]
    return "; ".join(problems) or None
