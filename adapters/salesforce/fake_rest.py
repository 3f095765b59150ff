"""OAuth and REST parts of the fake Salesforce.

* ``POST /services/oauth2/token`` with ``grant_type=urn:ietf:params:oauth:grant-type:
  jwt-bearer``: the assertion must be RS256-signed by the connected app's key, with
  ``iss`` = consumer key, ``sub`` = the integration user, ``aud`` =
  ``https://login.salesforce.com`` (``test.salesforce.com`` for a sandbox; not the URL the
  assertion is posted to; ``invalid_grant``/``audience is invalid`` otherwise) and an
  ``exp`` in the future; errors use Salesforce's ``{"error", "error_description"}``.
* ``GET /services/data/vXX.X/query`` for exactly the SOQL statements the connector sends
  (a User by email, a Queue by name, an unconverted Lead by email, and ``SELECT Id FROM
  Organization``, the org of a session, which the Outbound Message session check asks);
  anything else is ``400 MALFORMED_QUERY``. Email comparisons ignore case, as SOQL's do.
  A token or session the org did not issue, or that expired, gets ``401 [{"message":
  "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]``.
* ``POST /services/data/vXX.X/composite/sobjects`` creates up to 200 records (one result
  per record, in order; ``allOrNone`` as for updates). A Lead needs ``LastName`` and
  ``Company`` (``REQUIRED_FIELD_MISSING`` naming them), an ``id`` is refused
  (``INVALID_FIELD``), an unknown ``OwnerId`` is ``INVALID_CROSS_REFERENCE_KEY``; an active
  assignment rule reassigns the new record unless ``Sforce-Auto-Assign: FALSE``.
* ``PATCH /services/data/vXX.X/composite/sobjects`` (at most 200 records, one result per
  record, in order). ``allOrNone`` omitted means false; with true, one failure rolls
  every record back. A failed record's result has no ``id``, as Salesforce answers; a
  record id given twice fails each copy with ``INVALID_FIELD: Duplicate Id in list``.
* ``GET``/``PATCH /sobjects/{type}/{id}``, ``GET /sobjects`` (describe global) and ``GET
  /sobjects/{type}/describe``.
* Active Lead and Case assignment rules (``FakeSalesforce.assignment_rules``): a write
  without ``Sforce-Auto-Assign: FALSE`` is reassigned to the rule's owner in the same
  call, as in an org with an active rule.
Anything else answers in Salesforce's error shape ``[{"message", "errorCode"}]`` (404
``NOT_FOUND``, 405 ``METHOD_NOT_ALLOWED``). REST answers carry ``Sforce-Limit-Info:
api-usage=used/limit``.
"""

from __future__ import annotations

import json
import re
import time
from collections import Counter
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

import jwt
from cryptography.x509 import load_pem_x509_certificate

if TYPE_CHECKING:
    from .fake_server import FakeSalesforce, Reply

_DATA = re.compile(r"^/services/data/v\d+\.\d+/(?P<rest>.*?)/?$")
_USER_BY_EMAIL = re.compile(
    r"SELECT Id FROM User WHERE IsActive = true AND Email = '(?P<v>(?:[^'\\]|\\.)*)' "
    r"ORDER BY CreatedDate LIMIT 1")
_QUEUE_BY_NAME = re.compile(
    r"SELECT Id FROM Group WHERE Type = 'Queue' AND DeveloperName = "
    r"'(?P<v>(?:[^'\\]|\\.)*)' LIMIT 1")
_LEAD_BY_EMAIL = re.compile(
    r"SELECT Id, OwnerId FROM Lead WHERE Email = '(?P<v>(?:[^'\\]|\\.)*)' "
    r"AND IsConverted = false ORDER BY CreatedDate LIMIT 1")
#: the fields a create must give, per object (what the org's page layouts cannot waive)
REQUIRED = {"Lead": ("LastName", "Company"), "Contact": ("LastName",), "Case": ()}
_RECORD = re.compile(r"^sobjects/(?P<type>[A-Za-z_]+)/(?P<id>[A-Za-z0-9]{15,18})$")
_DESCRIBE = re.compile(r"^sobjects/(?P<type>[A-Za-z_]+)/describe$")
ORGANIZATION_QUERY = "SELECT Id FROM Organization"
KEY_PREFIXES = {"Lead": "00Q", "Contact": "003", "Case": "500", "User": "005",
                "Group": "00G"}
