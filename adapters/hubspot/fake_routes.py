r"""Endpoint behaviour of the fake HubSpot (``FakeHubSpot.handle`` dispatches here).

Each endpoint is a handler registered with :func:`route` (a path pattern and its methods);
:func:`dispatch` finds it and, for a CRM call, first applies what HubSpot applies to every
CRM call (Bearer token, scopes, the rate limit) and the injected faults. Another module adds
endpoints the same way and is imported by ``fake_server``::

    @route(r"/some/path/(?P<id>\d+)", "GET")
    def _some(hs: FakeHubSpot, request: Request) -> Reply:
        return 200, {}, {"id": request.match["id"]}

Search (``POST .../{type}/search``) answers ``total``, ``results`` and ``paging``, under
its own limit of five calls a second (429 ``policyName: SECONDLY``) on top of the portal's.
A contact create with an email a contact already has is HubSpot's 409 ``CONFLICT``
("Contact already exists. Existing ID: ...").

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
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from adapters.hubspot.fake_server import FakeHubSpot

OBJECT_TYPES = ("contacts", "companies", "deals", "tickets")
BATCH_LIMIT = 100
ASSOCIATIONS_LIMIT = 1000
Reply = tuple[int, dict[str, str], Any]


@dataclass(frozen=True)
class ValidationRule:
    """A portal's conditional required property: on ``object_type``, ``required`` must have a
    value whenever the record's properties equal ``when`` (e.g. ``closedate`` when
    ``dealstage`` is ``closedwon``), checked on updates; with no ``when``, a field the record
    creator requires, checked on creates. Enforced through the ``2026-09`` paths on."""

    object_type: str
    required: str
    when: dict[str, str]


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


#: the date versions the fake serves (``/crm/objects/2026-09/...``); legacy paths always work
VERSIONS = ("2026-03", "2026-09")
#: from this version on, a portal's validation rules apply to API writes
VALIDATED_FROM = "2026-09"
_V = r"/crm/(?:v3/{name}|{name}/(?P<version>\d{{4}}-\d{{2}}(?:-beta)?))"
_SINGULAR = {"contacts": "CONTACT", "companies": "COMPANY", "deals": "DEAL", "tickets": "TICKET"}
#: numbered object types (``0-1``) and singular names, as HubSpot accepts them in paths
TYPE_NAMES = {"0-1": "contacts", "0-2": "companies", "0-3": "deals", "0-5": "tickets",
              "contact": "contacts", "company": "companies", "deal": "deals", "ticket": "tickets"}


@dataclass(frozen=True)
class Request:
    """One call as a route handler sees it; ``match`` holds the path's named groups."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: Mapping[str, str]  # lower-case names
    body: bytes
    match: dict[str, str | None]

    @property
    def version(self) -> str:
        """``legacy`` or the date version in the path."""
        return self.match.get("version") or "legacy"


Handler = Callable[["FakeHubSpot", Request], Reply]


@dataclass(frozen=True)
class Route:
    methods: frozenset[str]
    pattern: re.Pattern[str]
    handler: Handler
    #: a CRM call: Bearer token, scopes, the rate limit and the injected faults apply
    crm: bool


ROUTES: list[Route] = []


def route(pattern: str, *methods: str, crm: bool = True) -> Callable[[Handler], Handler]:
    """Register ``handler`` for ``methods`` on paths matching ``pattern`` (anchored; a
    trailing slash is ignored, as HubSpot does). Modules with more endpoints register theirs
    the same way and are imported by :mod:`adapters.hubspot.fake_server`."""

    def register(handler: Handler) -> Handler:
        ROUTES.append(Route(frozenset(methods), re.compile(f"^{pattern}$"), handler, crm))
        return handler

    return register


def dispatch(hs: FakeHubSpot, method: str, path: str, query: dict[str, list[str]],
             headers: Mapping[str, str], body: bytes) -> Reply:
    """Answer one call: find its route, apply auth, scopes, rate limit and faults to CRM
    calls, run the handler. Anything not implemented gets HubSpot's error shape."""
    if len(path) > 1 and path.endswith("/"):
        path = path[:-1]
    allowed: set[str] = set()
    for candidate in ROUTES:
        found = candidate.pattern.match(path)
        if found is None:
            continue
        if method not in candidate.methods:
            allowed |= candidate.methods
            continue
        request = Request(method, path, query, headers, body, found.groupdict())
        if request.version not in ("legacy", *VERSIONS):
            break  # an unknown date version is no route at all
        if not candidate.crm:
            return candidate.handler(hs, request)
        return _crm_call(hs, candidate, request)
    if allowed:
        return _error(405, f"Method {method} is not allowed on {path}", "VALIDATION_ERROR")
    return _error(404, f"No route for {method} {path}", "OBJECT_NOT_FOUND")


