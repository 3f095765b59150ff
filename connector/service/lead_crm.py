"""A ``POST /v1/leads`` lead in the account's CRM: found by email or created there, and
its owner written.

HubSpot (the account has a connected portal). A lead whose contact already came from
HubSpot is written back by ``OwnerSync`` like any assignment. For a lead that is only
ours:

1. the rep's HubSpot owner id is looked up (cached, as for every write-back);
2. the contact is searched by email (CRM search); when there is none it is created with
   ``hubspot_owner_id`` already set, so a new contact takes one call and no write-back;
   HubSpot's "Contact already exists" (a contact created moments ago is not searchable
   yet) counts as found;
3. our contact becomes the mirror of that HubSpot record (``source``/``source_id``), so
   HubSpot's own events about it, and later write-backs, find it;
4. a contact that was found gets its owner through ``OwnerSync`` - the write-back of
   ``POST /dispatch/router``, with its retries (``hubspot_owner_sync`` events).

Salesforce (the account has a connected org and no portal). The rep's user id is found as
for Outbound Messages (``salesforce_records``); a lead whose contact was mirrored from
Salesforce has its record's OwnerId written (sObject Collections, ``Sforce-Auto-Assign:
FALSE``); any other lead is found as an unconverted Lead by email, or created as a Lead
with its OwnerId in the same call (``LastName``/``Company`` that the lead lacks are sent
as ``[not provided]``, as Web-to-Lead does). The Lead is linked to the lead, not mirrored
as its contact: a Salesforce Lead is not a contact.

On the request, all of it shares one deadline: the interactive client's, the one
``POST /dispatch/router`` bounds its write with. A failure (a slow or failing CRM, a
portal validation rule or a required field refusing the create) never loses the lead or
its owner: the lead says ``failed`` with the error, and a ``v1_lead_crm`` inbox event
runs the same steps on the inbox's retry schedule, up to its dead letter.
"""

from __future__ import annotations

from contextlib import nullcontext
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from connector.core.errors import CrmError, PermanentCrmError
from connector.core.ports import OwnerWrite
from connector.jobs import inbox
from connector.store import hubspot_repository as hs_repo
from connector.store import leads_repo as repo
from connector.store import sources_repo
from connector.store.db import Database
from connector.store.models import DecisionRow, LeadRow, ObjectRow, RepRow
from connector.store.reads import detached
from connector.store.repositories import rep_to_domain

from . import dispatch as dispatch_service
from .hubspot_owner_sync import SOURCE, hubspot_owner_id, queue_retries

KIND = "v1_lead_crm"
SALESFORCE = "salesforce"
#: how long a request waits on Salesforce, as on HubSpot's interactive client
INTERACTIVE_SECONDS = 10.0
#: a lead's fields as Salesforce Lead fields; the required ones a lead may lack
LEAD_FIELDS = {"email": "Email", "first_name": "FirstName", "last_name": "LastName",
               "phone": "Phone", "company": "Company", "job_title": "Title",
               "country": "Country", "source": "LeadSource"}
