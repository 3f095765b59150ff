"""A ``POST /v1/leads`` lead in the account's HubSpot portal: found by email or created
there, mirrored, and its owner written.

A lead whose contact already came from HubSpot is written back by ``OwnerSync`` like any
assignment. For a lead that is only ours, when the account has a connected portal:

1. the rep's HubSpot owner id is looked up (cached, as for every write-back);
2. the contact is searched by email (CRM search); when there is none it is created with
   ``hubspot_owner_id`` already set, so a new contact takes one call and no write-back;
   HubSpot's "Contact already exists" (a contact created moments ago is not searchable
   yet) counts as found;
3. our contact becomes the mirror of that HubSpot record (``source``/``source_id``), so
   HubSpot's own events about it, and later write-backs, find it;
4. a contact that was found gets its owner through ``OwnerSync`` - the write-back of
   ``POST /dispatch/router``, with its retries (``hubspot_owner_sync`` events).

On the request, all of it shares the interactive client's deadline, the one
``POST /dispatch/router`` bounds its write with. A failure of steps 1-3 (a slow or
failing HubSpot, a portal validation rule refusing the create) never loses the lead or
its owner: the lead says ``failed`` with the error, and a ``v1_lead_crm`` inbox event
runs the same steps on the inbox's retry schedule, up to its dead letter.
"""

from __future__ import annotations

from contextlib import nullcontext
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from connector.core.errors import CrmError, PermanentCrmError
from connector.jobs import inbox
from connector.store import hubspot_repository as hs_repo
from connector.store import leads_repo as repo
from connector.store.db import Database
from connector.store.models import DecisionRow, LeadRow, ObjectRow, RepRow
from connector.store.reads import detached
from connector.store.repositories import rep_to_domain

from . import dispatch as dispatch_service
from .hubspot_owner_sync import SOURCE, hubspot_owner_id, queue_retries

KIND = "v1_lead_crm"
#: a lead's fields as HubSpot contact properties
PROPERTIES = {"email": "email", "first_name": "firstname", "last_name": "lastname",
              "phone": "phone", "company": "company", "job_title": "jobtitle",
              "country": "country"}


