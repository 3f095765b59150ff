"""OAuth and REST parts of the fake Salesforce.

* ``POST /services/oauth2/token`` with ``grant_type=urn:ietf:params:oauth:grant-type:
  jwt-bearer``: the assertion must be RS256-signed by the connected app's key, with
  ``iss`` = consumer key, ``sub`` = the integration user, ``aud`` = the login URL and an
  ``exp`` in the future; errors use Salesforce's ``{"error", "error_description"}``.
* ``GET /services/data/vXX.X/query`` for the two SOQL shapes the connector sends.
* ``PATCH /services/data/vXX.X/composite/sobjects`` (at most 200 records, per-record
  results; ``allOrNone`` must be sent as ``false``, as the connector does; a record id
  given twice fails each copy with ``INVALID_FIELD: Duplicate Id in list``).
REST answers carry ``Sforce-Limit-Info: api-usage=used/limit``.
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
    r"^SELECT Id FROM User WHERE IsActive = true AND Email = '(?P<v>(?:[^'\\]|\\.)*)'")
_QUEUE_BY_NAME = re.compile(
    r"^SELECT Id FROM Group WHERE Type = 'Queue' AND DeveloperName = '(?P<v>(?:[^'\\]|\\.)*)'")


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
    if method == "GET" and rest == "query":
        status, extra, payload = _query(fake, (query.get("q") or [""])[0])
    elif method == "PATCH" and rest == "composite/sobjects":
        status, extra, payload = _collections_update(fake, data)
    else:
        status, extra, payload = _rest_error(404, "NOT_FOUND",
                                             "The requested resource does not exist")
    return status, {**extra, **limit}, payload


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
                            algorithms=["RS256"], audience=fake.url,
                            options={"require": ["iss", "sub", "aud", "exp"]})
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
    user, queue = _USER_BY_EMAIL.match(soql), _QUEUE_BY_NAME.match(soql)
    with fake._lock:
        if user is not None:
            found, sobject = fake.users.get(_unquote(user["v"]).lower()), "User"
        elif queue is not None:
            found, sobject = fake.queues.get(_unquote(queue["v"])), "Group"
        else:
            return _rest_error(400, "MALFORMED_QUERY", f"unsupported query: {soql[:200]}")
    records = [] if found is None else [
        {"attributes": {"type": sobject, "url": f"/services/data/v61.0/sobjects/{sobject}/"
                                                f"{found}"}, "Id": found}]
    return 200, {}, {"totalSize": len(records), "done": True, "records": records}


def _collections_update(fake: FakeSalesforce, data: Any) -> Reply:
    if not isinstance(data, dict) or not isinstance(data.get("records"), list):
        return _rest_error(400, "INVALID_FIELD", "records is required")
    if data.get("allOrNone") is not False:  # the connector always sends it, as false
        return _rest_error(400, "INVALID_FIELD", "allOrNone: expected false, got "
                                                 f"{data.get('allOrNone')!r}")
    records = data["records"]
    if len(records) > 200:
        return _rest_error(400, "EXCEEDED_ID_LIMIT", "record limit exceeded: at most 200")
    seen = Counter(str(item.get("id") or "")[:15] for item in records
                   if isinstance(item, dict))
    results = []
    with fake._lock:
        fake.owner_batches.append(len(records))
        owners = set(fake.users.values()) | set(fake.queues.values())
        for item in records:
            record_id = item.get("id")
            target = fake.records.get(record_id)
            sobject = (item.get("attributes") or {}).get("type")
            if record_id and seen[str(record_id)[:15]] > 1:
                # the same record twice in one request: Salesforce fails each copy
                results.append(_failed(record_id, "INVALID_FIELD",
                                       f"Duplicate Id in list: {record_id}", ["Id"]))
            elif target is None or target["type"] != sobject:
                results.append(_failed(record_id, "INVALID_CROSS_REFERENCE_KEY",
                                       "invalid cross reference id"))
            elif target.get("fail_with"):
                results.append(_failed(record_id, target["fail_with"], "record error"))
            elif "OwnerId" in item and item["OwnerId"] not in owners:
                results.append(_failed(record_id, "INVALID_CROSS_REFERENCE_KEY",
                                       "owner id: id value of incorrect type", ["OwnerId"]))
            else:
                target.update({k: v for k, v in item.items() if k not in ("attributes", "id")})
                results.append({"id": record_id, "success": True, "errors": []})
    return 200, {}, results


def _failed(record_id: Any, code: str, message: str, fields: list[str] | None = None
            ) -> dict[str, Any]:
    return {"id": record_id, "success": False,
            "errors": [{"statusCode": code, "message": message, "fields": fields or []}]}
