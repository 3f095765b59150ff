"""A fake Salesforce org for tests, the demo and benchmarks: real HTTP on 127.0.0.1.

One server plays three parts, each following Salesforce's public documentation for what
the connector uses:

* the OAuth 2.0 JWT bearer token endpoint, verifying the RS256 assertion against the
  connected app's certificate, and its ``aud`` as Salesforce does (``fake_rest``);
* the REST API: the SOQL queries the connector sends (MALFORMED_QUERY for any other),
  sObject Collections ``PATCH`` (``allOrNone`` omitted or true), single-record GET and
  PATCH, describe (global and per object), the org's active Lead and Case assignment
  rules (applied unless ``Sforce-Auto-Assign: FALSE``), ``Sforce-Limit-Info`` and ``403
  REQUEST_LIMIT_EXCEEDED`` (``fake_rest``);
* the Interaction Service: ``POST``/``DELETE v1/route`` in both encodings, ``POST
  v1/agentWork`` and ``POST v1/routingResult``, every required header checked, answering
  with the OpenAPI's response schemas and error codes (``fake_interaction``). Like
  Salesforce, it does not deduplicate by RequestId: a repeated ``POST v1/route`` opens
  another routing (see :attr:`FakeSalesforce.routings`).

Errors can be injected by code (:meth:`FakeSalesforce.inject`), tokens expired
(:meth:`expire_tokens`), and every request is recorded in :attr:`requests`. A session for
an Outbound Message with "Send Session ID" comes from :meth:`open_session`; the REST API
accepts it as Salesforce does, and ``SELECT Id FROM Organization`` names its org.

    keys = generate_key_pair()
    with FakeSalesforce(certificate_pem=keys.certificate_pem) as sf:
        ana = sf.add_user("ana@example.com")
        queue = sf.add_queue("Support")
"""

from __future__ import annotations

import itertools
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from adapters.hubspot.fake_http import ServedFake, ThreadedServer

from . import fake_interaction, fake_rest

Reply = tuple[int, dict[str, str], Any]


@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    content_type: str
    body: Any


@dataclass
class Injection:
    #: "route" | "agentWork" | "routingResult" | "delete-route" | "query" | "composite" |
    #: "token"
    operation: str
    code: int | str
    times: int
    status: int | None = None


@dataclass
class Psr:
    conversation_identifier: str
    psr_id: str
    work_item_id: str
    routing_correlation_id: str
    routing_type: str
    routing_info: dict[str, Any] | None
    created_at: float = field(default_factory=time.time)


