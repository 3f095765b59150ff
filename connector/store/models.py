"""Tables. Rows are mapped to the plain domain objects of ``connector.core`` by the
repositories, so the core never sees SQLAlchemy."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator


def new_id() -> str:
    return str(uuid.uuid4())


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on every backend (SQLite stores naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON, datetime: UTCDateTime}


class AccountRow(Base):
    __tablename__ = "accounts"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: one more on every change to the account's reps or routers (rotation state apart),
    #: in the same transaction; a process keeps a router's settings and reps while this
    #: is the version it loaded them at (``connector.store.router_cache``)
    routing_version: Mapped[int] = mapped_column(Integer, server_default="0")


class RepRow(Base):
    __tablename__ = "reps"
    __table_args__ = (UniqueConstraint("account_id", "email", name="uq_reps_account_email"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"),
                                            index=True)
    email: Mapped[str] = mapped_column(String(320))
    name: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[str] = mapped_column(String(20), default="available")
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    working_hours: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    out_of_office: Mapped[list[Any]] = mapped_column(JSON, default=list)
    crm_ids: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class RouterRow(Base):
    __tablename__ = "routers"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"),
                                            index=True)
    name: Mapped[str] = mapped_column(String(200))
    object_type: Mapped[str] = mapped_column(String(40))
    published: Mapped[bool] = mapped_column(Boolean, default=False)
    settings: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    #: rotation state, changed only while the row is locked (SELECT ... FOR UPDATE)
    rr_last_position: Mapped[int | None] = mapped_column(Integer, nullable=True)
    current_weights: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class AssignmentCounterRow(Base):
    """Assignments per router, rep and rep-local day/week: what caps count against."""

    __tablename__ = "assignment_counters"
    router_id: Mapped[str] = mapped_column(ForeignKey("routers.id", ondelete="CASCADE"),
                                           primary_key=True)
    rep_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    period: Mapped[str] = mapped_column(String(8), primary_key=True)
    period_key: Mapped[str] = mapped_column(String(16), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)


class FieldDefinitionRow(Base):
    """Custom fields an account adds to an object type."""

    __tablename__ = "field_definitions"
    __table_args__ = (UniqueConstraint("account_id", "object_type", "internal_name",
                                       name="uq_field_definitions"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    object_type: Mapped[str] = mapped_column(String(40))
    internal_name: Mapped[str] = mapped_column(String(100))
    label: Mapped[str] = mapped_column(String(200), default="")
    type: Mapped[str] = mapped_column(String(20), default="string")
    options: Mapped[list[Any]] = mapped_column(JSON, default=list)


class ObjectRow(Base):
    """A routable record: a contact or ticket created through the API, or a CRM record
    (``source``/``source_id``) mirrored for routing."""

    __tablename__ = "objects"
    __table_args__ = (
        Index("ix_objects_email_active", "account_id", "object_type", "email", unique=True,
              sqlite_where=text("archived_at IS NULL AND email IS NOT NULL"),
              postgresql_where=text("archived_at IS NULL AND email IS NOT NULL")),
        Index("ix_objects_website_active", "account_id", "object_type", "website_url",
              unique=True,
              sqlite_where=text("archived_at IS NULL AND website_url IS NOT NULL"),
              postgresql_where=text("archived_at IS NULL AND website_url IS NOT NULL")),
        Index("ix_objects_external_active", "account_id", "object_type", "external_id",
              unique=True,
              sqlite_where=text("archived_at IS NULL AND external_id IS NOT NULL"),
              postgresql_where=text("archived_at IS NULL AND external_id IS NOT NULL")),
        UniqueConstraint("account_id", "source", "object_type", "source_id",
                         name="uq_objects_source"),
        Index("ix_objects_list", "account_id", "object_type", "created_at"),
    )
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    object_type: Mapped[str] = mapped_column(String(40))
    external_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    email: Mapped[str | None] = mapped_column(String(320), nullable=True)
    website_url: Mapped[str | None] = mapped_column(String(500), nullable=True)
    fields: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    owner_rep_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    owner_assigned_at: Mapped[datetime | None] = mapped_column(nullable=True)
    source: Mapped[str] = mapped_column(String(20), default="api")
    source_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    #: the CRM tenant a mirrored record came from (HubSpot portal id, Salesforce org id)
    source_account: Mapped[str | None] = mapped_column(String(64), nullable=True)
    archived_at: Mapped[datetime | None] = mapped_column(nullable=True)
    archived_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class DecisionRow(Base):
    """Every run of a router, with its reason; assignments are the successful ones."""

    __tablename__ = "decisions"
    __table_args__ = (
        Index("ix_decisions_object", "account_id", "object_id", "created_at"),
        Index("ix_decisions_router_rep", "router_id", "rep_id", "created_at"),
        # one decision per inbox event, router and object, even for two workers racing
        Index("uq_decisions_inbox_event", "inbox_event_id", "router_id", "object_id",
              unique=True),
    )
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    account_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    router_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    object_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    outcome: Mapped[str] = mapped_column(String(40))
    message: Mapped[str] = mapped_column(String(200))
    assigned: Mapped[bool] = mapped_column(Boolean, default=False)
    rep_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    rep_email: Mapped[str | None] = mapped_column(String(320), nullable=True)
    field_name: Mapped[str | None] = mapped_column(String(100), nullable=True)
    reason: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    #: write-back to the CRM: none | pending | synced | failed | dead
    sync_status: Mapped[str] = mapped_column(String(20), default="none")
    sync_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    sync_attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_sync_at: Mapped[datetime | None] = mapped_column(nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: the inbox event that produced this decision: a re-processed event finds it and
    #: neither routes the record again nor counts it twice
    inbox_event_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    #: set when an SLA reassignment took the record back from the rep: a load-balanced
    #: router's window no longer counts it as theirs
    credited_at: Mapped[datetime | None] = mapped_column(nullable=True)


class InboxEventRow(Base):
    """An accepted inbound event. Written before the 2xx; the row is the truth."""

    __tablename__ = "inbox_events"
    __table_args__ = (
        UniqueConstraint("source", "account_key", "event_key", name="uq_inbox_event"),
        Index("ix_inbox_ready", "status", "next_attempt_at"),
    )
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    source: Mapped[str] = mapped_column(String(20))
    account_key: Mapped[str] = mapped_column(String(100))
    event_key: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(60))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    #: pending | processing | done | failed (will retry) | dead
    status: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_until: Mapped[datetime | None] = mapped_column(nullable=True)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    processed_at: Mapped[datetime | None] = mapped_column(nullable=True)


class AdminUserRow(Base):
    """A person who signs in to the admin console; sees only their account's data."""

    __tablename__ = "admin_users"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"),
                                            index=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    password_hash: Mapped[str] = mapped_column(String(300))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(nullable=True)