#: the fields describe lists per object (what the connector and its mappings read)
FIELDS = {
    "Lead": ("Id", "OwnerId", "FirstName", "LastName", "Email", "Company", "Country",
             "LeadSource", "Status"),
    "Contact": ("Id", "OwnerId", "FirstName", "LastName", "Email", "AccountId"),
    "Case": ("Id", "OwnerId", "Subject", "Origin", "Priority", "Status", "ContactId"),
    "User": ("Id", "Email", "IsActive", "Name"),
    "Group": ("Id", "Type", "DeveloperName", "Name"),
}
NOT_FOUND = (404, "NOT_FOUND", "The requested resource does not exist")


def _unquote(value: str) -> str:
    return re.sub(r"\\(.)", r"\1", value)


def _rest_error(status: int, code: str, message: str) -> Reply:
    return status, {}, [{"message": message, "errorCode": code}]


def handle(fake: FakeSalesforce, method: str, path: str, query: dict[str, list[str]],
           headers: Mapping[str, str], body: bytes) -> Reply:
    from .fake_server import Injection, RecordedRequest

    if method == "POST" and path == "/services/oauth2/token":
        fake.record(RecordedRequest(method, path, dict(headers), "form", None))
        return token_endpoint(fake, body)
    match = _DATA.match(path)
    if match is None:
        return _rest_error(404, "NOT_FOUND", "The requested resource does not exist")
    rest = match["rest"]
    data: Any = None
    if body:
        try:
            data = json.loads(body)
        except ValueError:
            return _rest_error(400, "JSON_PARSER_ERROR", "Invalid JSON")
    fake.record(RecordedRequest(method, path, dict(headers), "json", data))
    if not fake.token_valid(headers):
        return _rest_error(401, "INVALID_SESSION_ID", "Session expired or invalid")
    injected = fake.take_injection("query" if rest == "query" else "composite")
    with fake._lock:
        if injected is None and fake.api_used >= fake.api_limit:
            injected = Injection("limit", "REQUEST_LIMIT_EXCEEDED", 0, 403)
        fake.api_used += 1
        limit = {"Sforce-Limit-Info": f"api-usage={fake.api_used}/{fake.api_limit}"}
    if injected is not None:
        code = str(injected.code)
        if code == "REQUEST_LIMIT_EXCEEDED":
            status, extra, payload = _rest_error(403, code, "TotalRequests Limit exceeded.")
        else:
            status, extra, payload = _rest_error(injected.status or 500, code, code)
        return status, {**extra, **limit}, payload
    auto_assign = headers.get("sforce-auto-assign", "TRUE").strip().upper() != "FALSE"
    status, extra, payload = _resource(fake, method, rest, query, data, auto_assign)
    return status, {**extra, **limit}, payload


def _resource(fake: FakeSalesforce, method: str, rest: str, query: dict[str, list[str]],
              data: Any, auto_assign: bool) -> Reply:
    """The REST resource at ``rest`` (the path after ``/services/data/vXX.X/``)."""
    record, describe = _RECORD.match(rest), _DESCRIBE.match(rest)
    allowed = ("GET",)
    if rest == "query":
        if method == "GET":
            return _query(fake, (query.get("q") or [""])[0])
    elif rest == "composite/sobjects":
        allowed = ("PATCH", "POST")
        if method == "PATCH":
            return _collections_update(fake, data, auto_assign)
        if method == "POST":
            return _collections_create(fake, data, auto_assign)
    elif rest == "sobjects":
        if method == "GET":
            return _describe_global()
    elif describe is not None:
        if describe["type"] not in FIELDS:
            return _rest_error(404, "NOT_FOUND", f"The requested resource does not exist: "
                                                 f"sObject type '{describe['type']}'")
        if method == "GET":
            return _describe(describe["type"])
    elif record is not None:
        allowed = ("GET", "PATCH")
        if method == "GET":
            return _get_record(fake, record["type"], record["id"], query)
        if method == "PATCH":
            return _patch_record(fake, record["type"], record["id"], data, auto_assign)
    else:
        return _rest_error(*NOT_FOUND)
    return _rest_error(405, "METHOD_NOT_ALLOWED", f"HTTP Method '{method}' not allowed. "
                                                  f"Allowed are {','.join(allowed)}")