def _eighteen(id15: str) -> str:
    """Salesforce's 18-character form of a 15-character id (the documented suffix: one
    character per 5-character chunk, encoding which of its characters are upper case)."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
    suffix = ""
    for chunk in range(3):
        bits = sum(1 << i for i, c in enumerate(id15[chunk * 5:chunk * 5 + 5]) if c.isupper())
        suffix += alphabet[bits]
    return id15 + suffix


#: the audience a production org accepts in a JWT bearer assertion
PRODUCTION_AUDIENCE = "https://login.salesforce.com"


class FakeSalesforce(ServedFake):
    """In-memory org served over HTTP. Thread-safe."""

    def __init__(
        self,
        *,
        certificate_pem: str,
        client_id: str = "fake-connected-app",
        username: str = "integration@example.com",
        org_id: str = "00D000000000001",
        authorization_context: str = "Partner1_ChannelDefinition1",
        token_ttl: float = 7200.0,
        api_limit: int = 15000,
        max_attribute_length: int = 255,
        accept_cancel_reason: bool = True,
        latency: float = 0.0,
        audiences: tuple[str, ...] = (PRODUCTION_AUDIENCE,),
        assignment_rules: Mapping[str, str] | None = None,
        request_validator: Callable[[str, Mapping[str, str], Any], str | None] | None = None,
    ) -> None:
        self.certificate_pem = certificate_pem
        self.client_id, self.username = client_id, username
        self.org_id = org_id
        self.authorization_context = authorization_context
        self.token_ttl = token_ttl
        self.api_limit = api_limit
        self.max_attribute_length = max_attribute_length
        self.accept_cancel_reason = accept_cancel_reason
        self.latency = latency
        #: the ``aud`` values the token endpoint accepts (a sandbox: test.salesforce.com)
        self.audiences = tuple(audiences)
        #: the active assignment rule of each sObject type: the owner it assigns
        #: whenever a write does not send ``Sforce-Auto-Assign: FALSE``
        self.assignment_rules: dict[str, str] = dict(assignment_rules or {})
        self.request_validator = request_validator
        self.requests: list[RecordedRequest] = []
        self.calls: Counter[str] = Counter()
        self.users: dict[str, str] = {}  # email -> User Id
        self.queues: dict[str, str] = {}  # developer name -> Queue Id
        self.records: dict[str, dict[str, Any]] = {}  # id -> {"type", "OwnerId", ...}
        self.psrs: dict[str, Psr] = {}  # conversation identifier -> pending routing
        self.routings: list[Psr] = []  # every routing ever opened, repeats included
        #: conversation identifier -> its MessagingSession work item id
        self.sessions: dict[str, str] = {}
        self.routing_results: list[dict[str, Any]] = []
        #: conversation identifier -> routingCorrelationIds of transfers a rep asked for
        self.transfer_routings: dict[str, set[str]] = {}
        self.reassigned: list[str] = []  # record ids an assignment rule reassigned
        self.agent_works: list[dict[str, Any]] = []
        self.deleted_routes: list[dict[str, Any]] = []
        self.owner_batches: list[int] = []  # records per sObject Collections call
        self.api_used = 0
        self.request_ids: Counter[str] = Counter()
        self._tokens: dict[str, float] = {}
        self._injections: list[Injection] = []
        self._ids = itertools.count(1)
        self._lock = threading.RLock()
        self._server = ThreadedServer(self.handle)


    # seeding and inspection ------------------------------------------------------------------
    def new_id(self, prefix: str) -> str:
        """A 15-character Salesforce-style id with a 3-character key prefix."""
        with self._lock:
            return f"{prefix}{next(self._ids):012d}"

    def add_user(self, email: str) -> str:
        user_id = self.new_id("005")
        with self._lock:
            self.users[email.lower()] = user_id
        return user_id

    def add_queue(self, developer_name: str) -> str:
        queue_id = self.new_id("00G")
        with self._lock:
            self.queues[developer_name] = queue_id
        return queue_id

    def add_session(self, conversation_identifier: str) -> str:
        """A MessagingSession (work item) for a conversation, as the Interaction API
        creates when the conversation starts."""
        with self._lock:
            found = self.sessions.get(conversation_identifier)
        if found:
            return found
        work_item_id = self.new_id("0Mw")
        with self._lock:
            return self.sessions.setdefault(conversation_identifier, work_item_id)

    def request_transfer(self, conversation_identifier: str) -> str:
        """A rep asks to transfer the conversation: Salesforce starts a routing event whose
        routingCorrelationId the RoutingRequested event's channelData carries."""
        correlation = str(uuid.uuid4())
        with self._lock:
            self.transfer_routings.setdefault(conversation_identifier, set()).add(correlation)
        return correlation

    def add_record(self, sobject: str, fields: Mapping[str, Any]) -> str:
        prefix = {"Lead": "00Q", "Contact": "003", "Case": "500"}.get(sobject, "001")
        record_id = self.new_id(prefix)
        with self._lock:
            self.records[record_id] = {"type": sobject, "Id": record_id, **fields}
        return record_id

    def owner_of(self, record_id: str) -> str | None:
        with self._lock:
            return self.records.get(record_id, {}).get("OwnerId")

    def inject(self, operation: str, code: int | str, *, times: int = 1,
               status: int | None = None) -> None:
        """Answer the next ``times`` calls of ``operation`` with error ``code``."""
        with self._lock:
            self._injections.append(Injection(operation, code, times, status))

    def expire_tokens(self) -> None:
        with self._lock:
            for token in self._tokens:
                self._tokens[token] = 0.0

    def requests_to(self, method: str, path: str) -> list[RecordedRequest]:
        with self._lock:
            return [r for r in self.requests if r.method == method and r.path == path]

    # shared checks ----------------------------------------------------------------------------
    def issue_token(self) -> str:
        token = f"00D!{uuid.uuid4().hex}"
        with self._lock:
            self._tokens[token] = time.time() + self.token_ttl
        return token

    def open_session(self) -> str:
        """A session of the org's user, as an Outbound Message with "Send Session ID"
        carries: accepted by the REST API like an OAuth access token, until it expires."""
        return self.issue_token()

    @property
    def org_id_18(self) -> str:
        """The org id as the API returns it: 18 characters (15 + case-safe suffix)."""
        return _eighteen(self.org_id[:15])

    def token_valid(self, headers: Mapping[str, str]) -> bool:
        auth = headers.get("authorization", "")
        token = auth[7:] if auth[:7].lower() == "bearer " else ""
        with self._lock:
            return self._tokens.get(token, 0.0) > time.time()

    def take_injection(self, operation: str) -> Injection | None:
        with self._lock:
            for injection in self._injections:
                if injection.operation == operation and injection.times > 0:
                    injection.times -= 1
                    return injection
        return None

    def record(self, request: RecordedRequest) -> None:
        with self._lock:
            self.requests.append(request)
            self.calls[f"{request.method} {request.path}"] += 1

    # request handling ----------------------------------------------------------------------
    def handle(self, method: str, path: str, query: dict[str, list[str]],
               headers: Mapping[str, str], body: bytes) -> Reply:
        if self.latency:
            time.sleep(self.latency)
        lowered = {k.lower(): v for k, v in headers.items()}
        if path.startswith("/api/v1/"):
            return fake_interaction.handle(self, method, path, lowered, body)
        return fake_rest.handle(self, method, path, query, lowered, body)
