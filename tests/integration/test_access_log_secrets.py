"""An Outbound Message's endpoint URL holds a secret of SALESFORCE_OUTBOUND_SECRETS, and
access logs print request paths: the secret is masked there too, in gunicorn's access and
error logs (which do not go through the root logger's handlers) and Werkzeug's."""

from __future__ import annotations

import logging
import threading

import pytest
import requests
from werkzeug.serving import make_server

from connector.bootstrap import bootstrap
from connector.logs import MASK
from connector.web import create_app

ORG = "00D000000000001"
SECRET = "outbound-secret-" + "q" * 16
PATH = f"/webhooks/salesforce/outbound/{SECRET}"


@pytest.fixture
def restore_loggers():
    names = ("gunicorn.access", "gunicorn.error", "werkzeug")
    saved = {n: (list(logging.getLogger(n).handlers), list(logging.getLogger(n).filters),
                 logging.getLogger(n).propagate, logging.getLogger(n).level) for n in names}
    yield
    for name, (handlers, filters, propagate, level) in saved.items():
        logger = logging.getLogger(name)
        logger.handlers[:], logger.filters[:] = handlers, filters
        logger.propagate, logger.level = propagate, level


def _app(config):
    return create_app(container=bootstrap(config.with_overrides({
        "salesforce_org_id": ORG, "salesforce_outbound_secrets": (SECRET,)})))


def test_gunicorn_access_and_error_logs_mask_the_secret(config, tmp_path, restore_loggers):
    from gunicorn.config import Config as GunicornConfig
    from gunicorn.glogging import Logger

    access, errors = tmp_path / "access.log", tmp_path / "error.log"
    settings = GunicornConfig()
    settings.set("accesslog", str(access))
    settings.set("errorlog", str(errors))
    Logger(settings)  # as a gunicorn worker has set up its logs before loading the app
    app = _app(config)
    # what gunicorn's Logger.access and its request error handler log
    logging.getLogger("gunicorn.access").info('%(h)s "%(r)s" %(s)s', {
        "h": "203.0.113.9", "r": f"POST {PATH} HTTP/1.1", "s": "200"})
    logging.getLogger("gunicorn.error").error("Error handling request %s", PATH)
    for log in (access, errors):
        text = log.read_text()
        assert f"/webhooks/salesforce/outbound/{MASK}" in text, log
        assert SECRET not in text, log
    app.config["CONTAINER"].close()


def test_the_werkzeug_request_log_masks_the_secret(config, restore_loggers):
    app = _app(config)
    lines: list[str] = []

    class Capture(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(record.getMessage())

    werkzeug_log = logging.getLogger("werkzeug")
    werkzeug_log.addHandler(Capture())
    werkzeug_log.setLevel(logging.INFO)
    server = make_server("127.0.0.1", 0, app)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        requests.post(f"http://127.0.0.1:{server.server_port}{PATH}", data=b"<x/>",
                      headers={"Content-Type": "text/xml"}, timeout=10)
    finally:
        server.shutdown()
        thread.join()
    logged = "\n".join(lines)
    assert "/webhooks/salesforce/outbound/" in logged
    assert SECRET not in logged and MASK in logged
    app.config["CONTAINER"].close()
