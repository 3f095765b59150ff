"""The journal poller's schedules and settings, without a broker: the Celery beat entry,
the task a worker runs, ``connector worker --beat`` and ``CONNECTOR_HUBSPOT_INGEST``."""

from __future__ import annotations

import pytest

from adapters.hubspot.fake_server import FakeHubSpot, make_event
from connector.bootstrap import bootstrap
from connector.config import Config, ConfigError
from connector.jobs.celery_app import JOURNAL_TASK, make_celery, use_container
from connector.jobs.worker import worker_argv
from connector.store.models import InboxEventRow


def test_ingest_setting_is_checked_and_journal_needs_client_credentials(database_url):
    assert Config.from_env({}).hubspot_ingest == "webhooks"
    assert Config.from_env({"CONNECTOR_HUBSPOT_INGEST": "Both"}).hubspot_ingest == "both"
    with pytest.raises(ConfigError, match="CONNECTOR_HUBSPOT_INGEST must be one of"):
        Config.from_env({"CONNECTOR_HUBSPOT_INGEST": "pull"})
    with pytest.raises(ConfigError, match="HUBSPOT_CLIENT_ID and HUBSPOT_CLIENT_SECRET"):
        bootstrap(Config(database_url=database_url, hubspot_ingest="journal"))


def test_beat_schedules_the_journal_task_which_stores_the_journal(database_url):
    with FakeHubSpot() as fake:
        config = Config(database_url=database_url, executor="celery",
                        celery_broker_url="memory://", hubspot_ingest="journal",
                        hubspot_client_id=fake.client_id,
                        hubspot_client_secret=fake.client_secret, hubspot_api_base=fake.url,
                        hubspot_access_token=fake.token, hubspot_journal_poll_seconds=7)
        app = make_celery(config)
        assert app.conf.beat_schedule["hubspot-journal"] == {"task": JOURNAL_TASK,
                                                             "schedule": 7.0}
        container = bootstrap(config)
        try:
            use_container(container)
            fake.journal.publish([make_event("contact.creation", i) for i in (1, 2, 3)])
            assert app.tasks[JOURNAL_TASK].run() == 3
            assert app.tasks[JOURNAL_TASK].run() == 0  # caught up: nothing again
            with container.db.session() as session:
                assert session.query(InboxEventRow).count() == 3
        finally:
            container.close()
    webhooks_only = make_celery(Config(database_url=database_url, celery_broker_url="memory://"))
    assert "hubspot-journal" not in webhooks_only.conf.beat_schedule


def test_worker_runs_the_schedule_only_when_asked():
    args = dict(queue="q", concurrency=1, pool="threads", loglevel="INFO", hostname=None)
    assert "--beat" not in worker_argv(**args)
    assert "--beat" in worker_argv(**args, beat=True)