class AccountSourceRow(Base):
    """Which CRM portal/org (inbox ``source`` + ``account_key``) belongs to an account: the
    one answer used by the webhooks' processing, the events API, the console and the CLI
    (see ``connector.store.sources_repo``)."""

    __tablename__ = "account_sources"
    source: Mapped[str] = mapped_column(String(20), primary_key=True)
    account_key: Mapped[str] = mapped_column(String(100), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"),
                                            index=True)
    #: when the portal/org was connected: the first one is an account's default portal
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class MappingVersionRow(Base):
    """A field-mapping version that was saved; version 0 is the default file and never
    stored. ``account_id`` NULL: a version of the defaults, which only the operator
    saves; otherwise a version of that account's own mapping. Numbers count per account
    (the defaults being one more scope), hence the two unique indexes: NULLs never
    collide in a plain unique constraint."""

    __tablename__ = "mapping_versions"
    __table_args__ = (
        UniqueConstraint("account_id", "source", "object", "version",
                         name="uq_mapping_versions_account"),
        Index("uq_mapping_versions_default", "source", "object", "version", unique=True,
              sqlite_where=text("account_id IS NULL"),
              postgresql_where=text("account_id IS NULL")),
    )
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    account_id: Mapped[str | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), nullable=True)
    source: Mapped[str] = mapped_column(String(20))
    object: Mapped[str] = mapped_column(String(40))
    version: Mapped[int] = mapped_column(Integer)
    yaml_text: Mapped[str] = mapped_column(Text)
    author: Mapped[str] = mapped_column(String(200))
    comment: Mapped[str] = mapped_column(Text, default="")
    #: the version this one copies when it was made by a rollback
    restored_from: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

