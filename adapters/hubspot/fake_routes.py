"""Endpoint behaviour of the fake HubSpot (``FakeHubSpot.handle`` dispatches here).

Response shapes follow HubSpot's API reference: batch answers carry ``status``,
``results``, ``startedAt``/``completedAt`` and, on a 207, ``numErrors`` and ``errors`` whose
``context.ids`` name the failed records; errors carry ``status``, ``message``,
``correlationId`` and ``category``.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from adapters.hubspot.fake_server import FakeHubSpot

OBJECT_TYPES = ("contacts", "companies", "deals", "tickets")
BATCH_LIMIT = 100
Reply = tuple[int, dict[str, str], Any]


@dataclass(frozen=True)
class OwnerWriteRecord:
    object_type: str
    record_id: str
    owner_id: str
    at: float


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _error(status: int, message: str, category: str, **extra: Any) -> Reply:
    body = {"status": "error", "message": message, "correlationId": str(uuid.uuid4()),
            "category": category, **extra}
    return status, {}, body


_OBJECT = re.compile(r"^/crm/v3/objects/(?P<type>\w+)/(?P<rest>batch/\w+|\d+)$")
_SUBS = re.compile(r"^/webhooks/v3/(?P<app>\d+)/subscriptions(?:/(?P<id>\d+))?$")
_SINGULAR = {"contacts": "CONTACT", "companies": "COMPANY", "deals": "DEAL", "tickets": "TICKET"}


def route(hs: FakeHubSpot, method: str, path: str, query: dict[str, list[str]],
          headers: Mapping[str, str], body: bytes) -> Reply:
    if method == "POST" and path == "/oauth/v1/token":
        return hs.token_endpoint(body)
    if method == "GET" and path.startswith("/oauth/v1/access-tokens/"):
        return hs.token_info(path.rsplit("/", 1)[-1])
    if match := _SUBS.match(path):
        return _subscriptions(hs, method, match["app"], match["id"], query, body)
    obj = _OBJECT.match(path)
    if not (obj or path == "/crm/v3/owners"):
        return _error(404, f"No route for {method} {path}", "OBJECT_NOT_FOUND")

    if (denied := hs._check_bearer(headers) or hs._check_scopes(method, path, headers)) \
            is not None:
        return denied
    admitted, rate_headers = hs._admit()
    if not admitted:
        return 429, rate_headers, {
            "status": "error", "message": "You have reached your ten_secondly_rolling limit.",
            "errorType": "RATE_LIMIT", "correlationId": _error(0, "", "")[2]["correlationId"],
            "policyName": "TEN_SECONDLY_ROLLING",
        }
    if (fault := hs._apply_faults()) is not None:
        return fault[0], rate_headers, fault[2]

    if path == "/crm/v3/owners" and method == "GET":
        key = "GET /crm/v3/owners"
        reply = _owners(hs, query)
    elif obj:
        object_type, rest = obj["type"], obj["rest"]
        if object_type not in OBJECT_TYPES:
            return _error(400, f"Unable to infer object type from: {object_type}",
                          "VALIDATION_ERROR")
        key = f"{method} /crm/v3/objects/{{type}}/" + (rest if rest.startswith("batch") else
                                                        "{id}")
        reply = _object_call(hs, method, object_type, rest, query, body)
    else:
        return _error(405, "Method not allowed", "VALIDATION_ERROR")
    with hs._lock:
        hs.calls[key] += 1
    status, extra, payload = reply
    return status, {**rate_headers, **extra}, payload


def _json(body: bytes) -> Any:
    try:
        return json.loads(body or b"null")
    except ValueError:
        return None


def _inputs(payload: Any) -> list[Any] | Reply:
    if not isinstance(payload, dict) or not isinstance(payload.get("inputs"), list):
        return _error(400, "Invalid input JSON: expected an object with an inputs array",
                      "VALIDATION_ERROR")
    inputs = payload["inputs"]
    if len(inputs) > BATCH_LIMIT:
        return _error(400, "The maximum number of inputs supported in a batch request is "
                      f"{BATCH_LIMIT}. Please reduce the number of items and try again",
                      "VALIDATION_ERROR")
    return inputs


def _view(hs: FakeHubSpot, object_type: str, obj: dict[str, Any],
          properties: list[str]) -> dict[str, Any]:
    props = obj["properties"]
    keys = [*properties, "hs_object_id", "createdate", hs._modified(object_type)]
    return {"id": obj["id"], "properties": {k: props.get(k) for k in dict.fromkeys(keys)},
            "createdAt": obj["createdAt"], "updatedAt": obj["updatedAt"], "archived": False}


def _batch_reply(results: list[Any], errors: list[dict[str, Any]], ok_status: int) -> Reply:
    now = _now_iso()
    body: dict[str, Any] = {"status": "COMPLETE", "results": results,
                            "startedAt": now, "completedAt": now}
    if errors:
        body.update(numErrors=len(errors), errors=errors)
        return 207, {}, body
    return ok_status, {}, body


def _object_call(hs: FakeHubSpot, method: str, object_type: str, rest: str,
                 query: dict[str, list[str]], body: bytes) -> Reply:
    store = hs.objects[object_type]
    if rest.isdigit():
        if method != "GET":
            return _error(405, "Method not allowed", "VALIDATION_ERROR")
        props = ",".join(query.get("properties", [])).split(",")
        with hs._lock:
            obj = store.get(rest)
            if obj is None:
                return _error(404, "Object not found.  objectId are usually numeric.",
                              "OBJECT_NOT_FOUND")
            return 200, {}, _view(hs, object_type, obj, [p for p in props if p])
    if method != "POST":
        return _error(405, "Method not allowed", "VALIDATION_ERROR")
    payload = _json(body)
    inputs = _inputs(payload)
    if isinstance(inputs, tuple):
        return inputs
    if rest == "batch/read":
        return _batch_read(hs, object_type, payload, inputs)
    if rest == "batch/update":
        return _batch_update(hs, object_type, inputs)
    if rest == "batch/create":
        ids = [hs.create_object(object_type, dict(i.get("properties") or {})) for i in inputs]
        with hs._lock:
            results = [_view(hs, object_type, store[i], list(store[i]["properties"]))
                       for i in ids]
        return _batch_reply(results, [], 201)
    return _error(404, f"Unknown batch operation {rest}", "OBJECT_NOT_FOUND")


def _batch_read(hs: FakeHubSpot, object_type: str, payload: dict[str, Any],
                inputs: list[Any]) -> Reply:
    properties = [str(p) for p in payload.get("properties") or []]
    results, missing = [], []
    with hs._lock:
        for item in inputs:
            obj = hs.objects[object_type].get(str((item or {}).get("id")))
            if obj is None:
                missing.append(str((item or {}).get("id")))
            else:
                results.append(_view(hs, object_type, obj, properties))
    errors = []
    if missing:
        errors.append({
            "status": "error", "category": "OBJECT_NOT_FOUND",
            "message": f"Could not get some {_SINGULAR[object_type]} objects, they may be "
                       "deleted or not exist. Check that ids are valid.",
            "context": {"ids": missing},
        })
    return _batch_reply(results, errors, 200)


def _batch_update(hs: FakeHubSpot, object_type: str, inputs: list[Any]) -> Reply:
    ids = [str((item or {}).get("id")) for item in inputs]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        return _error(400, f"Duplicate IDs found in batch input: {duplicates}. IDs must be "
                      "unique", "VALIDATION_ERROR")
    with hs._lock:
        owner_ids = {o["id"] for o in hs.owners if not o["archived"]}
        for item in inputs:
            owner = ((item or {}).get("properties") or {}).get("hubspot_owner_id")
            if owner not in (None, "") and str(owner) not in owner_ids:
                detail = json.dumps([{"isValid": False, "message": f"{owner} is not a valid "
                                      "owner id", "error": "INVALID_OWNER_ID",
                                      "name": "hubspot_owner_id"}])
                return _error(400, f"Property values were not valid: {detail}",
                              "VALIDATION_ERROR")
        results, failed = [], {}
        now, at = _now_iso(), time.monotonic()
        for item, object_id in zip(inputs, ids, strict=True):
            obj = hs.objects[object_type].get(object_id)
            injected = hs.faults.record_errors.get(object_id)
            if obj is None or injected:
                category = injected or "OBJECT_NOT_FOUND"
                failed.setdefault(category, []).append(object_id)
                continue
            props = {k: None if v is None else str(v)
                     for k, v in ((item.get("properties") or {}).items())}
            obj["properties"].update(props)
            obj["properties"][hs._modified(object_type)] = now
            obj["updatedAt"] = now
            if "hubspot_owner_id" in props:
                hs.owner_writes.append(OwnerWriteRecord(
                    object_type, object_id, props["hubspot_owner_id"] or "", at))
            results.append(_view(hs, object_type, obj, list(props)))
    errors = [{"status": "error", "category": category,
               "message": f"{category} for {len(group)} record(s)", "context": {"ids": group}}
              for category, group in failed.items()]
    return _batch_reply(results, errors, 200)


def _owners(hs: FakeHubSpot, query: dict[str, list[str]]) -> Reply:
    try:
        limit = int(query.get("limit", ["100"])[0])
        start = int(query.get("after", ["0"])[0] or 0)
    except ValueError:
        return _error(400, "limit and after must be integers", "VALIDATION_ERROR")
    if not 1 <= limit <= 500:
        return _error(400, "limit must be between 1 and 500", "VALIDATION_ERROR")
    archived = query.get("archived", ["false"])[0] == "true"
    email = query.get("email", [""])[0].lower()
    with hs._lock:
        owners = [o for o in hs.owners if o["archived"] == archived
                  and (not email or o["email"].lower() == email)]
    page = owners[start:start + limit]
    body: dict[str, Any] = {"results": page}
    if start + limit < len(owners):
        after = str(start + limit)
        body["paging"] = {"next": {"after": after,
                                   "link": f"?limit={limit}&after={after}"}}
    return 200, {}, body


def _subscriptions(hs: FakeHubSpot, method: str, app_id: str, sub_id: str | None,
                   query: dict[str, list[str]], body: bytes) -> Reply:
    if query.get("hapikey", [""])[0] != hs.developer_api_key:
        return _error(401, "The API key provided is invalid.", "INVALID_AUTHENTICATION")
    if app_id != str(hs.app_id):
        return _error(404, f"App {app_id} not found", "OBJECT_NOT_FOUND")
    with hs._lock:
        hs.calls[f"{method} /webhooks/v3/{{appId}}/subscriptions" + ("/{id}" if sub_id else "")]\
            += 1
        if sub_id is None and method == "GET":
            return 200, {}, {"results": list(hs.subscriptions.values())}
        if sub_id is None and method == "POST":
            payload = _json(body) or {}
            event_type = payload.get("eventType")
            if not event_type:
                return _error(400, "eventType is required", "VALIDATION_ERROR")
            if event_type.endswith("propertyChange") and not payload.get("propertyName"):
                return _error(400, "propertyName is required for propertyChange",
                              "VALIDATION_ERROR")
            return 201, {}, hs.add_subscription(event_type, payload.get("propertyName"),
                                                bool(payload.get("active", False)))
        sub = hs.subscriptions.get(sub_id or "")
        if sub is None:
            return _error(404, "Subscription not found", "OBJECT_NOT_FOUND")
        if method == "GET":
            return 200, {}, sub
        if method == "PATCH":
            payload = _json(body) or {}
            if "active" in payload:
                sub["active"] = bool(payload["active"])
                sub["updatedAt"] = _now_iso()
            return 200, {}, sub
        if method == "DELETE":
            del hs.subscriptions[sub_id or ""]
            return 204, {}, None
    return _error(405, "Method not allowed", "VALIDATION_ERROR")
