"""The end of the retry schedule: a write-back that keeps failing walks every step, becomes
a dead letter (inbox and decision), is listed as failed, and replays once HubSpot accepts."""

from __future__ import annotations

import json

import pytest
import requests
from click.testing import CliRunner
from sqlalchemy import select

from adapters.hubspot.fake_server import make_event
from connector.cli import main
from connector.config import Config
from connector.jobs import inbox
from connector.store.models import DecisionRow, InboxEventRow, ObjectRow

from .conftest import make_router
from .harness import Running, wait_for


def _sync_event(service) -> InboxEventRow:
    with service.container.db.session() as session:
        return session.scalars(select(InboxEventRow).where(
            InboxEventRow.kind == "hubspot_owner_sync")).one()


def _decision(service) -> DecisionRow:
    with service.container.db.session() as session:
        return session.scalars(select(DecisionRow).where(DecisionRow.assigned.is_(True))).one()


@pytest.fixture
def service(fake, database_url, monkeypatch):
    """The connector with ``CONNECTOR_RETRY_SCHEDULE=0.1,0.1`` (the schedule is
    process-wide: put back afterwards)."""
    monkeypatch.setattr(inbox, "RETRY_SCHEDULE", inbox.RETRY_SCHEDULE)
    schedule = Config.from_env({"CONNECTOR_RETRY_SCHEDULE": "0.1,0.1"}).retry_schedule
    assert schedule == (0.1, 0.1)
    running = Running(fake, database_url, retry_schedule=schedule)
    yield running
    running.stop()


def test_a_write_back_failing_to_the_end_is_dead_then_replayed(service, fake, portal,
                                                              database_url):
    assert inbox.RETRY_SCHEDULE == (0.1, 0.1)

    router_id = make_router(service, portal, start_on=["change"],
                            watch_properties=["lifecyclestage"])
    cid = fake.create_object("contacts", {"email": "lead@example.org"})
    assert service.sender.send([make_event("contact.creation", int(cid))]).status_code == 204
    wait_for(lambda: service.count(ObjectRow) == 1, what="the record mirrored")
    fake.faults.record_errors[cid] = "VALIDATION_ERROR"  # every write of it fails (207)

    r = requests.post(service.url + "/dispatch/router", headers=portal["headers"],
                      json={"router_id": router_id, "object_id": cid}, timeout=30)
    assert r.status_code == 200 and r.json()["hubspot_sync_failed"] is True

    wait_for(lambda: _sync_event(service).status == "dead", timeout=30,
             what="the owner sync dead after the last step")
    event = _sync_event(service)
    assert event.attempts == 3  # the first failure, then one try per schedule step
    assert "VALIDATION_ERROR" in event.last_error
    decision = _decision(service)
    assert decision.sync_status == "dead" and "VALIDATION_ERROR" in decision.sync_error
    assert fake.owner_of("contacts", cid) is None

    listed = requests.get(service.url + "/events?status=failed", headers=portal["headers"],
                          timeout=10).json()["results"]
    assert [(e["id"], e["status"]) for e in listed] == [(event.id, "dead")]
    result = CliRunner().invoke(main, ["events", "list", "--failed"],
                                env={"DATABASE_URL": database_url})
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.output.splitlines() if line.startswith("{")]
    assert [(row["id"], row["status"]) for row in rows] == [(event.id, "dead")]

    fake.faults.record_errors.clear()
    r = requests.post(service.url + f"/events/{event.id}/replay", headers=portal["headers"],
                      timeout=10)
    assert r.json() == {"replayed": 1}
    wait_for(lambda: _decision(service).sync_status == "synced", timeout=30,
             what="the owner written after the replay")
    assert fake.owner_of("contacts", cid) in portal["reps"].values()
    wait_for(lambda: _sync_event(service).status == "done", what="the replayed event done")

