"""``connector fake-hubspot``: the fake portal as a process and signed webhooks to the
connector; the README's first steps run both end to end (tests/e2e/test_readme_first_steps.py).
Here: what each says when a setting it needs is missing, and a webhook the connector
accepts."""

from __future__ import annotations

import threading

from click.testing import CliRunner
from werkzeug.serving import make_server

from connector.cli import main
from connector.web import create_app


def test_each_names_the_setting_it_needs(monkeypatch):
    monkeypatch.delenv("HUBSPOT_ACCESS_TOKEN", raising=False)
    monkeypatch.delenv("HUBSPOT_CLIENT_SECRET", raising=False)
    runner = CliRunner()
    served = runner.invoke(main, ["fake-hubspot", "serve", "--port", "0"])
    assert served.exit_code != 0 and "HUBSPOT_ACCESS_TOKEN is not set" in served.output
    sent = runner.invoke(main, ["fake-hubspot", "send-webhook", "contact.creation", "1"])
    assert sent.exit_code != 0 and "HUBSPOT_CLIENT_SECRET is not set" in sent.output


def test_send_webhook_is_signed_as_hubspot_signs(config, monkeypatch):
    app = create_app(config.with_overrides({"hubspot_client_secret": "app-secret"}))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        monkeypatch.setenv("HUBSPOT_CLIENT_SECRET", "app-secret")
        monkeypatch.setenv("CONNECTOR_PORT", str(server.server_port))
        sent = CliRunner().invoke(main, ["fake-hubspot", "send-webhook", "contact.creation",
                                         "1003", "--portal", "777"])
        assert sent.exit_code == 0, sent.output
        assert f"POST http://localhost:{server.server_port}/webhooks/hubspot" in sent.output
        assert '"subscriptionType": "contact.creation"' in sent.output
        assert '"objectId": 1003' in sent.output and '"portalId": 777' in sent.output
        assert "-> 204" in sent.output
        monkeypatch.setenv("HUBSPOT_CLIENT_SECRET", "another-secret")
        refused = CliRunner().invoke(main, ["fake-hubspot", "send-webhook",
                                            "contact.creation", "1003"])
        assert refused.exit_code == 1 and "-> 401" in refused.output
    finally:
        server.shutdown()
        thread.join(5)
        app.config["CONTAINER"].close()
