"""SLA monitors that act: clocks started by assignments, stopped by touches, escalated by
a scanner.

- An assignment by a router or a ruleset starts a clock per active monitor attached to
  it (``start_clocks``); a new assignment of the same record under the same monitor
  stops the old clock ("reassigned") and starts a new one.
- A touch (``record_touch``: an activity, a CRM's last-contacted signal, a Salesforce
  Task or Event, a BYOC Accepted) stops the clocks whose condition it meets, and the
  clock keeps what stopped it.
- The scanner (``scan``, run by the in-process executor and by Celery beat) looks at
  clocks whose stored ``next_check_at`` has passed, claims each with a conditional
  UPDATE, and in that same transaction sends the reminders and runs the escalation stage
  due: notify, reassign through the router to a rep who has not had the record (the
  first rep's assignment credited back in the rotation and caps), set the old owner AWAY. A breach
  therefore escalates once, whatever the number of scanners or restarts.

The clock arithmetic is ``connector.core.sla``.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from connector.core import sla as core
from connector.core.availability import period_keys
from connector.core.model import Rep
from connector.store import repositories, reps_repo
from connector.store import sla_repo as repo
from connector.store.db import Database
from connector.store.models import ObjectRow, RepRow, SlaClockRow, SlaMonitorRow, new_id
from connector.store.reads import detached

from .v1_errors import V1Error

log = logging.getLogger(__name__)

#: the conditions each touch signal meets: a meeting is a touch too
SIGNALS: dict[str, tuple[str, ...]] = {
    "touch": (core.Condition.FIRST_TOUCH,),
    "meeting": (core.Condition.FIRST_TOUCH, core.Condition.MEETING_BOOKED),
    "status": (core.Condition.STATUS_CHANGED,),
}
#: HubSpot properties whose change is an SLA signal, by object type (README, "SLA
#: monitors"): "Last Contacted" is set when a call, meeting, sales email, chat or other
#: one-to-one message is logged (not a note, not a marketing email, not the contact's own
#: visit or open, which "Last Engagement Date" would count); "Last Booked Meeting Date"
#: when a meeting is booked; "Lead Status" is the rep's status of the lead
HUBSPOT_SIGNALS: dict[str, dict[str, str]] = {
    "contact": {"notes_last_contacted": "touch",
                "engagements_last_meeting_booked": "meeting",
                "hs_lead_status": "status"},
    "company": {"notes_last_contacted": "touch"},
    "deal": {"notes_last_contacted": "touch"},
}
#: HubSpot's record pages by object type (object type ids of the CRM's URLs)
_HUBSPOT_TYPES = {"contact": "0-1", "company": "0-2", "deal": "0-3", "ticket": "0-5"}

Notify = Callable[..., None]


# -- monitors ---------------------------------------------------------------------------

def _after(text: str | None) -> timedelta:
    """A stage's delay past the deadline; ``PT0S`` (or nothing) is at the deadline."""
    return timedelta(0) if text in (None, "", "PT0S") else core.parse_duration(text)


def to_monitor(row: SlaMonitorRow) -> core.Monitor:
    stages = tuple(core.Stage(after=_after(s.get("after")),
                              notify=tuple(core.Notify(n) for n in s.get("notify", [])),
                              reassign=bool(s.get("reassign")),
                              set_away=bool(s.get("set_away")))
                   for s in row.stages)
    return core.Monitor(core.Condition(row.condition), core.parse_duration(row.duration),
                        core.ClockKind(row.clock), tuple(row.reminders), stages)


def _check_target(session, account_id: str, values: dict[str, Any]) -> None:
    from connector.store import rulesets_repo

    router_id, ruleset_id = values.get("router_id"), values.get("ruleset_id")
    if bool(router_id) == bool(ruleset_id):
        raise V1Error(422, "The request body was invalid or contained errors.",
                      {"router_id": "give a router_id or a ruleset_id, not both"})
    if router_id and repositories.get_router(session, account_id, router_id) is None:
        raise V1Error(422, "The request body was invalid or contained errors.",
                      {"router_id": "no router with this id"})
    if ruleset_id and rulesets_repo.get(session, account_id, ruleset_id) is None:
        raise V1Error(422, "The request body was invalid or contained errors.",
                      {"ruleset_id": "no ruleset with this id"})


