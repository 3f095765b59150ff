"""A fake HubSpot API for tests, the demo and benchmarks: a real HTTP server on 127.0.0.1.

It follows HubSpot's public API documentation for what the connector uses: CRM objects
(batch read/update/create with the 100-input limit, single GET), owners (with their
``type``, paged, one by id), associations batch read, each at the legacy path
(``/crm/v3/...``, ``/crm/v4/associations``) and at the date-versioned ones
(``/crm/objects/2026-09/...``), object types named or numbered (``0-1``); the portal's
validation rules on writes through ``2026-09`` and later (:meth:`add_validation_rule`); the
OAuth token endpoint with the ``redirect_uri`` checked against the install; the webhooks
subscriptions API; Bearer checking with HubSpot's 401 body; and a rolling 10-second rate
limit answering 429 with HubSpot's documented body and ``X-HubSpot-RateLimit-*`` headers
(``-Secondly`` and ``-Secondly-Remaining`` included). HubSpot does not document
``Retry-After`` on 429s, so it is only sent when ``send_retry_after`` is set. Anything else
is answered 404 (405 for a wrong method) in HubSpot's error shape. Faults can be injected
(see :class:`Faults`) and everything is counted (``calls``, ``owner_writes``,
``rate_limited``).

Endpoints are registered with :func:`adapters.hubspot.fake_routes.route`; a module with more
of them is imported below, next to ``fake_routes``.

    with FakeHubSpot(rate_limit=190) as hs:
        owner = hs.add_owner("ana@example.com")
        cid = hs.create_object("contacts", {"email": "lead@example.com"})
        client = HubSpotClient(StaticToken(hs.token), base_url=hs.url)
"""

from __future__ import annotations

import math
import random
import threading
import time
import uuid
from collections import Counter, deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

from adapters.hubspot.fake_http import ServedFake, ThreadedServer

# The endpoint modules: importing one registers its routes (fake_routes.route).
from adapters.hubspot.fake_routes import (
    OBJECT_TYPES,
    TYPE_NAMES,
    OwnerWriteRecord,
    Reply,
    ValidationRule,
    _error,
    _now_iso,
    dispatch,
)
from adapters.hubspot.fake_webhooks import WebhookSender, make_event  # noqa: F401 (re-export)
from adapters.hubspot.scopes import ALL_SCOPES, required_scope


@dataclass
class Faults:
    """Injected misbehaviour; change the fields while the server runs."""

    error_rate: float = 0.0  # fraction of CRM calls answered 500/502/503
    latency: float = 0.0  # seconds added to every CRM call
    stall_calls: int = 0  # the next N CRM calls sleep ``stall_seconds`` first
    stall_seconds: float = 0.0
    force_429: int = 0  # the next N CRM calls are answered 429
    #: while set to an unset Event, CRM calls wait until it is set (a HubSpot that hangs);
    #: ``FakeHubSpot.held`` is set once a call waits, ``holding`` counts those waiting
    hold: threading.Event | None = None
    record_errors: dict[str, str] = field(default_factory=dict)  # record id -> category (207)