def _crm_call(hs: FakeHubSpot, candidate: Route, request: Request) -> Reply:
    headers = request.headers
    if (denied := hs._check_bearer(headers)
            or hs._check_scopes(request.method, request.path, headers)) is not None:
        return denied
    admitted, rate_headers = hs._admit()
    if not admitted:
        return 429, rate_headers, {
            "status": "error", "message": "You have reached your ten_secondly_rolling limit.",
            "errorType": "RATE_LIMIT", "correlationId": str(uuid.uuid4()),
            "policyName": "TEN_SECONDLY_ROLLING",
        }
    if (fault := hs._apply_faults()) is not None:
        return fault[0], rate_headers, fault[2]
    status, extra, payload = candidate.handler(hs, request)
    return status, {**rate_headers, **extra}, payload


def _count(hs: FakeHubSpot, request: Request, shape: str) -> None:
    """Count the call under its path shape, e.g. ``POST /crm/objects/{version}/{type}/
    batch/update`` (dated) or ``POST /crm/v3/objects/{type}/batch/update`` (legacy)."""
    with hs._lock:
        hs.calls[f"{request.method} {shape}"] += 1


def _object_type(raw: str) -> str | None:
    name = TYPE_NAMES.get(raw.lower(), raw.lower())
    return name if name in OBJECT_TYPES else None


# token info, OAuth and webhook subscriptions (not CRM calls: their own authentication) ----

@route("/oauth/v1/token", "POST", crm=False)
def _token(hs: FakeHubSpot, request: Request) -> Reply:
    return hs.token_endpoint(request.body)


@route("/oauth/v1/access-tokens/(?P<token>[^/]+)", "GET", crm=False)
def _token_info(hs: FakeHubSpot, request: Request) -> Reply:
    return hs.token_info(request.match["token"] or "")


@route(r"/webhooks/v3/(?P<app>\d+)/subscriptions(?:/(?P<id>\d+))?", "GET", "POST", "PATCH",
       "DELETE", crm=False)
def _subscriptions_route(hs: FakeHubSpot, request: Request) -> Reply:
    return _subscriptions(hs, request.method, request.match["app"] or "", request.match["id"],
                          request.query, request.body)


# CRM ----------------------------------------------------------------------------------------

@route(_V.format(name="objects") + r"/(?P<type>[\w-]+)/(?P<rest>batch/\w+|\d+)", "GET", "POST")
def _objects(hs: FakeHubSpot, request: Request) -> Reply:
    raw, rest = request.match["type"] or "", request.match["rest"] or ""
    object_type = _object_type(raw)
    if object_type is None:
        return _error(400, f"Unable to infer object type from: {raw}", "VALIDATION_ERROR")
    prefix = "/crm/v3/objects" if request.version == "legacy" else "/crm/objects/{version}"
    _count(hs, request, f"{prefix}/{{type}}/" + (rest if rest.startswith("batch") else "{id}"))
    return _object_call(hs, request.method, object_type, rest, request.query, request.body,
                        validated=request.version != "legacy"
                        and request.version >= VALIDATED_FROM)


@route(_V.format(name="objects") + r"/(?P<type>[\w-]+)/search", "POST")
def _search_route(hs: FakeHubSpot, request: Request) -> Reply:
    raw = request.match["type"] or ""
    object_type = _object_type(raw)
    if object_type is None:
        return _error(400, f"Unable to infer object type from: {raw}", "VALIDATION_ERROR")
    prefix = "/crm/v3/objects" if request.version == "legacy" else "/crm/objects/{version}"
    _count(hs, request, f"{prefix}/{{type}}/search")
    if not hs._admit_search():  # the search endpoints' own per-second limit
        return 429, {}, {"status": "error", "message": "You have reached your secondly limit.",
                         "errorType": "RATE_LIMIT", "correlationId": str(uuid.uuid4()),
                         "policyName": "SECONDLY"}
    return _search(hs, object_type, _json(request.body))


