"""A small account whose routing measures are counted by hand below: two routers, three
reps (Carl is Partners' backup user), five records, six decisions that reached a rep
choice (one reassignment, one to the backup user, one with nobody available) and one
that did not (trigger not matched), activities before and after the assignments, and SLA
clocks met, breached late, breached while running, and still open.

T0 = 2026-12-01 09:00 UTC; "now" is 2026-12-02 12:00 UTC.

| decision | router   | record | rep  | at          | first touch after (before next) | seconds |
|----------|----------|--------|------|-------------|---------------------------------|---------|
| d1       | Inbound  | c1     | jane | T0          | T0+10m                          | 600     |
| d2       | Inbound  | c2     | bob  | T0+1h       | T0+1h30m                        | 1800    |
| d3       | Inbound  | c3     | jane | T0+2h       | none before d4 (touch at T0+1h) | -       |
| d4       | Inbound  | c3     | bob  | T0+3h       | T0+3h20m (reassignment)         | 1200    |
| d5       | Partners | c4     | carl | Dec 2 08:00 | Dec 2 09:00 (backup user)       | 3600    |
| d6       | Partners | c5     | -    | Dec 2 08:30 | no users available              | -       |
| d7       | Partners | c5     | -    | Dec 2 08:40 | trigger not matched: not counted| -       |

Totals: 6 decisions, 5 assigned, 1 unassigned (16.67 %), 1 backup (1 of 5 = 20 %),
1 reassignment, 4 touched; speed to lead [600, 1200, 1800, 3600]: p50 1500, p90 3060.
SLA: k1 met, k2 stopped late, k3 marked breached, k4 running past its deadline, k5 open:
1 met, 3 breached, 1 open, 25 % met.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from connector.service.admin_users import create_admin
from connector.store.models import ActivityRow, DecisionRow, SlaClockRow, SlaMonitorRow
from tests.conftest import auth
from tests.integration.helpers import make_contact, make_router, make_user

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
PASSWORD = "correct horse battery"


@dataclass
class World:
    account_id: str
    email: str
    reps: dict[str, str]
    routers: dict[str, str]
    records: dict[str, str]


def seed(container, client, make_account, *, clocks: bool = True) -> World:
    account_id = make_account("Acme")
    email = "ops@acme.example"
    create_admin(container.db, email, account_id, PASSWORD)
    headers = auth(account_id)
    reps = {n: make_user(client, headers, f"{n}@acme.example", name=n.title())
            for n in ("jane", "bob", "carl")}
    routers = {"Inbound": make_router(client, headers, [reps["jane"], reps["bob"]]),
               "Partners": make_router(client, headers, [reps["jane"]])}
    for name, router_id in routers.items():
        client.patch(f"/routers/{router_id}", json={"name": name}, headers=headers)
    records = {f"c{i}": make_contact(client, headers, email=f"lead{i}@example.com")
               for i in range(1, 6)}
    h = timedelta(hours=1)
    m = timedelta(minutes=1)
    dec2 = datetime(2026, 12, 2, tzinfo=UTC)
    decisions = [("Inbound", "c1", "jane", T0, "assigned", False),
                 ("Inbound", "c2", "bob", T0 + h, "assigned", False),
                 ("Inbound", "c3", "jane", T0 + 2 * h, "assigned", False),
                 ("Inbound", "c3", "bob", T0 + 3 * h, "assigned", False),
                 ("Partners", "c4", "carl", dec2 + 8 * h, "assigned", True),
                 ("Partners", "c5", None, dec2 + 8 * h + 30 * m, "no_users_available", False),
                 ("Partners", "c5", None, dec2 + 8 * h + 40 * m, "trigger_not_matched",
                  False)]
    touches = [("c1", T0 + 10 * m), ("c2", T0 + 90 * m), ("c3", T0 + h),
               ("c3", T0 + 3 * h + 20 * m), ("c3", T0 + 5 * h), ("c4", dec2 + 9 * h),
               ("c4", dec2 + 10 * h)]
    with container.db.session() as session:
        for router, record, rep, at, outcome, backup in decisions:
            session.add(DecisionRow(
                account_id=account_id, router_id=routers[router], object_id=records[record],
                outcome=outcome, message=outcome, assigned=outcome == "assigned",
                rep_id=reps[rep] if rep else None,
                rep_email=f"{rep}@acme.example" if rep else None,
                reason={"outcome": outcome, "via_backup": backup}, created_at=at))
        for record, at in touches:
            session.add(ActivityRow(account_id=account_id, contact_id=records[record],
                                    type="CALL", occurred_at=at, created_at=at))
    if clocks:
        add_clocks(container, account_id, reps, records)
    return World(account_id, email, reps, routers, records)


def add_clocks(container, account_id, reps, records) -> None:
    """Five clocks of one monitor, as the SLA scanner leaves them: k1 met in time, k2 met
    late, k3 breached (the scanner reassigned c3), k4 running past its deadline, k5
    running with its deadline ahead."""
    m = timedelta(minutes=1)
    dec2 = datetime(2026, 12, 2, tzinfo=UTC)
    rows = [("k1", "jane", "c1", T0, T0 + 15 * m, T0 + 10 * m, "met"),
            ("k2", "bob", "c2", T0 + 60 * m, T0 + 75 * m, T0 + 90 * m, "met"),
            ("k3", "jane", "c3", T0 + 120 * m, T0 + 135 * m, T0 + 180 * m, "breached"),
            ("k4", "carl", "c4", dec2 + 480 * m, dec2 + 570 * m, None, "running"),
            ("k5", "bob", "c3", T0 + 180 * m, datetime(2026, 12, 3, tzinfo=UTC), None,
             "running")]
    with container.db.session() as session:
        session.add(SlaMonitorRow(id="mon_1", account_id=account_id, name="First touch",
                                  condition="first_touch", duration="PT15M", clock="wall"))
        session.flush()
        for key, rep, record, started, deadline, stopped, state in rows:
            session.add(SlaClockRow(
                id=key, account_id=account_id, monitor_id="mon_1", object_id=records[record],
                rep_id=reps[rep], reps=[reps[rep]], started_at=started, deadline_at=deadline,
                stopped_at=stopped, state=state,
                stopped_by={"source": "test", "signal": "touch"} if stopped else None))