def _describe_global() -> Reply:
    base = "/services/data/v61.0/sobjects"
    return 200, {}, {"encoding": "UTF-8", "maxBatchSize": 200, "sobjects": [
        {"name": name, "label": name, "keyPrefix": KEY_PREFIXES[name], "queryable": True,
         "updateable": name in ("Lead", "Contact", "Case"), "custom": False,
         "urls": {"sobject": f"{base}/{name}", "describe": f"{base}/{name}/describe",
                  "rowTemplate": f"{base}/{name}/{{ID}}"}} for name in FIELDS]}


def _describe(sobject: str) -> Reply:
    def field(name: str) -> dict[str, Any]:
        kind = "id" if name == "Id" else "reference" if name.endswith("Id") else \
            "boolean" if name.startswith("Is") else "string"
        described: dict[str, Any] = {"name": name, "label": name, "type": kind,
                                     "updateable": name != "Id", "nillable": name != "Id"}
        if name == "OwnerId":
            described["referenceTo"] = ["Group", "User"]
        return described

    return 200, {}, {"name": sobject, "label": sobject, "keyPrefix": KEY_PREFIXES[sobject],
                     "queryable": True, "updateable": sobject in ("Lead", "Contact", "Case"),
                     "fields": [field(name) for name in FIELDS[sobject]]}


def _find(fake: FakeSalesforce, sobject: str, record_id: str) -> dict[str, Any] | None:
    target = fake.records.get(record_id[:15])
    return target if target is not None and target["type"] == sobject else None


def _get_record(fake: FakeSalesforce, sobject: str, record_id: str,
                query: dict[str, list[str]]) -> Reply:
    with fake._lock:
        target = _find(fake, sobject, record_id)
        if target is None:
            return _rest_error(*NOT_FOUND)
        wanted = [f.strip() for f in (query.get("fields") or [""])[0].split(",") if f.strip()]
        fields = {k: v for k, v in target.items() if k not in ("type", "fail_with")}
        if wanted:
            unknown = [f for f in wanted if f not in fields and f not in FIELDS.get(sobject, ())]
            if unknown:
                return _rest_error(400, "INVALID_FIELD", f"No such column '{unknown[0]}' on "
                                                         f"entity '{sobject}'")
            fields = {"Id": target["Id"], **{f: fields.get(f) for f in wanted}}
    return 200, {}, {"attributes": {"type": sobject,
                                    "url": f"/services/data/v61.0/sobjects/{sobject}/"
                                           f"{target['Id']}"}, **fields}


def _patch_record(fake: FakeSalesforce, sobject: str, record_id: str, data: Any,
                  auto_assign: bool) -> Reply:
    if not isinstance(data, dict):
        return _rest_error(400, "JSON_PARSER_ERROR", "The request body must be a JSON object")
    with fake._lock:
        target = _find(fake, sobject, record_id)
        if target is None:
            return _rest_error(*NOT_FOUND)
        owners = set(fake.users.values()) | set(fake.queues.values())
        if "OwnerId" in data and data["OwnerId"] not in owners:
            return _rest_error(400, "INVALID_CROSS_REFERENCE_KEY",
                               "owner id: id value of incorrect type")
        target.update({k: v for k, v in data.items() if k not in ("attributes", "Id")})
        _assignment_rule(fake, target, auto_assign)
    return 204, {}, None


def _assignment_rule(fake: FakeSalesforce, target: dict[str, Any], auto_assign: bool) -> None:
    """An active assignment rule runs on the write unless it sent Sforce-Auto-Assign:
    FALSE, and reassigns the record (caller holds the lock)."""
    owner = fake.assignment_rules.get(target["type"])
    if auto_assign and owner and target.get("OwnerId") != owner:
        target["OwnerId"] = owner
        fake.reassigned.append(target["Id"])