@route(_V.format(name="owners") + r"(?:/(?P<id>\d+))?", "GET")
def _owners_route(hs: FakeHubSpot, request: Request) -> Reply:
    prefix = "/crm/v3/owners" if request.version == "legacy" else "/crm/owners/{version}"
    if request.match["id"]:
        _count(hs, request, prefix + "/{ownerId}")
        return _owner(hs, request.match["id"], request.query)
    _count(hs, request, prefix)
    return _owners(hs, request.query)


@route(r"/crm/(?:v4/associations|associations/(?P<version>\d{4}-\d{2}(?:-beta)?))"
       r"/(?P<from>[\w-]+)/(?P<to>[\w-]+)/batch/read", "POST")
def _associations_route(hs: FakeHubSpot, request: Request) -> Reply:
    prefix = "/crm/v4/associations" if request.version == "legacy" else \
        "/crm/associations/{version}"
    _count(hs, request, prefix + "/{fromObjectType}/{toObjectType}/batch/read")
    from_type = _object_type(request.match["from"] or "")
    to_type = _object_type(request.match["to"] or "")
    if from_type is None or to_type is None:
        return _error(400, "Unable to infer object type from: "
                      f"{request.match['from']}/{request.match['to']}", "VALIDATION_ERROR")
    payload = _json(request.body)
    if not isinstance(payload, dict) or not isinstance(payload.get("inputs"), list):
        return _error(400, "Invalid input JSON: expected an object with an inputs array",
                      "VALIDATION_ERROR")
    if len(payload["inputs"]) > ASSOCIATIONS_LIMIT:
        return _error(400, "The maximum number of inputs supported in a batch request is "
                      f"{ASSOCIATIONS_LIMIT}.", "VALIDATION_ERROR")
    results = []
    with hs._lock:
        for item in payload["inputs"]:
            from_id = str((item or {}).get("id"))
            targets = sorted(hs.associations.get((from_type, from_id, to_type), ()), key=int)
            if targets:
                results.append({"from": {"id": from_id}, "to": [
                    {"toObjectId": int(t), "associationTypes": [
                        {"category": "HUBSPOT_DEFINED", "typeId": 1, "label": None}]}
                    for t in targets]})
    return _batch_reply(results, [], 200)


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
                 query: dict[str, list[str]], body: bytes, *, validated: bool) -> Reply:
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
        return _batch_update(hs, object_type, inputs, validated=validated)
    if rest == "batch/create":
        missing = _missing_on_create(hs, object_type, inputs) if validated else []
        if missing:  # a create is all or nothing: the batch is refused, nothing created
            return _error(400, VALIDATION_MESSAGE, "VALIDATION_ERROR", errors=missing)
        with hs._lock:
            refused = _invalid_owner(hs, inputs) or \
                (_existing_contact(hs, inputs) if object_type == "contacts" else None)
        if refused is not None:
            return refused
        ids = [hs.create_object(object_type, dict(i.get("properties") or {})) for i in inputs]
        with hs._lock:
            results = [_view(hs, object_type, store[i], list(store[i]["properties"]))
                       for i in ids]
        return _batch_reply(results, [], 201)
    return _error(404, f"Unknown batch operation {rest}", "OBJECT_NOT_FOUND")


#: what a search returns when it names no ``properties`` (HubSpot's defaults per object)
SEARCH_DEFAULTS = {"contacts": ["createdate", "email", "firstname", "hs_object_id",
                                "lastmodifieddate", "lastname"],
                   "companies": ["createdate", "domain", "hs_lastmodifieddate",
                                 "hs_object_id", "name"],
                   "deals": ["amount", "closedate", "createdate", "dealname", "dealstage",
                             "hs_lastmodifieddate", "hs_object_id", "pipeline"],
                   "tickets": ["content", "createdate", "hs_lastmodifieddate", "hs_object_id",
                               "hs_pipeline", "hs_pipeline_stage", "hs_ticket_category",
                               "hs_ticket_priority", "subject"]}
#: the limits HubSpot documents for one search request
SEARCH_MAX_GROUPS, SEARCH_MAX_FILTERS, SEARCH_MAX_TOTAL, SEARCH_MAX_LIMIT = 5, 6, 18, 200
_SEARCH_OPERATORS = ("EQ", "NEQ", "IN", "NOT_IN", "HAS_PROPERTY", "NOT_HAS_PROPERTY")