def create_monitor(db: Database, account_id: str, values: dict[str, Any]) -> SlaMonitorRow:
    with db.session() as session:
        _check_target(session, account_id, values)
        row = SlaMonitorRow(id=new_id(), account_id=account_id, **values)
        session.add(row)
        session.flush()
        return row


def list_monitors(db: Database, account_id: str) -> list[SlaMonitorRow]:
    with detached(db) as session:
        return repo.monitors(session, account_id)


def get_monitor(db: Database, account_id: str, monitor_id: str) -> SlaMonitorRow:
    with detached(db) as session:
        row = repo.monitor(session, account_id, monitor_id)
    if row is None:
        raise V1Error(404, "SLA monitor not found")
    return row


def update_monitor(db: Database, account_id: str, monitor_id: str,
                   values: dict[str, Any]) -> SlaMonitorRow:
    """Change a monitor. Running clocks keep the deadline they were given; reminders and
    stages follow the monitor as it is when they come due."""
    with db.session() as session:
        row = repo.monitor(session, account_id, monitor_id)
        if row is None:
            raise V1Error(404, "SLA monitor not found")
        if "router_id" in values or "ruleset_id" in values:
            target = {"router_id": row.router_id, "ruleset_id": row.ruleset_id}
            target.update({k: v for k, v in values.items() if k in target})
            _check_target(session, account_id, target)
        for key, value in values.items():
            setattr(row, key, value)
        session.flush()
        return row


def delete_monitor(db: Database, account_id: str, monitor_id: str) -> None:
    """Delete a monitor and, with it, its clocks."""
    with db.session() as session:
        row = repo.monitor(session, account_id, monitor_id)
        if row is None:
            raise V1Error(404, "SLA monitor not found")
        session.delete(row)


# -- clocks -----------------------------------------------------------------------------

def _rep(session, account_id: str, rep_id: str | None) -> Rep | None:
    if not rep_id:
        return None
    return repositories.reps_by_id(session, account_id, [rep_id]).get(rep_id)


def _schedule(clock: SlaClockRow, monitor: core.Monitor, rep: Rep | None,
              now: datetime) -> core.Due:
    due = core.due(monitor, start=clock.started_at, deadline_at=clock.deadline_at, rep=rep,
                   reminders_sent=clock.reminders_sent, stages_done=clock.stages_done,
                   now=now)
    clock.next_check_at = due.next_check
    return due


def start_clocks(session, account_id: str, object_id: str, rep_id: str | None,
                 now: datetime, *, router_id: str | None = None,
                 ruleset_id: str | None = None, decision_id: str | None = None,
                 monitors: list[SlaMonitorRow] | None = None,
                 via_router_id: str | None = None) -> list[SlaClockRow]:
    """Start the clocks of the monitors attached to ``router_id`` or ``ruleset_id`` for a
    record just assigned to ``rep_id``, in the assignment's transaction. A reassignment
    goes through the router that assigned: ``router_id``, or ``via_router_id`` for a
    ruleset's rule that assigned through a router."""
    if monitors is None:
        monitors = repo.attached(session, account_id, router_id=router_id,
                                 ruleset_id=ruleset_id)
    if not monitors or not rep_id:
        return []
    rep = _rep(session, account_id, rep_id)
    old = {c.monitor_id: c for c in repo.open_clocks(session, account_id, object_id,
                                                     [m.id for m in monitors])}
    started = []
    for monitor_row in monitors:
        earlier = old.get(monitor_row.id)
        if earlier is not None:
            _stop(earlier, "stopped", now, {"source": "routing", "signal": "reassigned",
                                             "at": now.isoformat(),
                                             "detail": {"decision_id": decision_id}})
        monitor = to_monitor(monitor_row)
        clock = SlaClockRow(
            id=new_id(), account_id=account_id, monitor_id=monitor_row.id,
            object_id=object_id, router_id=router_id or via_router_id,
            decision_id=decision_id,
            rep_id=rep_id, reps=[rep_id], started_at=now,
            deadline_at=core.deadline(monitor, now, rep), reminders_sent=0, stages_done=0,
            state="running", events=[], version=0, created_at=now, updated_at=now)
        _schedule(clock, monitor, rep, now)
        session.add(clock)
        started.append(clock)
    session.flush()
    return started