def token_endpoint(fake: FakeSalesforce, body: bytes) -> Reply:
    form = {k: v[0] for k, v in parse_qs(body.decode("utf-8")).items()}
    if form.get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer":
        return 400, {}, {"error": "unsupported_grant_type",
                         "error_description": "grant type not supported"}
    if fake.take_injection("token") is not None:
        return 503, {}, {"error": "server_unavailable", "error_description": "try later"}
    certificate = load_pem_x509_certificate(fake.certificate_pem.encode())
    try:
        claims = jwt.decode(form.get("assertion", ""), certificate.public_key(),
                            algorithms=["RS256"], audience=list(fake.audiences),
                            options={"require": ["iss", "sub", "aud", "exp"]})
    except jwt.InvalidAudienceError:
        return 400, {}, {"error": "invalid_grant", "error_description": "audience is invalid"}
    except jwt.ExpiredSignatureError:
        return 400, {}, {"error": "invalid_grant", "error_description": "expired assertion"}
    except jwt.InvalidTokenError:
        return 400, {}, {"error": "invalid_grant", "error_description": "invalid assertion"}
    if claims["iss"] != fake.client_id:
        return 400, {}, {"error": "invalid_client_id",
                         "error_description": "client identifier invalid"}
    if claims["sub"] != fake.username:
        return 400, {}, {"error": "invalid_grant",
                         "error_description": "user hasn't approved this consumer"}
    token = fake.issue_token()
    return 200, {}, {"access_token": token, "scope": "api interaction_api",
                     "instance_url": fake.url, "id": f"{fake.url}/id/{fake.org_id}/005",
                     "token_type": "Bearer", "issued_at": str(int(time.time() * 1000))}


def _query(fake: FakeSalesforce, soql: str) -> Reply:
    user, queue = _USER_BY_EMAIL.fullmatch(soql), _QUEUE_BY_NAME.fullmatch(soql)
    lead = _LEAD_BY_EMAIL.fullmatch(soql)
    if lead is not None:
        email = _unquote(lead["v"]).lower()
        with fake._lock:  # records are kept in creation order
            found_lead = next((r for r in fake.records.values() if r["type"] == "Lead"
                               and str(r.get("Email") or "").lower() == email
                               and not r.get("IsConverted")), None)
        records = [] if found_lead is None else [
            {"attributes": {"type": "Lead", "url": "/services/data/v61.0/sobjects/Lead/"
                                                   f"{found_lead['Id']}"},
             "Id": found_lead["Id"], "OwnerId": found_lead.get("OwnerId")}]
        return 200, {}, {"totalSize": len(records), "done": True, "records": records}
    with fake._lock:
        if soql.strip() == ORGANIZATION_QUERY:
            found, sobject = fake.org_id_18, "Organization"
        elif user is not None:
            found, sobject = fake.users.get(_unquote(user["v"]).lower()), "User"
        elif queue is not None:
            found, sobject = fake.queues.get(_unquote(queue["v"])), "Group"
        else:
            # the fake parses only the statements the connector sends
            return _rest_error(400, "MALFORMED_QUERY", f"unexpected token: {soql[:200]!r}")
    records = [] if found is None else [
        {"attributes": {"type": sobject, "url": f"/services/data/v61.0/sobjects/{sobject}/"
                                                f"{found}"}, "Id": found}]
    return 200, {}, {"totalSize": len(records), "done": True, "records": records}


def _collection(data: Any) -> Reply | tuple[list[Any], bool]:
    """An sObject Collections body checked: ``(records, allOrNone)``, or the refusal."""
    if not isinstance(data, dict) or not isinstance(data.get("records"), list):
        return _rest_error(400, "INVALID_FIELD", "records is required")
    all_or_none = data.get("allOrNone", False)
    if not isinstance(all_or_none, bool):
        return _rest_error(400, "JSON_PARSER_ERROR", "Cannot deserialize instance of "
                                                     "boolean from allOrNone")
    if len(data["records"]) > 200:
        return _rest_error(400, "EXCEEDED_ID_LIMIT", "record limit exceeded: at most 200")
    return data["records"], all_or_none


def _rolled_back(results: list[dict[str, Any]]) -> Reply:
    """``allOrNone`` with a failed record: the records that would have succeeded fail too."""
    return 200, {}, [
        r if not r["success"] else _failed(
            "ALL_OR_NONE_OPERATION_ROLLED_BACK", "Record rolled back because not all "
            "records were valid and the request was using AllOrNone header")
        for r in results]


