"""The fault run, small: real gunicorn, Celery workers, PostgreSQL, a private Redis and the
fake HubSpot in its own process, with kills and a Redis restart; then SQLite with the
in-process executor killed once. Nothing may be lost or assigned twice.

Marked ``fault`` (deselected by default); ``.ci/run`` runs it as its own step.
"""

from __future__ import annotations

import pytest

from scripts import fault_run

pytestmark = [pytest.mark.fault, pytest.mark.postgres, pytest.mark.timeout(400)]


def test_postgres_celery_loses_nothing_under_kills_and_a_redis_restart():
    assert fault_run.main(["--events", "600", "--send-seconds", "30", "--timeout", "150"]) == 0


def test_sqlite_in_process_loses_nothing_when_killed_and_restarted():
    assert fault_run.main(["--sqlite", "--events", "400", "--send-seconds", "20",
                           "--timeout", "100"]) == 0
