"""The SLA scanner's schedules and setting, without a broker: the Celery beat entry and
the task a worker runs, the executor's thread, ``CONNECTOR_SLA_SCAN_SECONDS``."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from connector.bootstrap import bootstrap, wire_sla_scanner
from connector.config import Config, ConfigError
from connector.jobs.celery_app import SLA_TASK, make_celery, use_container
from connector.service import sla
from connector.store.models import AccountRow, ObjectRow, RepRow, RouterRow


def test_the_scan_interval_setting():
    assert Config.from_env({}).sla_scan_seconds == 15
    assert Config.from_env({"CONNECTOR_SLA_SCAN_SECONDS": "5"}).sla_scan_seconds == 5
    for bad in ("0", "86400"):
        with pytest.raises(ConfigError, match="CONNECTOR_SLA_SCAN_SECONDS must be from 1"):
            Config.from_env({"CONNECTOR_SLA_SCAN_SECONDS": bad})
    with pytest.raises(ConfigError, match="CONNECTOR_SLA_SCAN_SECONDS must be a whole"):
        Config.from_env({"CONNECTOR_SLA_SCAN_SECONDS": "soon"})


def _due_clock(container) -> str:
    """A clock past its deadline with one stage that notifies the owner."""
    started = datetime.now(UTC) - timedelta(hours=2)
    with container.db.session() as session:
        account = AccountRow(name="Acme")
        session.add(account)
        session.flush()
        rep = RepRow(account_id=account.id, email="ana@example.com", out_of_office=[],
                     crm_ids={})
        router = RouterRow(account_id=account.id, name="R", object_type="contact")
        obj = ObjectRow(account_id=account.id, object_type="contact", fields={})
        session.add_all([rep, router, obj])
        session.flush()
        ids = account.id, router.id, obj.id, rep.id
    sla.create_monitor(container.db, ids[0], {
        "name": "m", "router_id": ids[1], "condition": "first_touch", "duration": "PT1H",
        "clock": "wall", "reminders": [], "stages": [{"after": "PT0S", "notify": ["owner"]}],
        "manager_emails": [], "active": True})
    with container.db.session() as session:
        [clock] = sla.start_clocks(session, ids[0], ids[2], ids[3], started,
                                   router_id=ids[1])
        return clock.id


def test_beat_schedules_the_scan_task_which_scans(database_url):
    config = Config(database_url=database_url, executor="celery",
                    celery_broker_url="memory://", sla_scan_seconds=7)
    app = make_celery(config)
    assert app.conf.beat_schedule["sla-scan"] == {"task": SLA_TASK, "schedule": 7.0}
    container = bootstrap(config)
    try:
        sent: list[dict] = []
        container.extras["notify"] = lambda session, **kw: sent.append(kw)
        use_container(container)
        _due_clock(container)
        assert app.tasks[SLA_TASK].run() == 1
        assert app.tasks[SLA_TASK].run() == 0  # escalated once
        assert [s["kind"] for s in sent] == ["sla.breach"]
    finally:
        container.close()


def test_the_executor_runs_the_scanner_on_a_thread_unless_celery_does(database_url):
    container = bootstrap(Config(database_url=database_url, executor="inline"))
    try:
        ran = threading.Event()
        container.extras["notify"] = lambda session, **kw: ran.set()
        container.config = Config(database_url=database_url, executor="inline",
                                  sla_scan_seconds=1)
        _due_clock(container)
        wire_sla_scanner(container, start=True)
        assert ran.wait(timeout=30)  # the first round, one interval after the start
        assert any(t.name == "sla-scan" for t in threading.enumerate())
    finally:
        container.close()
    assert not any(t.name == "sla-scan" and t.is_alive() for t in threading.enumerate())
    celery = bootstrap(Config(database_url=database_url, executor="celery",
                              celery_broker_url="memory://"))
    try:
        closers = len(celery.extras.get("closers", []))
        wire_sla_scanner(celery, start=True)
        assert len(celery.extras.get("closers", [])) == closers
    finally:
        celery.close()