class ConversationRow(Base):
    """A BYOC conversation we route for Salesforce (partner-owned routing): where it went,
    the pending service routing Salesforce opened for it, and what reps did with it."""

    __tablename__ = "byoc_conversations"
    __table_args__ = (
        UniqueConstraint("account_id", "conversation_identifier", name="uq_byoc_conversation"),
        Index("ix_byoc_conversations_state", "state", "routed_at"),
    )
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    conversation_identifier: Mapped[str] = mapped_column(String(255))
    channel_address: Mapped[str | None] = mapped_column(String(255), nullable=True)
    object_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    router_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    decision_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    #: new | pending (PSR open) | offered | assigned | accepted | declined | closed |
    #: transferred | failed | expired (PSR deleted by the sweep)
    state: Mapped[str] = mapped_column(String(20), default="new")
    routing_type: Mapped[str] = mapped_column(String(20), default="Initial")
    destination: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    request_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    psr_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    work_item_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    routing_correlation_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
    rep_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    salesforce_user_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    agent_work_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    declined_rep_ids: Mapped[list[Any]] = mapped_column(JSON, default=list)
    route_calls: Mapped[int] = mapped_column(Integer, default=0)
    error_code: Mapped[str | None] = mapped_column(String(40), nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    routed_at: Mapped[datetime | None] = mapped_column(nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    #: when the connector's own offer to a rep it chose (rep destination) started waiting
    #: for an answer; None when no such offer is open. Only these are ever swept: a
    #: conversation in a queue, a flow or the channel's routing is Salesforce's to hold.
    offer_open_at: Mapped[datetime | None] = mapped_column(nullable=True, index=True)
    #: the RoutingRequested event whose routingResult was sent last (a re-run skips it)
    transfer_event_id: Mapped[str | None] = mapped_column(String(64), nullable=True)


class ByocOfferRow(Base):
    """One offer of a BYOC conversation to a rep (``POST v1/agentWork``) or one deletion
    of its pending routing (``DELETE v1/route``), with how it ended and why: the record
    behind every routing the connector cancelled."""

    __tablename__ = "byoc_offers"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    conversation_id: Mapped[str] = mapped_column(
        ForeignKey("byoc_conversations.id", ondelete="CASCADE"), index=True)
    #: offer | delete
    kind: Mapped[str] = mapped_column(String(10), default="offer")
    rep_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    salesforce_user_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    agent_work_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    psr_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    #: open | answered | expired (deleted by the sweep) | refused
    outcome: Mapped[str] = mapped_column(String(20), default="open")
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(nullable=True)


class HubSpotPortalRow(Base):
    """The OAuth tokens of a HubSpot portal (hub), encrypted (``connector.store.crypto``);
    a portal without a row uses the private-app token. Which account the portal belongs
    to is in ``account_sources``, like every other CRM portal/org."""

    __tablename__ = "hubspot_portals"
    portal_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    access_token_enc: Mapped[str | None] = mapped_column(Text, nullable=True)
    refresh_token_enc: Mapped[str | None] = mapped_column(Text, nullable=True)
    expires_at: Mapped[datetime | None] = mapped_column(nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class HubSpotOwnerWriteRow(Base):
    """The owner we last wrote to a HubSpot record: the ``propertyChange`` HubSpot sends
    back for it is our own echo and must not start another assignment."""

    __tablename__ = "hubspot_owner_writes"
    portal_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    object_type: Mapped[str] = mapped_column(String(40), primary_key=True)
    record_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    owner_id: Mapped[str] = mapped_column(String(100))
    written_at: Mapped[datetime] = mapped_column(default=utcnow)


class RevokedTokenRow(Base):
    """A token id (``jti``) that is no longer accepted: an API token revoked with
    ``connector token revoke`` or a HubSpot install ``state`` already used. Kept until the
    token would have expired anyway (``expires_at``; none: for good)."""

    __tablename__ = "revoked_tokens"
    jti: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    expires_at: Mapped[datetime | None] = mapped_column(nullable=True, index=True)
    revoked_at: Mapped[datetime] = mapped_column(default=utcnow)
class HubSpotJournalOffsetRow(Base):
    """How far the webhooks journal of one app (its client id) has been read: the offset
    of the last entry whose events are all in the inbox. It only advances after they are
    stored, so a restart resumes here and reads nothing twice that matters (the inbox
    drops duplicates). ``gap_*`` remembers the last time entries were lost to the
    journal's 3-day retention, for the console."""

    __tablename__ = "hubspot_journal_offsets"
    app_key: Mapped[str] = mapped_column(String(100), primary_key=True)
    offset: Mapped[str | None] = mapped_column(String(64), nullable=True)
    entries: Mapped[int] = mapped_column(Integer, default=0)
    events: Mapped[int] = mapped_column(Integer, default=0)
    read_at: Mapped[datetime | None] = mapped_column(nullable=True)
    gap_at: Mapped[datetime | None] = mapped_column(nullable=True)
    gap_message: Mapped[str | None] = mapped_column(Text, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
# -- /v1 (Routeswit-compatible) API ---------------------------------------------------

class ApiKeyRow(Base):
    """An account's API key. Only the SHA-256 of the key is kept (a key is 256 random
    bits, so a fast hash is as safe as a slow one and keeps every request cheap); the
    prefix is what lists show."""

    __tablename__ = "api_keys"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"),
                                            index=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    prefix: Mapped[str] = mapped_column(String(32))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[list[Any]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(nullable=True)


class RepProfileRow(Base):
    """What /v1 says about a rep beyond the routers' available/unavailable: the presence
    it was given (BUSY, AWAY, OFFLINE) and its routing capacity (leads per UTC day)."""

    __tablename__ = "rep_profiles"
    rep_id: Mapped[str] = mapped_column(ForeignKey("reps.id", ondelete="CASCADE"),
                                        primary_key=True)
    account_id: Mapped[str] = mapped_column(String(36), index=True)
    status: Mapped[str] = mapped_column(String(20), default="AVAILABLE")
    capacity: Mapped[int | None] = mapped_column(Integer, nullable=True)


class RulesetRow(Base):
    """The current version of a ruleset; every version is also in ``ruleset_versions``."""

    __tablename__ = "rulesets"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"),
                                            index=True)
    name: Mapped[str] = mapped_column(String(200))
    version: Mapped[int] = mapped_column(Integer, default=1)
    active: Mapped[bool] = mapped_column(Boolean, default=False)
    rules: Mapped[list[Any]] = mapped_column(JSON, default=list)
    default_rule: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class RulesetVersionRow(Base):
    __tablename__ = "ruleset_versions"
    ruleset_id: Mapped[str] = mapped_column(ForeignKey("rulesets.id", ondelete="CASCADE"),
                                            primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    rules: Mapped[list[Any]] = mapped_column(JSON, default=list)
    default_rule: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class LeadRow(Base):
    """A lead ingested through ``POST /v1/leads``: the contact it became, the rule that
    decided and the decision (in ``decisions``, like every other assignment)."""

    __tablename__ = "leads"
    __table_args__ = (
        UniqueConstraint("account_id", "idempotency_key", name="uq_leads_idempotency"),
        Index("ix_leads_email", "account_id", "email", "created_at"),
        Index("ix_leads_list", "account_id", "created_at", "id"),
    )
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    contact_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    email: Mapped[str | None] = mapped_column(String(320), nullable=True)
    fields: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    owner_rep_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    ruleset_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    ruleset_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    rule_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    decision_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    reason: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    duplicate_of: Mapped[str | None] = mapped_column(String(36), nullable=True)
    idempotency_key: Mapped[str | None] = mapped_column(String(200), nullable=True)
    request_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: the CRM record the lead was found or created as (``hubspot``/``salesforce`` and its
    #: id) and the state of that step: ``pending``, ``synced``, ``failed`` (retried), ``dead``
    crm: Mapped[str | None] = mapped_column(String(20), nullable=True)
    crm_record_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    crm_sync_status: Mapped[str | None] = mapped_column(String(20), nullable=True)
    crm_sync_error: Mapped[str | None] = mapped_column(Text, nullable=True)


class ActivityRow(Base):
    """A call, meeting, email or note logged on a contact: its engagement history."""

    __tablename__ = "activities"
    __table_args__ = (Index("ix_activities_contact", "account_id", "contact_id",
                            "occurred_at"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    contact_id: Mapped[str] = mapped_column(ForeignKey("objects.id", ondelete="CASCADE"))
    type: Mapped[str] = mapped_column(String(20))
    notes: Mapped[str] = mapped_column(Text, default="")
    outcome: Mapped[str | None] = mapped_column(String(20), nullable=True)
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)
    rep_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class NotificationChannelRow(Base):
    """Where an account's notifications go: a Slack incoming webhook or bot, SMTP mail or
    a signed outgoing webhook. ``settings`` holds what may be shown (Slack channel, mail
    addresses, SMTP host); ``secret`` the encrypted JSON of what may not (webhook URLs,
    bot token, SMTP password, signing secret)."""

    __tablename__ = "notification_channels"
    __table_args__ = (Index("ix_notification_channels_account", "account_id"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    type: Mapped[str] = mapped_column(String(20))
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    secret: Mapped[str] = mapped_column(Text, default="")
    #: the notification kinds sent here ("sla.breach", ...); empty: every kind
    kinds: Mapped[list[str]] = mapped_column(JSON, default=list)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class NotificationPreferenceRow(Base):
    """A rep's choice: which channels carry notifications about their records, and which
    kinds they mute."""

    __tablename__ = "notification_preferences"
    rep_id: Mapped[str] = mapped_column(ForeignKey("reps.id", ondelete="CASCADE"),
                                        primary_key=True)
    account_id: Mapped[str] = mapped_column(String(36))
    #: None: every channel of the account
    channel_ids: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)
    muted_kinds: Mapped[list[str]] = mapped_column(JSON, default=list)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
# -- SLA monitors ----------------------------------------------------------------------

class SlaMonitorRow(Base):
    """An SLA a router's or a ruleset's assignments must meet (see ``connector.core.sla``);
    ``stages`` and ``reminders`` are kept as the API gives them."""

    __tablename__ = "sla_monitors"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"),
                                            index=True)
    name: Mapped[str] = mapped_column(String(200))
    router_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    ruleset_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    condition: Mapped[str] = mapped_column(String(20))
    duration: Mapped[str] = mapped_column(String(40))
    clock: Mapped[str] = mapped_column(String(10), default="working")
    reminders: Mapped[list[Any]] = mapped_column(JSON, default=list)
    stages: Mapped[list[Any]] = mapped_column(JSON, default=list)
    manager_emails: Mapped[list[Any]] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class SlaClockRow(Base):
    """One record's SLA clock under one monitor. The deadline and the next moment to look
    are stored, so a restart loses no timer; ``version`` is what a scanner claims with a
    conditional UPDATE, so a breach escalates once however many scanners run."""

    __tablename__ = "sla_clocks"
    __table_args__ = (
        Index("ix_sla_clocks_due", "state", "next_check_at"),
        Index("ix_sla_clocks_object", "account_id", "object_id", "state"),
    )
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    monitor_id: Mapped[str] = mapped_column(ForeignKey("sla_monitors.id",
                                                       ondelete="CASCADE"), index=True)
    object_id: Mapped[str] = mapped_column(ForeignKey("objects.id", ondelete="CASCADE"))
    #: the router that assigned (reassignments go through it), and the decision
    router_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    decision_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    rep_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    #: every rep who had the record under this clock, first to last
    reps: Mapped[list[Any]] = mapped_column(JSON, default=list)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    deadline_at: Mapped[datetime] = mapped_column(default=utcnow)
    next_check_at: Mapped[datetime | None] = mapped_column(nullable=True)
    reminders_sent: Mapped[int] = mapped_column(Integer, default=0)
    stages_done: Mapped[int] = mapped_column(Integer, default=0)
    #: running | met | breached (every stage done, never met) | stopped
    state: Mapped[str] = mapped_column(String(20), default="running")
    stopped_at: Mapped[datetime | None] = mapped_column(nullable=True)
    #: what stopped the clock: {"source", "signal", "at", "detail"}
    stopped_by: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    #: what the clock did: reminders, stages, reassignments
    events: Mapped[list[Any]] = mapped_column(JSON, default=list)
    version: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
# -- routing depth: companies, territories, fairness, calendar feeds --------------------

class CompanyRow(Base):
    """A company leads are matched against: a HubSpot company, a Salesforce Account or an
    API-only account (``source`` "api"). ``external_id`` is the CRM's id, unique per
    account and source so a mirror refresh updates the row instead of adding one."""

    __tablename__ = "companies"
    __table_args__ = (
        UniqueConstraint("account_id", "source", "external_id", name="uq_companies_external"),
        Index("ix_companies_account", "account_id", "created_at", "id"),
    )
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(300))
    domain: Mapped[str | None] = mapped_column(String(255), nullable=True)
    website: Mapped[str | None] = mapped_column(String(2048), nullable=True)
    size: Mapped[int | None] = mapped_column(Integer, nullable=True)
    owner_rep_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    #: role ("owner", "sdr", "csm", ...) → rep id
    account_team: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    last_activity_at: Mapped[datetime | None] = mapped_column(nullable=True)
    source: Mapped[str] = mapped_column(String(20), default="api")
    external_id: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class TerritoryRow(Base):
    """One row of an account's territory table; ``position`` keeps the table's order (the
    last tie-breaker between overlapping territories)."""

    __tablename__ = "territories"
    __table_args__ = (Index("ix_territories_account", "account_id", "position"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    assign_to: Mapped[str] = mapped_column(String(80))
    priority: Mapped[int] = mapped_column(Integer, default=0)
    countries: Mapped[list[Any]] = mapped_column(JSON, default=list)
    regions: Mapped[list[Any]] = mapped_column(JSON, default=list)
    #: "low-high" postcode ranges
    postcodes: Mapped[list[Any]] = mapped_column(JSON, default=list)
    industries: Mapped[list[Any]] = mapped_column(JSON, default=list)
    min_employees: Mapped[int | None] = mapped_column(Integer, nullable=True)
    max_employees: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class FairnessLedgerRow(Base):
    """What a router owes a rep beyond the records assigned: credits (records reassigned
    away or rejected) and the sum of manual calibrations."""

    __tablename__ = "fairness_ledgers"
    router_id: Mapped[str] = mapped_column(ForeignKey("routers.id", ondelete="CASCADE"),
                                           primary_key=True)
    rep_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    account_id: Mapped[str] = mapped_column(String(36), index=True)
    credits: Mapped[int] = mapped_column(Integer, default=0)
    calibration: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class FairnessCalibrationRow(Base):
    """The audit of manual calibrations: who moved a rep's balance, by how much and why."""

    __tablename__ = "fairness_calibrations"
    __table_args__ = (Index("ix_fairness_calibrations_router", "router_id", "created_at"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    account_id: Mapped[str] = mapped_column(String(36))
    router_id: Mapped[str] = mapped_column(ForeignKey("routers.id", ondelete="CASCADE"))
    rep_id: Mapped[str] = mapped_column(String(36))
    delta: Mapped[int] = mapped_column(Integer)
    by: Mapped[str] = mapped_column(String(320))
    why: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CalendarFeedRow(Base):
    """A rep's ICS feed. The address is a secret (whoever has it reads the calendar), so
    only its encryption is stored; the last good copy is kept for when a refresh fails."""

    __tablename__ = "calendar_feeds"
    rep_id: Mapped[str] = mapped_column(ForeignKey("reps.id", ondelete="CASCADE"),
                                        primary_key=True)
    account_id: Mapped[str] = mapped_column(String(36), index=True)
    url_encrypted: Mapped[str] = mapped_column(Text)
    etag: Mapped[str | None] = mapped_column(String(500), nullable=True)
    last_modified: Mapped[str | None] = mapped_column(String(100), nullable=True)
    body: Mapped[str | None] = mapped_column(Text, nullable=True)
    fetched_at: Mapped[datetime | None] = mapped_column(nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    failed_at: Mapped[datetime | None] = mapped_column(nullable=True)
    #: the copy's out-of-office periods ({"start", "end"}, UTC) over the coming weeks,
    #: worked out at refresh and merged into the rep's availability
    absences: Mapped[list[Any]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
