"""Ports: what the processing code needs from a CRM, as typing.Protocols.

Adapters in ``adapters/`` implement these; tests use small hand-written fakes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class OwnerWrite:
    """Set the owner of one CRM record."""

    object_type: str  # "contact", "ticket", "company", "deal", "Lead", "Case", ...
    record_id: str
    owner_id: str  # the CRM's own owner/user id (HubSpot owner id, Salesforce User/Queue Id)


@dataclass(frozen=True)
class WriteResult:
    """Outcome of one OwnerWrite inside a batch call (CRMs answer per record)."""

    record_id: str
    ok: bool
    error: str | None = None
    retryable: bool = False


class RecordReader(Protocol):
    def read_records(
        self, object_type: str, ids: Sequence[str], properties: Sequence[str]
    ) -> dict[str, dict[str, Any]]:
        """Read many records in as few calls as the CRM allows; missing ids are absent."""
        ...


class OwnerDirectory(Protocol):
    def owner_id_for_email(self, email: str) -> str | None:
        """The CRM's owner/user id for a rep's email (cached; refreshed on a miss)."""
        ...


class OwnerWriter(Protocol):
    def write_owners(self, writes: Sequence[OwnerWrite]) -> list[WriteResult]:
        """Write owners in batches; raises CrmError only when a whole call failed."""
        ...


@dataclass(frozen=True)
class RouteRequest:
    """One logical BYOC ``POST v1/route``; ``request_id`` is reused by its retries."""

    conversation_identifier: str
    routing_type: str  # "Initial" | "Transfer"
    request_id: str
    flow_id: str | None = None
    fallback_queue_id: str | None = None
    queue_id: str | None = None
    routing_attributes: Mapping[str, Any] = field(default_factory=dict)
    #: unix time after which retrying is pointless (a transfer has 60 seconds)
    deadline_at: float | None = None


@dataclass(frozen=True)
class RouteAccepted:
    psr_id: str | None
    work_item_id: str | None
    routing_correlation_id: str | None
    context: Mapping[str, str] = field(default_factory=dict)


class ConversationRouter(Protocol):
    def route(self, request: RouteRequest) -> RouteAccepted:
        """``POST v1/route``; raises CrmError (with the Salesforce code) when refused."""
        ...

    def assign_agent_work(
        self, *, user_id: str, work_item_id: str, routing_context: Mapping[str, Any],
        request_id: str, deadline_at: float | None = None,
    ) -> str | None:
        """``POST v1/agentWork`` for a chosen rep; returns the AgentWork id."""
        ...

    def cancel_route(self, *, conversation_identifier: str, cancel_reason: str,
                     request_id: str) -> bool:
        """``DELETE v1/route``: clear a pending service routing; True when one was."""
        ...

    def send_routing_result(
        self, *, conversation_identifier: str, work_item_id: str, success: bool,
        externally_routed: bool = False, routing_type: str | None = None,
        error_message: str | None = None, request_id: str,
        deadline_at: float | None = None,
    ) -> bool:
        """``POST v1/routingResult``: how a transfer Salesforce asked for ended."""
        ...


class QueueDirectory(Protocol):
    def queue_id(self, developer_name: str) -> str | None:
        """The CRM's id of a queue, by its developer name (cached)."""
        ...