def start_many(session, account_id: str, router_id: str,
               assigned: list[tuple[str, str, str]], now: datetime) -> None:
    """``start_clocks`` for a batch of (object id, rep id, decision id) assigned by one
    router, looking the monitors up once."""
    if not assigned:
        return
    monitors = repo.attached(session, account_id, router_id=router_id, ruleset_id=None)
    if not monitors:
        return
    for object_id, rep_id, decision_id in assigned:
        start_clocks(session, account_id, object_id, rep_id, now, router_id=router_id,
                     decision_id=decision_id, monitors=monitors)


def _stop(clock: SlaClockRow, state: str, at: datetime, by: dict[str, Any]) -> None:
    if clock.state == "running":
        clock.state = state
        clock.next_check_at = None
    clock.stopped_at = at
    clock.stopped_by = by
    clock.version += 1


def record_touch(session, account_id: str, object_id: str, signal: str, at: datetime, *,
                 source: str, detail: dict[str, Any] | None = None,
                 started_by: date | None = None) -> int:
    """Stop the clocks of ``object_id`` whose condition ``signal`` ("touch", "meeting",
    "status") meets, in the caller's transaction. A touch from before a clock started
    (before the assignment) does not stop it; with ``started_by`` (a signal that has only
    a date), neither does one on a clock started after that date. Returns how many clocks
    it stopped."""
    conditions = SIGNALS.get(signal, ())
    stopped = 0
    for clock in repo.open_clocks(session, account_id, object_id):
        if clock.stopped_by is not None or at < clock.started_at:
            continue
        if started_by is not None and clock.started_at.date() > started_by:
            continue
        monitor = session.get(SlaMonitorRow, clock.monitor_id)
        if monitor is None or monitor.condition not in conditions:
            continue
        _stop(clock, "met", at, {"source": source, "signal": signal, "at": at.isoformat(),
                                 "late": at > clock.deadline_at, "detail": detail or {}})
        stopped += 1
    if stopped:
        session.flush()
    return stopped


def touch(db: Database, account_id: str, object_id: str, signal: str, at: datetime, *,
          source: str, detail: dict[str, Any] | None = None) -> int:
    """``record_touch`` in a transaction of its own."""
    with db.session() as session:
        return record_touch(session, account_id, object_id, signal, at, source=source,
                            detail=detail)


def touch_by_source(db: Database, account_id: str, source: str, object_type: str,
                    source_id: str, signal: str, at: datetime,
                    detail: dict[str, Any] | None = None) -> int:
    """A touch on a CRM record known by its CRM id; nothing when it was never routed."""
    with db.session() as session:
        obj = repositories.get_object_by_source(session, account_id, source, object_type,
                                                source_id)
        if obj is None:
            return 0
        return record_touch(session, account_id, obj.id, signal, at, source=source,
                            detail=detail)