NOT_PROVIDED = "[not provided]"
SOBJECTS = {"lead": "Lead", "contact": "Contact", "case": "Case"}
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

    def crm_of(self, account_id: str) -> tuple[str, str] | None:
        """``(crm, key)`` the account's leads go to: its first HubSpot portal, else its
        first Salesforce org; None without either."""
        with self.db.read_session() as session:
            keys = sources_repo.keys_for_account(session, account_id)
        for crm in (SOURCE, SALESFORCE):
            found = next((key for source, key in keys if source == crm), None)
            if found is not None:
                return crm, found
        return None

    def __call__(self, account_id: str, lead_id: str) -> str | None:
        """Link a freshly routed lead on the request; the error, or None."""
        target = self.crm_of(account_id)
        if target is None:
            return None
        crm, key = target
        error = self.link(account_id, lead_id, crm, key, interactive=True)
        if error is not None:
            next_at = queue_retries(self.db, [inbox.NewEvent(
                crm, key, f"lead-crm:{lead_id}", KIND,
                {"lead_id": lead_id, "account_id": account_id, "crm": crm, "key": key})],
                [error])
            self._mark(lead_id, crm, "failed", error, next_at=next_at)
        return error

    def link(self, account_id: str, lead_id: str, crm: str, key: str, *,
             interactive: bool) -> str | None:
        """Find or create the lead in ``crm`` and write its owner; the error, or None."""
        loaded = self._load(account_id, lead_id)
        if loaded is None:
            return None
        if crm == SALESFORCE:
            return self._link_salesforce(account_id, key, *loaded, interactive=interactive)
        return self._link_hubspot(account_id, key, *loaded, interactive=interactive)

    def _load(self, account_id: str, lead_id: str) -> tuple[Any, ...] | None:
        """The lead, its contact, its decision and rep; None when there is nothing to do."""
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
        return lead, contact, decision, rep

    def _link_hubspot(self, account_id: str, portal: str, lead: LeadRow, contact: ObjectRow,
                      decision: DecisionRow | None, rep: Any, *,
                      interactive: bool) -> str | None:
        """Steps 1-4 for one lead; the error of steps 1-3, or None (a failed owner write is
        reported and retried by ``OwnerSync`` itself)."""
        lead_id = lead.id
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

    def _link_salesforce(self, account_id: str, org: str, lead: LeadRow,
                         contact: ObjectRow, decision: DecisionRow | None, rep: Any, *,
                         interactive: bool) -> str | None:
        from .salesforce_records import _owner_id, write_one

        ports = self.container.extras.get("salesforce_ports")
        writer = getattr(ports, "writer", None)
        if writer is None or not hasattr(writer, "create_lead"):
            return "Salesforce write-back is not configured (SALESFORCE_CLIENT_ID)"
        if contact.source not in ("api", SALESFORCE):
            return None
        try:
            limit = writer.time_limit(INTERACTIVE_SECONDS) if interactive else nullcontext()
            with limit:
                router_id = decision.router_id if decision is not None else None
                # a router's destination (a queue) decides the owner, as for Outbound Messages
                owner = _owner_id(self.container, ports, router_id, rep) if rep else None
                created = False
                if contact.source == SALESFORCE and contact.source_id:
                    sobject, record_id = SOBJECTS.get(contact.object_type, "Lead"), \
                        contact.source_id
                else:
                    sobject, record_id = "Lead", writer.find_lead_by_email(lead.email)
                    if record_id is None:
                        fields = {LEAD_FIELDS[k]: str(v) for k, v in lead.fields.items()
                                  if k in LEAD_FIELDS and v not in (None, "")}
                        fields["Email"] = lead.email
                        fields.setdefault("LastName", NOT_PROVIDED)
                        fields.setdefault("Company", NOT_PROVIDED)
                        if owner:
                            fields["OwnerId"] = owner
                        record_id, created = writer.create_lead(fields), True
                self._set_record(lead.id, SALESFORCE, record_id)
                if owner and not created and decision is not None:
                    write_one(writer, OwnerWrite(sobject, record_id, owner))
        except CrmError as exc:
            return str(exc)
        with self.db.session() as session:
            row = session.get(LeadRow, lead.id)
            row.crm_sync_status, row.crm_sync_error = "synced", None
            if decision is not None and rep is not None:
                hs_repo.set_sync(session, [decision.id], "synced")
        return None

    def _set_record(self, lead_id: str, crm: str, record_id: str) -> None:
        with self.db.session() as session:
            row = session.get(LeadRow, lead_id)
            row.crm, row.crm_record_id = crm, record_id

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

    def _mark(self, lead_id: str, crm: str, status: str, error: str | None, *,
              next_at: datetime | None = None, count: bool = True) -> None:
        with self.db.session() as session:
            lead = session.get(LeadRow, lead_id)
            if lead is None:
                return
            lead.crm, lead.crm_sync_status, lead.crm_sync_error = crm, status, error
            if lead.decision_id:
                decision = session.get(DecisionRow, lead.decision_id)
                if decision is not None and decision.assigned \
                        and decision.sync_status != "synced":
                    hs_repo.set_sync(session, [decision.id], status, error=error,
                                     next_sync_at=next_at, count_attempt=count)

    def _portals(self) -> Any:  # wired with HubSpot, which is always wired
        return self.container.extras["hubspot"].portals


def handle_lead_crm(container: Any, events: list[inbox.InboxEvent]) -> dict[str, str | None]:
    """Inbox handler for ``v1_lead_crm``: link the leads whose link failed on the request;
    the lead (and its decision) follow the retry schedule, ``dead`` at its end."""
    crm: LeadCrm = container.extras["lead_crm"]
    results: dict[str, str | None] = {}
    now = datetime.now(UTC)
    for event in events:
        lead_id, account_id = event.payload.get("lead_id"), event.payload.get("account_id")
        crm_name = str(event.payload.get("crm") or SOURCE)
        error = crm.link(str(account_id), str(lead_id), crm_name, str(event.payload.get("key")),
                         interactive=False)
        results[event.id] = error
        if error is None:
            continue
        attempt = event.attempts + 1
        if attempt <= len(inbox.RETRY_SCHEDULE):
            crm._mark(str(lead_id), crm_name, "failed", error,
                      next_at=now + timedelta(seconds=inbox.RETRY_SCHEDULE[attempt - 1]))
        else:
            crm._mark(str(lead_id), crm_name, "dead", error)
    return results