def _collections_update(fake: FakeSalesforce, data: Any, auto_assign: bool = True) -> Reply:
    checked = _collection(data)
    if not isinstance(checked[0], list):
        return checked  # type: ignore[return-value]
    records, all_or_none = checked
    seen = Counter(str(item.get("id") or "")[:15] for item in records
                   if isinstance(item, dict))
    results: list[dict[str, Any]] = []
    updates: list[tuple[dict[str, Any], dict[str, Any]]] = []
    with fake._lock:
        fake.owner_batches.append(len(records))
        owners = set(fake.users.values()) | set(fake.queues.values())
        for item in records:
            record_id = str(item.get("id") or "")
            sobject = (item.get("attributes") or {}).get("type")
            target = _find(fake, sobject, record_id) if record_id and sobject else None
            if record_id and seen[record_id[:15]] > 1:
                # the same record twice in one request: Salesforce fails each copy
                results.append(_failed("INVALID_FIELD", f"Duplicate Id in list: {record_id}",
                                       ["Id"]))
            elif target is None:
                results.append(_failed("INVALID_CROSS_REFERENCE_KEY",
                                       "invalid cross reference id"))
            elif target.get("fail_with"):
                results.append(_failed(target["fail_with"], "record error"))
            elif "OwnerId" in item and item["OwnerId"] not in owners:
                results.append(_failed("INVALID_CROSS_REFERENCE_KEY",
                                       "owner id: id value of incorrect type", ["OwnerId"]))
            else:
                results.append({"id": target["Id"], "success": True, "errors": []})
                updates.append((target, item))
        if all_or_none and len(updates) < len(records):
            return _rolled_back(results)
        for target, item in updates:
            target.update({k: v for k, v in item.items() if k not in ("attributes", "id")})
            _assignment_rule(fake, target, auto_assign)
    return 200, {}, results


def _collections_create(fake: FakeSalesforce, data: Any, auto_assign: bool = True) -> Reply:
    checked = _collection(data)
    if not isinstance(checked[0], list):
        return checked  # type: ignore[return-value]
    records, all_or_none = checked
    results: list[dict[str, Any]] = []
    valid: list[tuple[str, dict[str, Any]]] = []
    with fake._lock:
        owners = set(fake.users.values()) | set(fake.queues.values())
        for item in records:
            item = item if isinstance(item, dict) else {}
            sobject = (item.get("attributes") or {}).get("type")
            missing = [f for f in REQUIRED.get(sobject or "", ())
                       if str(item.get(f) or "").strip() == ""]
            if sobject not in REQUIRED:
                results.append(_failed("INVALID_TYPE", f"sObject type '{sobject}' is not "
                                                       "supported"))
            elif "id" in item or "Id" in item:
                results.append(_failed("INVALID_FIELD", "cannot specify Id in an insert call",
                                       ["Id"]))
            elif missing:
                results.append(_failed("REQUIRED_FIELD_MISSING", "Required fields are "
                                       f"missing: [{', '.join(missing)}]", missing))
            elif "OwnerId" in item and item["OwnerId"] not in owners:
                results.append(_failed("INVALID_CROSS_REFERENCE_KEY",
                                       "owner id: id value of incorrect type", ["OwnerId"]))
            else:
                results.append({"id": None, "success": True, "errors": []})
                valid.append((sobject, item))
        if all_or_none and len(valid) < len(records):
            return _rolled_back(results)
        made = iter(valid)
        for result in results:
            if result["success"]:
                sobject, item = next(made)
                record_id = fake.add_record(sobject, {
                    k: v for k, v in item.items() if k != "attributes"})
                _assignment_rule(fake, fake.records[record_id], auto_assign)
                result["id"] = record_id
    return 200, {}, results


def _failed(code: str, message: str, fields: list[str] | None = None) -> dict[str, Any]:
    """A failed record of sObject Collections: Salesforce gives no ``id`` for it."""
    return {"success": False,
            "errors": [{"statusCode": code, "message": message, "fields": fields or []}]}
