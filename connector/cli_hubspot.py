"""``connector hubspot ...``: connect a portal, keep webhook subscriptions in sync."""

from __future__ import annotations

import click

from connector.config import Config, ConfigError


@click.group()
def hubspot() -> None:
    """HubSpot portals and webhook subscriptions."""


@hubspot.command("connect")
@click.option("--portal", "portal_id", required=True, help="HubSpot portal (hub) id")
@click.option("--account", "account_id", required=True, help="Account the portal routes for")
def connect(portal_id: str, account_id: str) -> None:
    """Map a portal to an account (a private app, using HUBSPOT_ACCESS_TOKEN)."""
    from connector.bootstrap import bootstrap
    from connector.store.models import AccountRow

    container = bootstrap(Config.from_env())
    with container.db.session() as session:
        if session.get(AccountRow, account_id) is None:
            raise click.ClickException(f"no account with id {account_id}")
    container.extras["hubspot"].portals.connect(portal_id, account_id)
    click.echo(f"portal {portal_id} routes for account {account_id}")


@hubspot.group()
def subscriptions() -> None:
    """The app's webhook subscriptions."""


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
