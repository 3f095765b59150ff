"""/metrics, /readyz and structured logs."""

from __future__ import annotations

import json
import logging

import pytest
import requests

from connector.bootstrap import bootstrap
from connector.config import Config
from connector.logs import JsonFormatter, RedactSecrets, bind_event
from connector.metrics import instrument_session
from connector.web import create_app

from .celery_helpers import store


def _value(text: str, sample: str) -> float:
    """The value of one exposition line, e.g. 'name{label="x"}'; 0 when absent."""
    for line in text.splitlines():
        if line.rsplit(" ", 1)[0] == sample:
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_metrics_report_inbox_totals_failures_and_latency(config):
    calls = {"n": 0}

    def flaky(container, events):
        calls["n"] += 1
        return {e.id: ("boom" if e.payload["n"] % 2 else None) for e in events}

    container = bootstrap(config, handlers={"test.echo": flaky})
    client = create_app(container=container).test_client()
    before = client.get("/metrics").get_data(as_text=True)
    store(container.db, 6)
    container.executor = None
    from connector.jobs.executors import InlineExecutor

    InlineExecutor(container, {"test.echo": flaky}).drain(max_rounds=1)
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.content_type.startswith("text/plain")
    text = response.get_data(as_text=True)
    assert 'connector_events_received_total{source="test"} 6.0' in text
    assert 'connector_events_processed_total{source="test"} 3.0' in text
    assert 'connector_queue_depth{status="failed"} 3.0' in text
    assert 'connector_queue_depth{status="pending"} 0.0' in text
    name = 'connector_events_failed_total{source="test"}'
    assert _value(text, name) - _value(before, name) == 3
    name = 'connector_dispatch_latency_seconds_count{source="test"}'
    assert _value(text, name) - _value(before, name) == 3
    container.close()


def test_crm_calls_and_429s_counted_by_portal():
    import responses

    session = instrument_session(requests.Session(), "hubspot", 777)
    with responses.RequestsMock() as mock:
        mock.add(responses.GET, "http://crm.test/a", status=200)
        mock.add(responses.GET, "http://crm.test/b", status=429)
        from prometheus_client import REGISTRY

        def sample(name, **labels):
            return REGISTRY.get_sample_value(name, labels) or 0.0

        ok0 = sample("connector_crm_calls_total", crm="hubspot", portal="777", status="2xx")
        rl0 = sample("connector_crm_rate_limited_total", crm="hubspot", portal="777")
        session.get("http://crm.test/a")
        session.get("http://crm.test/b")
        assert sample("connector_crm_calls_total", crm="hubspot", portal="777",
                      status="2xx") == ok0 + 1
        assert sample("connector_crm_rate_limited_total", crm="hubspot", portal="777") == rl0 + 1


def test_readyz_ok_with_the_database(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ready", "database": "ok"}


def test_readyz_names_an_unreachable_broker(tmp_path):
    config = Config(database_url=f"sqlite:///{tmp_path / 'db'}", executor="celery",
                    celery_broker_url="redis://127.0.0.1:1/0", jwt_secret="j" * 32)
    app = create_app(container=bootstrap(config))
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["database"] == "ok" and body["broker"] == "unreachable"
    assert body["failed"] == ["broker"]


@pytest.mark.redis
def test_readyz_ok_with_a_reachable_broker(tmp_path):
    config = Config(database_url=f"sqlite:///{tmp_path / 'db'}", executor="celery",
                    celery_broker_url="redis://127.0.0.1:6379/0", jwt_secret="j" * 32)
    app = create_app(container=bootstrap(config))
    response = app.test_client().get("/readyz")
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["broker"] == "ok"


def test_readyz_names_an_unreachable_database(client, container):
    container.db.engine.dispose()
    container.db.engine.url = container.db.engine.url.set(database="/nonexistent/dir/x.db")
    from sqlalchemy import create_engine

    container.db.engine = create_engine("postgresql+psycopg://nobody@127.0.0.1:1/none")
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["failed"] == ["database"]


def test_json_log_lines_carry_the_bound_event_id():
    record = logging.LogRecord("connector.x", logging.WARNING, __file__, 1, "sync %s", ("x",),
                               None)
    formatter = JsonFormatter()
    with bind_event("evt-123"):
        inside = json.loads(formatter.format(record))
    outside = json.loads(formatter.format(record))
    assert inside["event_id"] == "evt-123" and inside["message"] == "sync x"
    assert inside["level"] == "WARNING" and inside["logger"] == "connector.x"
    assert "event_id" not in outside


def test_failed_events_are_logged_with_their_id(config, caplog):
    def broken(container, events):
        return {e.id: "HubSpot said no" for e in events}

    container = bootstrap(config, handlers={"test.echo": broken})
    store(container.db, 1)
    from connector.jobs.executors import InlineExecutor

    with caplog.at_level(logging.WARNING):
        InlineExecutor(container, {"test.echo": broken}).drain(max_rounds=1)
    formatted = [json.loads(JsonFormatter().format(r)) for r in caplog.records
                 if "HubSpot said no" in r.getMessage()]
    (event_id,) = [row for row in _ids(container)]
    assert formatted and formatted[0]["event_id"] == event_id
    container.close()


def _ids(container):
    from sqlalchemy import select

    from connector.store.models import InboxEventRow

    with container.db.session() as session:
        return list(session.scalars(select(InboxEventRow.id)))


def test_redaction_masks_secret_values():
    record = logging.LogRecord("x", logging.ERROR, __file__, 1, "token %s leaked",
                               ("pat-na1-secret-value",), None)
    RedactSecrets(["pat-na1-secret-value"]).filter(record)
    assert record.getMessage() == "token *** leaked"

