"""SQL for the Salesforce flows: BYOC conversations, mirrored Salesforce records, the
routers that apply to them, and the write-back status of their decisions."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from .models import ByocOfferRow, ConversationRow, DecisionRow, ObjectRow, RouterRow

SOURCE = "salesforce"


def conversation(session: Session, account_id: str, identifier: str,
                 *, lock: bool = False) -> ConversationRow | None:
    query = select(ConversationRow).where(ConversationRow.account_id == account_id,
                                          ConversationRow.conversation_identifier == identifier)
    if lock:
        query = query.with_for_update()
    return session.scalars(query).one_or_none()


def upsert_object(session: Session, account_id: str, object_type: str, source_id: str,
                  fields: dict[str, Any], org_id: str | None = None) -> ObjectRow:
    """The routable mirror of a Salesforce record or BYOC conversation, fields refreshed
    (and, when known, the org it came from)."""
    row = session.scalars(select(ObjectRow).where(
        ObjectRow.account_id == account_id, ObjectRow.source == SOURCE,
        ObjectRow.object_type == object_type, ObjectRow.source_id == source_id)).one_or_none()
    now = datetime.now(UTC)
    clean = {k: v for k, v in fields.items() if v is not None}
    if row is None:
        row = ObjectRow(account_id=account_id, object_type=object_type, source=SOURCE,
                        source_id=source_id, fields=clean, created_at=now, updated_at=now)
        session.add(row)
    else:
        row.fields = {**(row.fields or {}), **clean}
        row.updated_at = now
    if org_id:
        row.source_account = org_id
    session.flush()
    return row


def event_decisions(session: Session, event_id: str | None,
                    object_id: str | None) -> list[DecisionRow]:
    """The decisions an inbox event made for an object before (it is being processed
    again after a crash or a retry), oldest first."""
    if not event_id or not object_id:
        return []
    return list(session.scalars(select(DecisionRow).where(
        DecisionRow.inbox_event_id == event_id, DecisionRow.object_id == object_id)
        .order_by(DecisionRow.created_at)))


def routers_for(session: Session, account_id: str, object_type: str) -> list[RouterRow]:
    """Published routers of an object type, oldest first: the first that assigns wins."""
    return list(session.scalars(
        select(RouterRow).where(RouterRow.account_id == account_id,
                                RouterRow.object_type == object_type,
                                RouterRow.published.is_(True))
        .order_by(RouterRow.created_at, RouterRow.id)))


def stale_offers(session: Session, before: datetime, limit: int = 100
                 ) -> list[ConversationRow]:
    """Conversations whose own offer (the connector chose the rep) has waited for an
    answer since before ``before``. Queue, flow and channel routings never appear here."""
    return list(session.scalars(
        select(ConversationRow).where(ConversationRow.offer_open_at.is_not(None),
                                      ConversationRow.offer_open_at < before)
        .order_by(ConversationRow.offer_open_at).limit(limit)))


def claim_stale(session: Session, conv_id: str, open_at: datetime,
                claimed_at: datetime) -> bool:
    """Take a stale offer for this sweeper: one atomic compare-and-set of
    ``offer_open_at``, so of two sweepers that read the same row only one deletes its
    route, and an offer answered since it was read (accepted, declined, offered again) is
    left alone. True when this caller won."""
    result = session.execute(
        update(ConversationRow)
        .where(ConversationRow.id == conv_id, ConversationRow.offer_open_at == open_at)
        .values(offer_open_at=claimed_at)
        .execution_options(synchronize_session=False))
    return result.rowcount == 1


def release_claim(session: Session, conv_id: str, claimed_at: datetime,
                  open_at: datetime) -> None:
    """Give a claimed offer back (its DELETE failed): the next sweep tries again."""
    session.execute(
        update(ConversationRow)
        .where(ConversationRow.id == conv_id, ConversationRow.offer_open_at == claimed_at)
        .values(offer_open_at=open_at)
        .execution_options(synchronize_session=False))


def open_offer(session: Session, conv: ConversationRow, *, rep_id: str | None,
               user_id: str, agent_work_id: str | None) -> None:
    """Record an offer the connector made; an earlier open offer of it is closed."""
    now = datetime.now(UTC)
    close_offers(session, conv.id, "answered", "offered to another rep")
    session.add(ByocOfferRow(account_id=conv.account_id, conversation_id=conv.id,
                             kind="offer", rep_id=rep_id, salesforce_user_id=user_id,
                             agent_work_id=agent_work_id, psr_id=conv.psr_id,
                             outcome="open", created_at=now))


def close_offers(session: Session, conv_id: str, outcome: str, reason: str | None) -> None:
    now = datetime.now(UTC)
    for row in session.scalars(select(ByocOfferRow).where(
            ByocOfferRow.conversation_id == conv_id, ByocOfferRow.outcome == "open")):
        row.outcome, row.reason, row.ended_at = outcome, reason, now


def record_deletion(session: Session, conv: ConversationRow, reason: str) -> None:
    """A ``DELETE v1/route`` the connector sent, with its reason."""
    close_offers(session, conv.id, "expired", reason)
    session.add(ByocOfferRow(account_id=conv.account_id, conversation_id=conv.id,
                             kind="delete", rep_id=conv.rep_id,
                             salesforce_user_id=conv.salesforce_user_id,
                             agent_work_id=conv.agent_work_id, psr_id=conv.psr_id,
                             outcome="deleted", reason=reason,
                             created_at=datetime.now(UTC), ended_at=datetime.now(UTC)))


def offers(session: Session, conv_id: str) -> list[ByocOfferRow]:
    return list(session.scalars(select(ByocOfferRow).where(
        ByocOfferRow.conversation_id == conv_id).order_by(ByocOfferRow.created_at)))


def failed_conversations(session: Session, account_id: str, limit: int = 200
                         ) -> list[ConversationRow]:
    return list(session.scalars(select(ConversationRow).where(
        ConversationRow.account_id == account_id, ConversationRow.state == "failed")
        .order_by(ConversationRow.updated_at.desc()).limit(limit)))


def mark_decision(session: Session, decision_id: str | None, *, ok: bool,
                  error: str | None = None) -> None:
    """Record the outcome of the Salesforce call that carried out a decision."""
    if not decision_id:
        return
    row = session.get(DecisionRow, decision_id)
    if row is None:
        return
    row.sync_status = "synced" if ok else "failed"
    row.sync_error = None if ok else (error or "failed")[:4000]
    row.sync_attempts += 1


def next_action(row: ConversationRow) -> dict[str, str] | None:
    """What an operator does about a conversation that needs a hand (None: nothing):
    a failed one is routed again, or handed to a queue, with ``POST .../retry``."""
    if row.state != "failed":
        return None
    path = f"/conversations/{row.conversation_identifier}/retry"
    return {"action": "retry", "request": f"POST {path}",
            "or": f"POST {path} with {{\"queue_id\": \"<Salesforce queue id>\"}} hands it "
                  "to that queue"}


def offer_as_dict(row: ByocOfferRow) -> dict[str, Any]:
    return {"kind": row.kind, "rep_id": row.rep_id,
            "salesforce_user_id": row.salesforce_user_id, "agent_work_id": row.agent_work_id,
            "psr_id": row.psr_id, "outcome": row.outcome, "reason": row.reason,
            "created_at": row.created_at.isoformat() if row.created_at else None,
            "ended_at": row.ended_at.isoformat() if row.ended_at else None}


def conversation_as_dict(row: ConversationRow) -> dict[str, Any]:
    return {
        "id": row.id, "conversation_identifier": row.conversation_identifier,
        "state": row.state, "routing_type": row.routing_type,
        "destination": row.destination, "psr_id": row.psr_id,
        "work_item_id": row.work_item_id, "routing_correlation_id": row.routing_correlation_id,
        "rep_id": row.rep_id, "salesforce_user_id": row.salesforce_user_id,
        "agent_work_id": row.agent_work_id,
        "declined_rep_ids": row.declined_rep_ids, "route_calls": row.route_calls,
        "decision_id": row.decision_id, "error_code": row.error_code, "error": row.error,
        "offer_open_since": row.offer_open_at.isoformat() if row.offer_open_at else None,
        "next_action": next_action(row),
    }
