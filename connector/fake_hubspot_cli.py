"""``connector fake-hubspot``: the bundled fake HubSpot as a process of its own, and signed
webhooks to send to the connector, so the README's first steps can route a HubSpot contact
on one machine without a HubSpot portal.

The fake accepts the private-app token the connector is configured with
(``HUBSPOT_ACCESS_TOKEN``), and webhooks are signed with ``HUBSPOT_CLIENT_SECRET``, both
read as every command reads its settings (environment, then instance/connector.env).
"""

from __future__ import annotations

import json
import os
import threading

import click

from connector.config import Config

DEFAULT_PORTAL = 62515


@click.group("fake-hubspot")
def fake_hubspot() -> None:
    """The bundled fake HubSpot (for trying the connector out; not for production)."""


@fake_hubspot.command("serve")
@click.option("--port", default=8100, show_default=True, type=int)
@click.option("--portal", "portal_id", default=DEFAULT_PORTAL, show_default=True, type=int,
              help="The portal (hub) id its webhooks carry")
@click.option("--owner", "owners", multiple=True, metavar="EMAIL",
              help="A HubSpot user (owner) of the portal; repeat for more")
def serve(port: int, portal_id: int, owners: tuple[str, ...]) -> None:
    """Serve a fake HubSpot portal on 127.0.0.1 until interrupted (Ctrl-C)."""
    from adapters.hubspot.fake_http import ThreadedServer
    from connector.bootstrap import hubspot_fakes

    config = Config.from_env()
    token = config.hubspot_access_token
    if not token:
        raise click.ClickException("HUBSPOT_ACCESS_TOKEN is not set: it is the private-app "
                                   "token the fake accepts and the connector sends")
    FakeHubSpot, _, _ = hubspot_fakes()
    fake = FakeHubSpot(token=token, portal_id=portal_id,
                       app_id=int(config.hubspot_app_id or 1000))
    fake._server = ThreadedServer(fake.handle, port=port)  # a fixed port, for the README
    ids = {email: fake.add_owner(email) for email in owners}
    try:
        fake.start()
    except OSError as exc:
        raise click.ClickException(f"cannot listen on 127.0.0.1:{port}: {exc.strerror}") \
            from None
    click.echo(f"fake HubSpot on {fake.url} (portal {portal_id}); owners: "
               + (", ".join(f"{email} = {owner}" for email, owner in ids.items()) or "none"))
    stop = threading.Event()
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        fake.stop()


@fake_hubspot.command("send-webhook")
@click.argument("subscription_type", metavar="TYPE")  # e.g. contact.creation
@click.argument("object_id", type=int)
@click.option("--portal", "portal_id", default=DEFAULT_PORTAL, show_default=True, type=int)
@click.option("--url", default=None,
              help="Default: http://localhost:$CONNECTOR_PORT (8000)/webhooks/hubspot")
def send_webhook(subscription_type: str, object_id: int, portal_id: int,
                 url: str | None) -> None:
    """Send one event as HubSpot does (signed with HUBSPOT_CLIENT_SECRET); prints the body
    and the connector's answer."""
    from connector.bootstrap import hubspot_fakes

    config = Config.from_env()
    secret = config.hubspot_client_secret
    if not secret:
        raise click.ClickException("HUBSPOT_CLIENT_SECRET is not set: webhooks are signed "
                                   "with the app's client secret")
    url = url or f"http://localhost:{os.environ.get('CONNECTOR_PORT') or 8000}" \
                 "/webhooks/hubspot"
    _, WebhookSender, make_event = hubspot_fakes()
    event = make_event(subscription_type, object_id, portal_id=portal_id,
                       app_id=int(config.hubspot_app_id or 1000))
    click.echo(f"POST {url}\n{json.dumps([event])}")
    answer = WebhookSender(url, secret).send([event])
    click.echo(f"-> {answer.status_code} {answer.text}".rstrip())
    if answer.status_code >= 300:
        raise SystemExit(1)
