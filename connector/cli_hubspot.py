"""``connector hubspot ...``: connect a portal, write the app's developer-platform project,
keep a legacy app's webhook subscriptions in sync."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlsplit

import click

from connector.config import Config, ConfigError


@click.group()
def hubspot() -> None:
    """HubSpot portals and webhook subscriptions."""


@hubspot.command("connect")
@click.option("--portal", "portal_id", required=True, help="HubSpot portal (hub) id")
@click.option("--account", "account_id", required=True, help="Account the portal routes for")
@click.option("--move", is_flag=True, help="Take it from the account it belongs to now")
def connect(portal_id: str, account_id: str, move: bool) -> None:
    """Connect a portal to an account whose calls use HUBSPOT_ACCESS_TOKEN (a Service Key,
    a static-auth project app or a legacy private app); same as ``connector sources link
    --source hubspot``."""
    from connector.cli_sources import link_and_report

    link_and_report(account_id, "hubspot", portal_id, move)


@hubspot.command("project")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--public-url", help="Where HubSpot reaches the connector (default: "
              "CONNECTOR_PUBLIC_URL); HTTPS")
@click.option("--auth", type=click.Choice(["oauth", "static"]), default="oauth",
              show_default=True,
              help="oauth: portals install through /oauth/hubspot/callback; static: one "
                   "account, its access token goes in HUBSPOT_ACCESS_TOKEN")
@click.option("--distribution", type=click.Choice(["private", "marketplace"]),
              default="private", show_default=True)
def project(directory: Path, public_url: str | None, auth: str, distribution: str) -> None:
    """Write the HubSpot project of the connector's app into DIRECTORY: the app (scopes,
    redirect URL), the webhook subscriptions the published routers need and the "Route with
    connector" workflow action. Upload it with HubSpot's CLI: ``hs project upload``."""
    from adapters.hubspot.project import project_files
    from connector.bootstrap import bootstrap, hubspot_install_scopes
    from connector.service.hubspot_subscriptions import wanted_subscriptions

    config = Config.from_env()
    url = (public_url or config.public_url or "").rstrip("/")
    if not url:
        raise click.ClickException("CONNECTOR_PUBLIC_URL is not set (or pass --public-url): "
                                   "HubSpot needs the connector's public HTTPS address")
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.netloc or parts.query or parts.fragment:
        raise click.ClickException(f"the public URL must be an https:// address without a "
                                   f"query, got {url!r}: HubSpot sends webhooks and workflow "
                                   "actions to HTTPS only")
    container = bootstrap(config)
    try:
        wanted, warnings = wanted_subscriptions(container.db, container.mappings)
        scopes = hubspot_install_scopes(container)
    finally:
        container.close()
    for warning in warnings:
        click.echo(f"warning: {warning}", err=True)
    files = project_files(url, scopes=scopes, subscriptions=wanted,
                          object_types={event.split(".", 1)[0] for event, _ in wanted},
                          auth=auth, distribution=distribution)
    for relative, content in files.items():
        path = directory / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(content, indent=2) + "\n", encoding="utf-8")
        click.echo(f"wrote {path}")
    click.echo(f"{len(wanted)} webhook subscription(s), {len(scopes)} CRM scope(s). Next: "
               f"cd {directory} && hs project upload")


@hubspot.group()
def subscriptions() -> None:
    """A legacy public app's webhook subscriptions (a project app declares its own in
    webhooks-hsmeta.json: see ``connector hubspot project``)."""


@subscriptions.command("sync")
@click.option("--dry-run", is_flag=True, help="Show the difference, change nothing")
@click.option("--yes", is_flag=True, help="Apply without asking")
@click.option("--delete-unwanted", is_flag=True,
              help="Delete subscriptions no router needs (default: deactivate them)")
def sync(dry_run: bool, yes: bool, delete_unwanted: bool) -> None:
    """Create or update the subscriptions the published routers and mappings need."""
    from connector.bootstrap import (
        bootstrap,
        hubspot_subscriptions_client,
        plan_hubspot_subscriptions,
    )
    from connector.core.errors import CrmError
    from connector.service.hubspot_subscriptions import describe, wanted_subscriptions

    config = Config.from_env()
    try:
        client = hubspot_subscriptions_client(config)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    container = bootstrap(config)
    wanted, warnings = wanted_subscriptions(container.db, container.mappings)
    for warning in warnings:
        click.echo(f"warning: {warning}", err=True)
    try:
        plan = plan_hubspot_subscriptions(wanted, client.list(),
                                          delete_unwanted=delete_unwanted)
    except CrmError as exc:
        raise click.ClickException(f"HubSpot refused to list subscriptions: {exc}") from None
    if not plan:
        click.echo(f"subscriptions are up to date ({len(wanted)} needed)")
        return
    click.echo(f"{len(plan)} change(s):")
    for change in plan:
        click.echo("  " + describe(change))
    if dry_run:
        click.echo("dry run: nothing changed")
        return
    if not yes and not click.confirm("Apply these changes?", default=False):
        click.echo("nothing changed")
        return
    try:
        done = client.apply(plan)
    except CrmError as exc:
        raise click.ClickException(f"HubSpot refused a change: {exc}") from None
    click.echo(f"applied {len(done)} change(s)")