def _millis(value: Any) -> datetime | None:
    try:
        return datetime.fromtimestamp(int(value) / 1000, UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def hubspot_touches(db: Database, account_id: str, object_type: str,
                    payloads: list[dict[str, Any]]) -> int:
    """The SLA signals in a batch of HubSpot events (``propertyChange`` of a property of
    ``HUBSPOT_SIGNALS``, from webhooks or the journal). The time is the property's value
    when it is a timestamp (when the activity happened), else the event's."""
    signals = HUBSPOT_SIGNALS.get(object_type, {})
    stopped = 0
    for p in payloads:
        signal = signals.get(p.get("property_name") or "")
        if p.get("action") != "propertyChange" or signal is None \
                or p.get("property_value") in (None, ""):
            continue
        at = (_millis(p.get("property_value")) if signal != "status" else None) \
            or _millis(p.get("occurred_at")) or datetime.now(UTC)
        stopped += touch_by_source(db, account_id, "hubspot", object_type,
                                   str(p.get("object_id")), signal, at,
                                   {"property": p.get("property_name"),
                                    "event_id": p.get("event_id")})
    return stopped


#: Salesforce activity records an Outbound Message may carry, and the signal of each: an
#: Event is a meeting on the calendar; a Task counts once it is completed (an open Task
#: is a reminder to call, not a call)
SALESFORCE_ACTIVITIES = {"Event": "meeting", "Task": "touch"}
#: the record a Task's or Event's WhoId points at, by its key prefix
_WHO_PREFIXES = {"00Q": "lead", "003": "contact"}


def _sf_time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        at = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return at if at.tzinfo is not None else None


def salesforce_activity(db: Database, account_id: str, sobject: str,
                        record: dict[str, Any]) -> int:
    """A Task or Event from an Outbound Message: a touch on the Lead or Contact its
    ``WhoId`` names, at its ``CompletedDateTime``/``CreatedDate`` (else now)."""
    who = str(record.get("WhoId") or "")
    object_type = _WHO_PREFIXES.get(who[:3])
    if object_type is None:
        return 0
    if sobject == "Task" and str(record.get("IsClosed", "")).lower() != "true" \
            and record.get("Status") != "Completed":
        return 0
    at = _sf_time(record.get("CompletedDateTime")) or _sf_time(record.get("CreatedDate")) \
        or datetime.now(UTC)
    return touch_by_source(db, account_id, "salesforce", object_type, who,
                           SALESFORCE_ACTIVITIES[sobject], at,
                           {"sobject": sobject, "id": record.get("Id")})


def salesforce_last_activity(db: Database, account_id: str, object_type: str | None,
                             record: dict[str, Any]) -> int:
    """``LastActivityDate`` on a Lead or Contact: a date without a time, so it counts for
    the clocks started on or before that date, at the time the message arrives."""
    try:
        day = date.fromisoformat(str(record.get("LastActivityDate"))[:10])
    except ValueError:
        return 0
    if object_type is None or not record.get("Id"):
        return 0
    now = datetime.now(UTC)
    with db.session() as session:
        obj = repositories.get_object_by_source(session, account_id, "salesforce",
                                                object_type, str(record["Id"]))
        if obj is None:
            return 0
        return record_touch(session, account_id, obj.id, "touch", now, source="salesforce",
                            detail={"field": "LastActivityDate", "value": day.isoformat()},
                            started_by=day)


# -- the clock as the API and console show it -------------------------------------------

def clock_view(clock: SlaClockRow, monitor: SlaMonitorRow | None, rep: Rep | None,
               now: datetime) -> dict[str, Any]:
    """A clock as JSON: its deadline, the SLA left, its state and what stopped it."""
    kind = core.ClockKind(monitor.clock) if monitor is not None else core.ClockKind.WALL
    end = clock.stopped_at if clock.stopped_at is not None else now
    left = core.left(clock.deadline_at, end, rep, kind)
    return {"id": clock.id, "monitor_id": clock.monitor_id,
            "monitor_name": monitor.name if monitor else None,
            "condition": monitor.condition if monitor else None, "clock": kind.value,
            "object_id": clock.object_id, "rep_id": clock.rep_id, "reps": list(clock.reps),
            "state": clock.state, "started_at": clock.started_at.isoformat(),
            "deadline_at": clock.deadline_at.isoformat(),
            "sla_left_seconds": int(left.total_seconds()),
            "next_check_at": clock.next_check_at.isoformat() if clock.next_check_at
            else None,
            "reminders_sent": clock.reminders_sent, "stages_done": clock.stages_done,
            "stopped_at": clock.stopped_at.isoformat() if clock.stopped_at else None,
            "stopped_by": clock.stopped_by, "events": list(clock.events)}


def clocks_for(db: Database, account_id: str, object_id: str,
               now: datetime) -> list[dict[str, Any]]:
    with detached(db) as session:
        clocks = repo.clocks_of(session, account_id, object_id)
        return _views(session, account_id, clocks, now)


def recent(db: Database, account_id: str, now: datetime,
           limit: int = 100) -> list[dict[str, Any]]:
    with detached(db) as session:
        return _views(session, account_id, repo.recent_clocks(session, account_id, limit),
                      now)


def _views(session, account_id: str, clocks: list[SlaClockRow],
           now: datetime) -> list[dict[str, Any]]:
    monitors = {m.id: m for m in repo.monitors(session, account_id)}
    reps = repositories.reps_by_id(session, account_id, [c.rep_id for c in clocks
                                                         if c.rep_id])
    return [clock_view(c, monitors.get(c.monitor_id), reps.get(c.rep_id or ""), now)
            for c in clocks]


# -- the scanner ------------------------------------------------------------------------

@dataclass
class ScanResult:
    reminders: int = 0
    stages: int = 0
    reassigned: int = 0
    #: write-backs to do after the commit: (account id, object row, rep, decision id,
    #: router id)
    write_backs: list[tuple[str, ObjectRow, Rep, str, str]] = field(default_factory=list)


def _record_ref(obj: ObjectRow | None, object_id: str) -> dict[str, Any]:
    if obj is None:
        return {"object_id": object_id}
    return {"object_id": obj.id, "object_type": obj.object_type, "source": obj.source,
            "source_id": obj.source_id, "source_account": obj.source_account}


def record_link(obj: ObjectRow | None) -> str | None:
    """The record's page in its CRM, where that is known without asking the CRM."""
    if obj is None or not obj.source_id:
        return None
    if obj.source == "hubspot" and obj.source_account and obj.object_type in _HUBSPOT_TYPES:
        return (f"https://app.hubspot.com/contacts/{obj.source_account}/record/"
                f"{_HUBSPOT_TYPES[obj.object_type]}/{obj.source_id}")
    return None


def _notify(session, notify: Notify, clock: SlaClockRow, monitor: SlaMonitorRow,
            obj: ObjectRow | None, owner: RepRow | None, kind: str, recipients: list[str],
            left: timedelta, stage: int | None) -> None:
    wanted = list(dict.fromkeys(r for r in recipients if r))
    if not wanted:
        return
    notify(session, account_id=clock.account_id, kind=kind,
           record_ref=_record_ref(obj, clock.object_id), rep_id=clock.rep_id,
           recipients=wanted,
           payload={"record_url": record_link(obj),
                    "owner_name": owner.name if owner else None,
                    "owner_email": owner.email if owner else None,
                    "sla_left_seconds": int(left.total_seconds()), "stage": stage,
                    "monitor_id": monitor.id, "clock_id": clock.id})


def _set_away(session, rep: RepRow) -> None:
    """The /v1 ``AWAY`` presence: unavailable to the routers, AWAY to /v1."""
    profile = reps_repo.profile_for_update(session, rep)
    profile.status = "AWAY"
    rep.status = "unavailable"


def _reassign(db: Database, session, clock: SlaClockRow, monitor: core.Monitor,
              now: datetime, result: ScanResult) -> str:
    """Reassign through the router that assigned, to a rep who has not had the record;
    the clock restarts for the new owner. Returns what happened, for the clock's log."""
    from . import dispatch as dispatch_service

    if not clock.router_id:
        return "not reassigned: the record was not assigned by a router"
    if repositories.get_router(session, clock.account_id, clock.router_id) is None:
        return "not reassigned: the router that assigned it no longer exists"
    obj = repositories.get_object(session, clock.account_id, clock.object_id)
    if obj is None:
        return "not reassigned: the record no longer exists"
    if obj.object_type == "conversation":
        return "not reassigned: a BYOC conversation's work is offered through Omni-Channel"
    previous, first_start = clock.rep_id, clock.started_at
    owner = obj.owner_rep_id
    obj.owner_rep_id = None  # the SLA overrides the router's overwrite setting
    outcome = dispatch_service.dispatch(
        db, clock.account_id, clock.router_id, clock.object_id, now=now,
        exclude_rep_ids=list(clock.reps), session=session, start_sla=False)
    decision = outcome.decision
    if not decision.assigned or decision.rep is None:
        obj.owner_rep_id = owner
        return f"not reassigned: {decision.outcome.message}"
    old = _rep(session, clock.account_id, previous)
    if old is not None:  # the first rep's assignment no longer counts against their caps
        repo.uncount_assignment(session, clock.router_id, old.id,
                                period_keys(old, first_start))
        _credit_rotation(session, clock, old.id, decision, now)
    new = decision.rep
    clock.rep_id, clock.decision_id = new.id, outcome.decision_id
    clock.reps = [*clock.reps, new.id]
    clock.started_at, clock.reminders_sent = now, 0
    clock.deadline_at = core.deadline(monitor, now, new)
    result.reassigned += 1
    if obj.source in ("hubspot", "salesforce"):  # written back after the commit
        result.write_backs.append((clock.account_id, obj, new, outcome.decision_id,
                                   clock.router_id))
    return f"reassigned to {new.email}"


def _credit_rotation(session, clock: SlaClockRow, rep_id: str, decision: Any,
                     now: datetime) -> None:
    """Give the late rep their turn back; the router row is locked by the reassignment's
    dispatch. Whatever the model, the first decision is marked credited, so a
    load-balanced router's window stops counting it as the rep's load. Then:

    - a router with a fairness policy: one credit in its ledger
      (``routing_depth.credit_reassigned``), paid by the policy;
    - weighted: what the pick cost, given back (``core.credit_back``);
    - round robin: one credit in the same ledger, which the rotation pays as a turn
      outside the walk, so nobody else's turn moves (``dispatch`` honours it).
    """
    from connector.core.distribution import RotationState
    from connector.core.model import DistributionModel
    from connector.store.models import DecisionRow

    from . import routing_depth

    first = session.get(DecisionRow, clock.decision_id) if clock.decision_id else None
    if first is not None and first.rep_id == rep_id:
        first.credited_at = now
    router_row = repositories.get_router(session, clock.account_id, clock.router_id or "")
    router = repositories.router_to_domain(router_row) if router_row else None
    if router is None or router.settings is None:
        return
    depth = routing_depth.depth_settings(router_row.settings)
    if depth is None or depth.fairness is None:
        depth = routing_depth.OWED_TURNS \
            if router.settings.model == DistributionModel.ROUND_ROBIN else None
    if depth is not None:
        routing_depth.credit_reassigned(session, clock.account_id, router_row, depth, rep_id,
                                        decision, {m.rep_id for m in router.settings.members})
        return
    state = RotationState(router_row.rr_last_position, dict(router_row.current_weights or {}))
    after = core.credit_back(router.settings.model, state, rep_id, router.settings.members)
    router_row.current_weights = dict(after.current_weights)


def _run_stage(db: Database, session, notify: Notify, clock: SlaClockRow,
               monitor_row: SlaMonitorRow, monitor: core.Monitor, index: int,
               obj: ObjectRow | None, now: datetime, result: ScanResult) -> None:
    stage = monitor.stages[index]
    owner_row = reps_repo.get(session, clock.account_id, clock.rep_id) \
        if clock.rep_id else None
    rep = repositories.rep_to_domain(owner_row) if owner_row else None
    left = core.left(clock.deadline_at, now, rep, monitor.clock)
    recipients = []
    if core.Notify.OWNER in stage.notify and owner_row is not None:
        recipients.append(owner_row.email)
    if core.Notify.MANAGER in stage.notify:
        recipients.extend(monitor_row.manager_emails or [])
    _notify(session, notify, clock, monitor_row, obj, owner_row, "sla.breach", recipients,
            left, index + 1)
    event: dict[str, Any] = {"at": now.isoformat(), "stage": index + 1, "kind": "breach",
                             "rep_id": clock.rep_id}
    if stage.set_away and owner_row is not None:
        _set_away(session, owner_row)
        event["set_away"] = owner_row.email
    if stage.reassign:
        event["reassign"] = _reassign(db, session, clock, monitor, now, result)
        if clock.rep_id != event["rep_id"]:
            new_owner = reps_repo.get(session, clock.account_id, clock.rep_id)
            _notify(session, notify, clock, monitor_row, obj, new_owner, "sla.reassigned",
                    [new_owner.email if new_owner else "",
                     owner_row.email if owner_row else "",
                     *(monitor_row.manager_emails if core.Notify.MANAGER in stage.notify
                       else [])],
                    monitor.duration, index + 1)
    clock.events = [*clock.events, event]
    clock.stages_done = index + 1
    result.stages += 1


def _process(db: Database, session, clock_id: str, now: datetime, notify: Notify,
             result: ScanResult) -> None:
    clock = session.get(SlaClockRow, clock_id)
    if clock is None or clock.state != "running" or clock.next_check_at is None \
            or clock.next_check_at > now:
        return
    if not repo.claim(session, clock):
        return  # another scanner has it
    monitor_row = session.get(SlaMonitorRow, clock.monitor_id)
    if monitor_row is None or not monitor_row.active:
        _stop(clock, "stopped", now, {"source": "sla", "signal": "monitor inactive",
                                      "at": now.isoformat(), "detail": {}})
        return
    monitor = to_monitor(monitor_row)
    rep = _rep(session, clock.account_id, clock.rep_id)
    due = core.due(monitor, start=clock.started_at, deadline_at=clock.deadline_at, rep=rep,
                   reminders_sent=clock.reminders_sent, stages_done=clock.stages_done,
                   now=now)
    obj = repositories.get_object(session, clock.account_id, clock.object_id)
    if due.reminders:
        owner = reps_repo.get(session, clock.account_id, clock.rep_id) \
            if clock.rep_id else None
        left = core.left(clock.deadline_at, now, rep, monitor.clock)
        for index in due.reminders:
            _notify(session, notify, clock, monitor_row, obj, owner, "sla.reminder",
                    [owner.email if owner else ""], left, None)
            clock.events = [*clock.events, {"at": now.isoformat(), "kind": "reminder",
                                            "fraction": monitor.reminders[index],
                                            "rep_id": clock.rep_id}]
        clock.reminders_sent = due.reminders[-1] + 1
        result.reminders += len(due.reminders)
    if due.stage is not None:
        _run_stage(db, session, notify, clock, monitor_row, monitor, due.stage, obj, now,
                   result)
        rep = _rep(session, clock.account_id, clock.rep_id)
    after = _schedule(clock, monitor, rep, now)
    if after.next_check is None and after.breached:
        clock.state = "breached"
    clock.updated_at = now


def clock_of(db: Database, account_id: str, clock_id: str,
             now: datetime) -> dict[str, Any] | None:
    """One of the account's clocks as :func:`clock_view` shows it, or None."""
    with detached(db) as session:
        clock = session.get(SlaClockRow, clock_id)
        if clock is None or clock.account_id != account_id:
            return None
        return _views(session, account_id, [clock], now)[0]


def accept(db: Database, account_id: str, clock_id: str, now: datetime, *,
           by: str) -> bool:
    """The owner (or a manager) accepts the record from the notification's link: a touch
    that stops this clock, whatever its condition. False when it was no longer running."""
    with db.session() as session:
        clock = session.get(SlaClockRow, clock_id)
        if clock is None or clock.account_id != account_id or clock.state != "running":
            return False
        if not repo.claim(session, clock):
            return False
        _stop(clock, "met", now, {"source": "console", "signal": "accepted",
                                  "at": now.isoformat(), "late": now > clock.deadline_at,
                                  "detail": {"by": by, "rep_id": clock.rep_id}})
        return True


def run_next_stage(db: Database, account_id: str, clock_id: str, now: datetime, *,
                   notify: Notify | None = None, sync: Any = None,
                   salesforce: SalesforceWrite | None = None) -> str | None:
    """Run the clock's next escalation stage now, as the scanner would at its time (the
    notification's "Reassign" link). What the stage did, or None when the clock is not
    running or has no stage left."""
    notify = notify or default_notify
    done = ScanResult()
    with db.session() as session:
        clock = session.get(SlaClockRow, clock_id)
        if clock is None or clock.account_id != account_id or clock.state != "running":
            return None
        monitor_row = session.get(SlaMonitorRow, clock.monitor_id)
        monitor = to_monitor(monitor_row) if monitor_row is not None else None
        if monitor is None or clock.stages_done >= len(monitor.stages):
            return None
        if not repo.claim(session, clock):
            return None  # a scanner has it this instant
        obj = repositories.get_object(session, clock.account_id, clock.object_id)
        _run_stage(db, session, notify, clock, monitor_row, monitor, clock.stages_done, obj,
                   now, done)
        clock.events = [*clock.events[:-1], {**clock.events[-1], "by": "console"}]
        after = _schedule(clock, monitor, _rep(session, clock.account_id, clock.rep_id), now)
        if after.next_check is None and after.breached:
            clock.state = "breached"
        clock.updated_at = now
        what = clock.events[-1].get("reassign") or "notified"
    _write_back(db, sync, done, salesforce)
    return what


#: writes a reassigned Salesforce record's OwnerId: (account id, object row, rep,
#: decision id, router id) -> the error, or None (``salesforce_records.write_owner``)
SalesforceWrite = Callable[[str, ObjectRow, Rep, str, str], str | None]


def _write_back(db: Database, sync: Any, result: ScanResult,
                salesforce: SalesforceWrite | None = None) -> None:
    """The reassignments' owners, to the CRM each record came from. HubSpot's go through
    ``sync`` (the dispatch write-back); Salesforce's through ``salesforce``, which keeps
    and retries a failed write itself."""
    from . import dispatch as dispatch_service

    for account_id, obj, rep, decision_id, router_id in result.write_backs:
        if obj.source == "salesforce":
            if salesforce is not None:
                salesforce(account_id, obj, rep, decision_id, router_id)
        elif sync is not None:
            dispatch_service.write_back(db, sync, account_id, obj, rep, decision_id)


def salesforce_writer(container: Any) -> SalesforceWrite:
    """The container's Salesforce OwnerId write, for ``scan`` and ``run_next_stage``."""
    from .salesforce_records import write_owner

    return functools.partial(write_owner, container)


def with_links(notify: Notify, public_url: str | None) -> Notify:
    """``notify`` with the console's Accept and Reassign links in each payload, when the
    connector knows its public address (``CONNECTOR_PUBLIC_URL``). Both open a console
    page behind the sign-in, where a POST with the CSRF token acts: a link in a chat
    message is fetched by previews and scanners, so it must never change anything."""
    if not public_url:
        return notify
    base = public_url.rstrip("/")

    def linked(session, **kwargs: Any) -> None:
        payload = dict(kwargs.get("payload") or {})
        if payload.get("clock_id"):
            page = f"{base}/admin/sla/clocks/{payload['clock_id']}"
            payload.update(accept_url=f"{page}?action=accept",
                           reassign_url=f"{page}?action=reassign")
        notify(session, **{**kwargs, "payload": payload})

    return linked


def default_notify(session, **kwargs: Any) -> None:
    from .notifications import enqueue_notification

    enqueue_notification(session, **kwargs)


def scan(db: Database, now: datetime, *, notify: Notify | None = None,
         sync: Any = None, salesforce: SalesforceWrite | None = None,
         limit: int = 200) -> ScanResult:
    """One round: every clock due at ``now`` (at most ``limit``), each claimed and acted
    on in a transaction of its own; then the reassignments' write-backs to the CRM
    (HubSpot's through ``sync``, Salesforce's through ``salesforce``)."""
    notify = notify or default_notify
    result = ScanResult()
    with detached(db) as session:
        ids = repo.due_ids(session, now, limit)
    for clock_id in ids:
        done = ScanResult()  # counted only once its transaction has committed
        try:
            with db.session() as session:
                _process(db, session, clock_id, now, notify, done)
        except Exception:  # noqa: BLE001 - one clock's failure must not stop the others
            log.exception("SLA clock %s failed; it is looked at again next round", clock_id)
            continue
        result.reminders += done.reminders
        result.stages += done.stages
        result.reassigned += done.reassigned
        result.write_backs.extend(done.write_backs)
    _write_back(db, sync, result, salesforce)
    return result


def scan_now(container: Any) -> int:
    """One scan at the container's time (``extras["now"]`` in tests) with its write-back
    and notifier (``extras["notify"]``); how many reminders and stages it ran."""
    clock = container.extras.get("now")
    now = clock() if clock is not None else datetime.now(UTC)
    result = scan(container.db, now, notify=with_links(
        container.extras.get("notify") or default_notify, container.config.public_url),
        sync=container.owner_sync, salesforce=salesforce_writer(container))
    return result.reminders + result.stages