class FakeHubSpot(ServedFake):
    """In-memory HubSpot portal served over HTTP. Thread-safe."""

    def __init__(
        self,
        *,
        token: str = "fake-access-token",
        rate_limit: int = 190,
        rate_window: float = 10.0,
        send_retry_after: bool = False,
        client_id: str = "fake-client-id",
        client_secret: str = "fake-client-secret",
        developer_api_key: str = "fake-developer-key",
        app_id: int = 1000,
        portal_id: int = 62515,
        token_ttl: int = 1800,
        seed: int = 0,
        redirect_urls: Iterable[str] = (),
        validation_refusal: str = "207",
        search_rate_limit: int = 5,
        search_rate_window: float = 1.0,
    ) -> None:
        self.token = token
        self.rate_limit, self.rate_window = rate_limit, rate_window
        #: the CRM search endpoints' own, lower limit (five requests a second per account)
        self.search_rate_limit, self.search_rate_window = search_rate_limit, search_rate_window
        self._search_window: deque[float] = deque()
        self.send_retry_after = send_retry_after
        self.client_id, self.client_secret = client_id, client_secret
        self.developer_api_key, self.app_id, self.portal_id = developer_api_key, app_id, portal_id
        self.token_ttl = token_ttl
        self.faults = Faults()
        self.calls: Counter[str] = Counter()
        self.owner_writes: list[OwnerWriteRecord] = []
        self.rate_limited = 0
        self.held = threading.Event()
        self.holding = 0
        self.objects: dict[str, dict[str, dict[str, Any]]] = {t: {} for t in OBJECT_TYPES}
        self.owners: list[dict[str, Any]] = []
        self.subscriptions: dict[str, dict[str, Any]] = {}
        #: (from type, from id, to type) -> ids of the associated records
        self.associations: dict[tuple[str, str, str], set[str]] = {}
        self.validation_rules: list[ValidationRule] = []
        #: how a batch with a refused record is answered: "207" (that record fails, the rest
        #: are written) or "400" (the whole batch, nothing written); see the README
        if validation_refusal not in ("207", "400"):
            raise ValueError("validation_refusal must be '207' or '400'")
        self.validation_refusal = validation_refusal
        #: the app's registered redirect URLs; when set, an install must use one of them
        self.redirect_urls = tuple(redirect_urls)
        self._tokens: dict[str, float] = {token: float("inf")}  # access token -> expiry
        #: scopes granted to OAuth tokens (the private-app ``token`` is not limited)
        self._token_scopes: dict[str, frozenset[str]] = {}
        self._refresh_tokens: dict[str, frozenset[str]] = {}  # refresh token -> scopes
        self._codes: dict[str, frozenset[str]] = {}  # authorization code -> scopes
        self._code_redirects: dict[str, str] = {}  # authorization code -> its redirect_uri
        self._window: deque[float] = deque()
        self._ids = 1000
        self._lock = threading.RLock()
        self._random = random.Random(seed)
        self._server = ThreadedServer(self.handle)
        from adapters.hubspot.fake_journal import FakeJournal
        from adapters.hubspot.fake_workflows import FakeWorkflows

        self.journal, self.workflows = FakeJournal(self), FakeWorkflows(self)


    # seeding and inspection ----------------------------------------------------------------
    def _next_id(self) -> str:
        with self._lock:
            self._ids += 1
            return str(self._ids)

    def add_owner(self, email: str, first_name: str = "", last_name: str = "",
                  owner_type: str = "PERSON") -> str:
        """An owner as HubSpot lists it; ``owner_type`` is ``PERSON`` (a user) or ``QUEUE``."""
        owner_id = self._next_id()
        now = _now_iso()
        user_id = int(owner_id) + 500000 if owner_type == "PERSON" else None
        with self._lock:
            self.owners.append({
                "id": owner_id, "email": email, "type": owner_type, "firstName": first_name,
                "lastName": last_name, "userId": user_id, "userIdIncludingInactive": user_id,
                "createdAt": now, "updatedAt": now, "archived": False, "teams": [],
            })
        return owner_id

    def add_validation_rule(self, object_type: str, required: str,
                            when: Mapping[str, str] | None = None) -> None:
        """A portal admin's conditional required property: ``required`` must be set on
        ``object_type`` records whose properties equal ``when`` (updates are refused while
        it is missing); with no ``when``, a field the record creator requires (creates
        without it are refused). Only writes through the ``2026-09`` paths and later are
        checked; legacy and ``2026-03`` writes are not, as HubSpot documents."""
        with self._lock:
            self.validation_rules.append(ValidationRule(self._type(object_type), required,
                                                        dict(when or {})))

    def associate(self, from_type: str, from_id: str, to_type: str, to_id: str) -> None:
        """Associate two records (both directions, as HubSpot does)."""
        a, b = self._type(from_type), self._type(to_type)
        with self._lock:
            self.associations.setdefault((a, str(from_id), b), set()).add(str(to_id))
            self.associations.setdefault((b, str(to_id), a), set()).add(str(from_id))

    def operation_calls(self, operation: str) -> int:
        """Calls of one operation whatever the API version: ``batch/read``,
        ``batch/update``, ``owners`` (the list) - legacy and date-versioned paths summed."""
        if operation == "owners":
            keys = ("GET /crm/v3/owners", "GET /crm/owners/{version}")
        else:
            keys = (f"POST /crm/v3/objects/{{type}}/{operation}",
                    f"POST /crm/objects/{{version}}/{{type}}/{operation}")
        with self._lock:
            return sum(self.calls[key] for key in keys)

    @staticmethod
    def _type(object_type: str) -> str:
        name = TYPE_NAMES.get(object_type.lower(), object_type.lower())
        if name not in OBJECT_TYPES:
            raise ValueError(f"unknown object type {object_type!r}")
        return name

    def archive_owner(self, owner_id: str) -> None:
        """The user was removed from the portal: the owner id stops being valid."""
        with self._lock:
            for owner in self.owners:
                if owner["id"] == str(owner_id):
                    owner["archived"] = True

    def create_object(self, object_type: str, properties: Mapping[str, Any]) -> str:
        object_type = self._type(object_type)
        object_id = self._next_id()
        now = _now_iso()
        props = {k: None if v is None else str(v) for k, v in properties.items()}
        props.update({"hs_object_id": object_id, "createdate": now, self._modified(object_type):
                      now})
        with self._lock:
            self.objects[object_type][object_id] = {
                "id": object_id, "properties": props, "createdAt": now, "updatedAt": now,
                "archived": False,
            }
        return object_id

    def get_object(self, object_type: str, object_id: str) -> dict[str, Any] | None:
        with self._lock:
            return self.objects[self._type(object_type)].get(str(object_id))

    def owner_of(self, object_type: str, object_id: str) -> str | None:
        obj = self.get_object(object_type, object_id)
        return None if obj is None else obj["properties"].get("hubspot_owner_id")

    def issue_auth_code(self, scopes: Iterable[str] = ALL_SCOPES,
                        redirect_uri: str | None = None) -> str:
        """A one-time authorization code, as HubSpot appends to the redirect URI; the
        tokens it is exchanged for carry ``scopes`` (by default every CRM scope). With a
        ``redirect_uri``, the exchange must send the same one."""
        code = f"code-{uuid.uuid4()}"
        with self._lock:
            self._codes[code] = frozenset(scopes)
            if redirect_uri is not None:
                self._code_redirects[code] = redirect_uri
        return code

    def authorize(self, install_url: str) -> str:
        """What a user approving the install does: a code granting the ``scope`` (and
        ``optional_scope``) the install URL asks for, no more, tied to its ``redirect_uri``.
        HubSpot refuses an install whose ``redirect_uri`` is not one of the app's redirect
        URLs (exactly); so does this, with HubSpot's message, as a ValueError."""
        query = parse_qs(urlsplit(install_url).query)
        redirect = (query.get("redirect_uri") or [""])[0]
        if self.redirect_urls and redirect not in self.redirect_urls:
            raise ValueError(f"Authorization failed as the redirect URL '{redirect}' doesn't "
                             "match the app's registered redirect URL")
        scopes = " ".join(query.get("scope", []) + query.get("optional_scope", [])).split()
        return self.issue_auth_code(scopes, redirect_uri=redirect)

    def scopes_of(self, access_token: str) -> frozenset[str] | None:
        """The scopes of an OAuth token; None for the private-app token (not limited)."""
        with self._lock:
            return self._token_scopes.get(access_token)

    def add_subscription(self, event_type: str, property_name: str | None = None,
                         active: bool = True) -> dict[str, Any]:
        """Create a webhook subscription directly (also what POST .../subscriptions does)."""
        sub_id = self._next_id()
        now = _now_iso()
        sub = {"id": sub_id, "eventType": event_type, "active": active, "createdAt": now,
               "updatedAt": now}
        if property_name:
            sub["propertyName"] = property_name
        with self._lock:
            self.subscriptions[sub_id] = sub
        return sub

    def expire_token(self, access_token: str) -> None:
        with self._lock:
            self._tokens[access_token] = 0.0

    @staticmethod
    def _modified(object_type: str) -> str:
        return "lastmodifieddate" if object_type == "contacts" else "hs_lastmodifieddate"

    # request handling ----------------------------------------------------------------------
    def handle(self, method: str, path: str, query: dict[str, list[str]],
               headers: Mapping[str, str], body: bytes) -> Reply:
        lower = {k.lower(): v for k, v in headers.items()}
        reply = self.journal.route(method, path, query, lower, body) or \
            self.workflows.route(method, path, lower, body)
        return reply or dispatch(self, method, path, query, lower, body)

    def _rate_headers(self, remaining: int) -> dict[str, str]:
        """HubSpot's rate-limit headers: the rolling window's, and the per-second ones
        (the window's limit spread over its seconds, calls of the last second counted).
        Called with ``self._lock`` held."""
        secondly = max(1, math.ceil(self.rate_limit / self.rate_window))
        now = time.monotonic()
        last_second = sum(1 for t in self._window if now - t < 1.0)
        return {"X-HubSpot-RateLimit-Max": str(self.rate_limit),
                "X-HubSpot-RateLimit-Remaining": str(max(remaining, 0)),
                "X-HubSpot-RateLimit-Interval-Milliseconds": str(int(self.rate_window * 1000)),
                "X-HubSpot-RateLimit-Secondly": str(secondly),
                "X-HubSpot-RateLimit-Secondly-Remaining": str(max(secondly - last_second, 0))}

    def _admit(self) -> tuple[bool, dict[str, str]]:
        """Count one CRM call against the rolling window; False when it is over the limit."""
        with self._lock:
            now = time.monotonic()
            while self._window and now - self._window[0] >= self.rate_window:
                self._window.popleft()
            forced = self.faults.force_429 > 0
            if forced:
                self.faults.force_429 -= 1
            if forced or len(self._window) >= self.rate_limit:
                self.rate_limited += 1
                headers = self._rate_headers(0)
                if self.send_retry_after:
                    wait = self.rate_window - (now - self._window[0]) if self._window else 1.0
                    headers["Retry-After"] = str(max(1, round(wait)))
                return False, headers
            self._window.append(now)
            return True, self._rate_headers(self.rate_limit - len(self._window))

    def _admit_search(self) -> bool:
        """Count one search call against the search endpoints' own window."""
        with self._lock:
            now = time.monotonic()
            while self._search_window and \
                    now - self._search_window[0] >= self.search_rate_window:
                self._search_window.popleft()
            if len(self._search_window) >= self.search_rate_limit:
                self.rate_limited += 1
                return False
            self._search_window.append(now)
            return True

    def _check_bearer(self, headers: Mapping[str, str]) -> Reply | None:
        auth = headers.get("authorization", "")
        token = auth[7:] if auth.lower().startswith("bearer ") else ""
        with self._lock:
            expiry = self._tokens.get(token)
        if expiry is None:
            return _error(401, "Authentication credentials not found. This API supports OAuth "
                          "2.0 authentication and you can find more details at "
                          "https://developers.hubspot.com/docs/methods/auth/oauth-overview",
                          "INVALID_AUTHENTICATION")
        if expiry <= time.time():
            return _error(401, "The OAuth token used to make this call expired.",
                          "EXPIRED_AUTHENTICATION")
        return None

    def _check_scopes(self, method: str, path: str, headers: Mapping[str, str]) -> Reply | None:
        """403 MISSING_SCOPES, as HubSpot answers, when an OAuth token lacks the scope."""
        auth = headers.get("authorization", "")
        granted = self.scopes_of(auth[7:] if auth.lower().startswith("bearer ") else "")
        needed = required_scope(method, path)
        if granted is None or needed is None or needed in granted:
            return None
        return _error(403, "This app hasn't been granted all required scopes to make this "
                      "call. Read more about required scopes here: "
                      "https://developers.hubspot.com/scopes.", "MISSING_SCOPES",
                      errors=[{"message": "One or more of the following scopes are required.",
                               "context": {"requiredGranularScopes": [needed]}}],
                      links={"scopes": "https://developers.hubspot.com/scopes"})

    def _apply_faults(self) -> Reply | None:
        faults = self.faults
        if faults.latency:
            time.sleep(faults.latency)
        hold = faults.hold
        if hold is not None and not hold.is_set():
            with self._lock:
                self.holding += 1
            self.held.set()
            try:
                hold.wait(60)  # bounded: a forgotten hold must not hang a test run
            finally:
                with self._lock:
                    self.holding -= 1
        with self._lock:
            stall = faults.stall_calls > 0
            if stall:
                faults.stall_calls -= 1
            fail = faults.error_rate > 0 and self._random.random() < faults.error_rate
            status = self._random.choice((500, 502, 503))
        if stall:
            time.sleep(faults.stall_seconds)
        if fail:
            return _error(status, "internal error", "INTERNAL_ERROR")
        return None

    # OAuth ----------------------------------------------------------------------------------
    def token_endpoint(self, body: bytes) -> Reply:
        form = {k: v[0] for k, v in parse_qs(body.decode("utf-8")).items()}
        if form.get("client_id") != self.client_id or form.get("client_secret") != \
                self.client_secret:
            return 400, {}, {"status": "BAD_CLIENT_ID", "message": "missing or unknown client id",
                             "correlationId": str(uuid.uuid4())}
        grant = form.get("grant_type")
        with self._lock:
            if grant == "authorization_code":
                if form.get("code") not in self._codes:
                    return 400, {}, {"status": "BAD_AUTH_CODE",
                                     "message": "missing or unknown auth code",
                                     "correlationId": str(uuid.uuid4())}
                expected = self._code_redirects.get(form["code"])
                if expected is not None and form.get("redirect_uri") != expected:
                    return 400, {}, {"status": "BAD_REDIRECT_URI",
                                     "message": "redirect_uri does not match the one the "
                                                "authorization code was issued for",
                                     "correlationId": str(uuid.uuid4())}
                self._code_redirects.pop(form["code"], None)
                scopes = self._codes.pop(form["code"])
                refresh = f"refresh-{uuid.uuid4()}"
                self._refresh_tokens[refresh] = scopes
            elif grant == "refresh_token":
                refresh = form.get("refresh_token", "")
                if refresh not in self._refresh_tokens:
                    return 400, {}, {"status": "BAD_REFRESH_TOKEN",
                                     "message": "missing or unknown refresh token",
                                     "correlationId": str(uuid.uuid4())}
                scopes = self._refresh_tokens[refresh]
            else:
                return 400, {}, {"status": "BAD_GRANT_TYPE", "message": "unknown grant_type",
                                 "correlationId": str(uuid.uuid4())}
            access = f"access-{uuid.uuid4()}"
            self._tokens[access] = time.time() + self.token_ttl
            self._token_scopes[access] = scopes
        self.calls["POST /oauth/v1/token"] += 1
        return 200, {}, {"token_type": "bearer", "refresh_token": refresh,
                         "access_token": access, "expires_in": self.token_ttl}


    def token_info(self, access_token: str) -> Reply:
        """``GET /oauth/v1/access-tokens/{token}``: the portal and app of a token."""
        with self._lock:
            expiry = self._tokens.get(access_token)
        if expiry is None or expiry <= time.time():
            return 404, {}, {"status": "error", "message": "access token not found",
                             "correlationId": str(uuid.uuid4()), "category": "OBJECT_NOT_FOUND"}
        self.calls["GET /oauth/v1/access-tokens/{token}"] += 1
        return 200, {}, {"token": access_token, "user": "installer@example.com",
                         "hub_domain": f"portal-{self.portal_id}.example.com",
                         "scopes": sorted(self.scopes_of(access_token) or ALL_SCOPES),
                         "hub_id": self.portal_id, "app_id": self.app_id,
                         "expires_in": int(expiry - time.time()) if expiry != float("inf")
                         else self.token_ttl,
                         "user_id": 1, "token_type": "access"}