def _matches(props: dict[str, Any], flt: dict[str, Any]) -> bool:
    """One filter on one record; string comparisons ignore case, as HubSpot's do."""
    value = props.get(str(flt.get("propertyName")))
    have = None if value in (None, "") else str(value).lower()
    operator = flt.get("operator")
    if operator == "HAS_PROPERTY":
        return have is not None
    if operator == "NOT_HAS_PROPERTY":
        return have is None
    if operator in ("IN", "NOT_IN"):
        inside = have in {str(v).lower() for v in flt.get("values") or []}
        return inside if operator == "IN" else not inside
    wanted = str(flt.get("value", "")).lower()
    return have == wanted if operator == "EQ" else have != wanted


def _search_refusal(payload: Any) -> str | None:
    """Why HubSpot would refuse this search body (400), or None."""
    if not isinstance(payload, dict):
        return "Invalid input JSON: expected an object"
    groups = payload.get("filterGroups") or []
    if not isinstance(groups, list) or len(groups) > SEARCH_MAX_GROUPS:
        return f"filterGroups must be a list of at most {SEARCH_MAX_GROUPS} groups"
    total = 0
    for group in groups:
        filters = (group or {}).get("filters") if isinstance(group, dict) else None
        if not isinstance(filters, list) or len(filters) > SEARCH_MAX_FILTERS:
            return f"each filter group needs a filters list of at most {SEARCH_MAX_FILTERS}"
        total += len(filters)
        for flt in filters:
            if not isinstance(flt, dict) or not flt.get("propertyName"):
                return "each filter needs a propertyName"
            if flt.get("operator") not in _SEARCH_OPERATORS:
                return f"Unsupported operator: {flt.get('operator')}"
    if total > SEARCH_MAX_TOTAL:
        return f"A search request may have at most {SEARCH_MAX_TOTAL} filters in total"
    limit = payload.get("limit", 10)
    if not isinstance(limit, int) or not 0 < limit <= SEARCH_MAX_LIMIT:
        return f"limit must be between 1 and {SEARCH_MAX_LIMIT}"
    return None


def _search(hs: FakeHubSpot, object_type: str, payload: Any) -> Reply:
    """``POST .../{type}/search``: filter groups OR'ed, filters within a group AND'ed;
    ``total``, ``results`` and, when more match, ``paging.next.after``."""
    refusal = _search_refusal(payload)
    if refusal is not None:
        return _error(400, refusal, "VALIDATION_ERROR")
    groups = [g["filters"] for g in payload.get("filterGroups") or []]
    properties = [str(p) for p in payload.get("properties") or []] or \
        SEARCH_DEFAULTS[object_type]
    try:
        start = int(payload.get("after") or 0)
    except (TypeError, ValueError):
        return _error(400, "after must be a number", "VALIDATION_ERROR")
    limit = payload.get("limit", 10)
    with hs._lock:
        found = [obj for _, obj in sorted(hs.objects[object_type].items(),
                                          key=lambda item: int(item[0]))
                 if not groups or any(all(_matches(obj["properties"], f) for f in group)
                                      for group in groups)]
        page = [_view(hs, object_type, obj, properties) for obj in found[start:start + limit]]
    body: dict[str, Any] = {"total": len(found), "results": page}
    if start + limit < len(found):
        body["paging"] = {"next": {"after": str(start + limit)}}
    return 200, {}, body


def _existing_contact(hs: FakeHubSpot, inputs: list[Any]) -> Reply | None:
    """A contact create whose email a contact already has: HubSpot's 409, naming it.
    Called with ``hs._lock`` held."""
    by_email = {str(o["properties"].get("email") or "").lower(): object_id
                for object_id, o in hs.objects["contacts"].items()}
    for item in inputs:
        email = str(((item or {}).get("properties") or {}).get("email") or "").lower()
        if email and email in by_email:
            return _error(409, f"Contact already exists. Existing ID: {by_email[email]}",
                          "CONFLICT")
    return None