class LeadCrm:
    """Links ``/v1`` leads to the account's HubSpot portal (see the module docstring)."""

    def __init__(self, container: Any) -> None:
        self.container = container

    @property
    def db(self) -> Database:
        return self.container.db

    def applies(self, account_id: str) -> bool:
        return self._portals().portal_for_account(account_id) is not None

    def __call__(self, account_id: str, lead_id: str) -> str | None:
        """Link a freshly routed lead on the request; the error, or None."""
        portal = self._portals().portal_for_account(account_id)
        if portal is None:
            return None
        error = self.link(account_id, lead_id, portal, interactive=True)
        if error is not None:
            next_at = queue_retries(self.db, [inbox.NewEvent(
                SOURCE, portal, f"lead-crm:{lead_id}", KIND,
                {"lead_id": lead_id, "account_id": account_id, "portal_id": portal})], [error])
            self._mark(lead_id, "failed", error, next_at=next_at)
        return error

    def link(self, account_id: str, lead_id: str, portal: str, *,
             interactive: bool) -> str | None:
        """Steps 1-4 for one lead; the error of steps 1-3, or None (a failed owner write is
        reported and retried by ``OwnerSync`` itself)."""
        with detached(self.db) as session:
            lead = repo.lead(session, account_id, lead_id)
            contact = repo.contact(session, account_id, lead.contact_id) \
                if lead is not None and lead.contact_id else None
            decision = session.get(DecisionRow, lead.decision_id) \
                if lead is not None and lead.decision_id else None
            rep_row = session.get(RepRow, decision.rep_id) \
                if decision is not None and decision.assigned and decision.rep_id else None
            rep = rep_to_domain(rep_row) if rep_row is not None else None
        if lead is None or contact is None or not lead.email or lead.crm_sync_status == "synced":
            return None
        if contact.source == SOURCE and contact.source_id:
            self._linked(lead_id, contact.id, contact.source_id, decision, None, portal)
            return None
        if contact.source != "api":
            return None
        portals = self._portals()
        try:
            if portals.account_for(portal) != account_id:
                raise PermanentCrmError(f"HubSpot portal {portal} is no longer connected to "
                                        "this account")
            client = portals.client_for(portal, interactive=interactive)
            limit = getattr(client, "time_limit", None) if interactive else None
            with limit() if limit is not None else nullcontext():
                owner_id = hubspot_owner_id(client, rep.email, rep.crm_ids) if rep else None
                record_id, created = client.find_contact_by_email(lead.email), False
                if record_id is None:
                    props = {PROPERTIES[k]: str(v) for k, v in lead.fields.items()
                             if k in PROPERTIES and v not in (None, "")}
                    props["email"] = lead.email
                    if owner_id:
                        props["hubspot_owner_id"] = owner_id
                    record_id, created = client.create_contact(props)
                written = owner_id if created else None
                mirrored = self._linked(lead_id, contact.id, record_id, decision, written,
                                        portal)
                if decision is not None and rep is not None and written is None:
                    # found, not made: the owner goes through the write-back with retries
                    dispatch_service.write_back(self.db, self.container.owner_sync,
                                                account_id, mirrored, rep, decision.id)
        except CrmError as exc:
            return str(exc)
        return None

    def _linked(self, lead_id: str, contact_id: str, record_id: str,
                decision: DecisionRow | None, owner_written: str | None,
                portal: str) -> ObjectRow:
        """In one transaction: our contact mirrors the HubSpot record (or, when another
        contact of ours mirrors it already, the lead and its decision move to that one),
        the lead is synced, and an owner set by the create is remembered as ours."""
        now = datetime.now(UTC)
        with self.db.session() as session:
            contact = session.get(ObjectRow, contact_id)
            twin = session.scalars(select(ObjectRow).where(
                ObjectRow.account_id == contact.account_id, ObjectRow.source == SOURCE,
                ObjectRow.object_type == contact.object_type, ObjectRow.source_id == record_id,
                ObjectRow.id != contact.id)).first()
            lead = session.get(LeadRow, lead_id)
            if twin is not None:
                twin.owner_rep_id = contact.owner_rep_id or twin.owner_rep_id
                twin.owner_assigned_at = contact.owner_assigned_at or twin.owner_assigned_at
                lead.contact_id = twin.id
                if decision is not None:
                    session.get(DecisionRow, decision.id).object_id = twin.id
                contact = twin
            elif contact.source != SOURCE:
                contact.source, contact.source_id = SOURCE, record_id
                contact.source_account, contact.updated_at = portal, now
            lead.crm, lead.crm_record_id = SOURCE, record_id
            lead.crm_sync_status, lead.crm_sync_error = "synced", None
            if owner_written is not None and decision is not None:
                hs_repo.record_owner_writes(session, portal, [
                    (contact.object_type, record_id, owner_written)], now)
                hs_repo.set_sync(session, [decision.id], "synced")
            session.flush()
            session.expunge(contact)
        return contact

    def _mark(self, lead_id: str, status: str, error: str | None, *,
              next_at: datetime | None = None, count: bool = True) -> None:
        with self.db.session() as session:
            lead = session.get(LeadRow, lead_id)
            if lead is None:
                return
            lead.crm, lead.crm_sync_status, lead.crm_sync_error = SOURCE, status, error
            if lead.decision_id:
                decision = session.get(DecisionRow, lead.decision_id)
                if decision is not None and decision.assigned \
                        and decision.sync_status != "synced":
                    hs_repo.set_sync(session, [decision.id], status, error=error,
                                     next_sync_at=next_at, count_attempt=count)

    def _portals(self) -> Any:
        return self.container.extras["hubspot"].portals


def handle_lead_crm(container: Any, events: list[inbox.InboxEvent]) -> dict[str, str | None]:
    """Inbox handler for ``v1_lead_crm``: link the leads whose link failed on the request;
    the lead (and its decision) follow the retry schedule, ``dead`` at its end."""
    crm: LeadCrm = container.extras["lead_crm"]
    results: dict[str, str | None] = {}
    now = datetime.now(UTC)
    for event in events:
        lead_id, account_id = event.payload.get("lead_id"), event.payload.get("account_id")
        error = crm.link(str(account_id), str(lead_id), str(event.payload.get("portal_id")),
                         interactive=False)
        results[event.id] = error
        if error is None:
            continue
        attempt = event.attempts + 1
        if attempt <= len(inbox.RETRY_SCHEDULE):
            crm._mark(str(lead_id), "failed", error,
                      next_at=now + timedelta(seconds=inbox.RETRY_SCHEDULE[attempt - 1]))
        else:
            crm._mark(str(lead_id), "dead", error)
    return results