def _invalid_owner(hs: FakeHubSpot, inputs: list[Any]) -> Reply | None:
    """A ``hubspot_owner_id`` that is no active owner: HubSpot's 400 for the whole batch.
    Called with ``hs._lock`` held."""
    owner_ids = {o["id"] for o in hs.owners if not o["archived"]}
    for item in inputs:
        owner = ((item or {}).get("properties") or {}).get("hubspot_owner_id")
        if owner not in (None, "") and str(owner) not in owner_ids:
            detail = json.dumps([{"isValid": False, "message": f"{owner} is not a valid "
                                  "owner id", "error": "INVALID_OWNER_ID",
                                  "name": "hubspot_owner_id"}])
            return _error(400, f"Property values were not valid: {detail}", "VALIDATION_ERROR")
    return None


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


def _batch_update(hs: FakeHubSpot, object_type: str, inputs: list[Any], *,
                  validated: bool) -> Reply:
    ids = [str((item or {}).get("id")) for item in inputs]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        return _error(400, f"Duplicate IDs found in batch input: {duplicates}. IDs must be "
                      "unique", "VALIDATION_ERROR")
    with hs._lock:
        if (invalid := _invalid_owner(hs, inputs)) is not None:
            return invalid
        refused = _refusals(hs, object_type, inputs, ids) if validated else {}
        if refused and hs.validation_refusal == "400":  # the whole batch, nothing written
            return _error(400, VALIDATION_MESSAGE, "VALIDATION_ERROR",
                          errors=[e for errs in refused.values() for e in errs])
        results, failed = [], {}
        validation_errors = []
        now, at = _now_iso(), time.monotonic()
        for item, object_id in zip(inputs, ids, strict=True):
            obj = hs.objects[object_type].get(object_id)
            injected = hs.faults.record_errors.get(object_id)
            if object_id in refused:
                validation_errors.append({
                    "status": "error", "category": "VALIDATION_ERROR", "id": object_id,
                    "message": VALIDATION_MESSAGE, "errors": refused[object_id],
                    "context": {"ids": [object_id]}})
                continue
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
    return _batch_reply(results, errors + validation_errors, 200)


VALIDATION_MESSAGE = "The property values provided are invalid"


def _missing_on_create(hs: FakeHubSpot, object_type: str,
                       inputs: list[Any]) -> list[dict[str, Any]]:
    """What the record creator's required fields (a rule with no condition) refuse in a
    batch create: ``MISSING_REQUIRED_PROPERTY`` per missing property."""
    with hs._lock:
        required = [r.required for r in hs.validation_rules
                    if r.object_type == object_type and not r.when]
    return [{"code": "MISSING_REQUIRED_PROPERTY",
             "message": f"A value for {prop} must be provided",
             "context": {"propertyName": [prop]}}
            for item in inputs for prop in required
            if ((item or {}).get("properties") or {}).get(prop) in (None, "")]


def _refusals(hs: FakeHubSpot, object_type: str, inputs: list[Any],
              ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    """The records a portal validation rule refuses, with the ``errors`` HubSpot names for
    each: a conditionally required property missing from the record as the write leaves it
    (``MISSING_CONDITIONAL_REQUIRED_PROPERTY``). Called with ``hs._lock`` held."""
    refused: dict[str, list[dict[str, Any]]] = {}
    rules = [r for r in hs.validation_rules if r.object_type == object_type and r.when]
    for item, object_id in zip(inputs, ids, strict=True):
        obj = hs.objects[object_type].get(object_id)
        if obj is None or not rules:
            continue
        after = {**obj["properties"], **((item or {}).get("properties") or {})}
        for rule in rules:
            if all(after.get(k) == v for k, v in rule.when.items()) and \
                    after.get(rule.required) in (None, ""):
                refused.setdefault(object_id, []).append({
                    "code": "MISSING_CONDITIONAL_REQUIRED_PROPERTY",
                    "message": f"{rule.required} is required because of a conditional "
                               f"property rule based on [{', '.join(rule.when)}]",
                    "context": {"propertyName": [rule.required]}})
    return refused


def _owner(hs: FakeHubSpot, owner_id: str, query: dict[str, list[str]]) -> Reply:
    """``GET .../owners/{ownerId}`` (``idProperty=userId`` looks the user id up instead)."""
    by_user = query.get("idProperty", ["id"])[0] == "userId"
    archived = query.get("archived", ["false"])[0] == "true"
    with hs._lock:
        for owner in hs.owners:
            key = str(owner["userId"]) if by_user else owner["id"]
            if key == owner_id and owner["archived"] == archived:
                return 200, {}, dict(owner)
    return _error(404, f"Owner {owner_id} not found", "OBJECT_NOT_FOUND")


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
