"""``connector sources ...``: which CRM portal/org belongs to which account.

``connector hubspot connect`` and ``connector admin link-source`` are the same command
under their earlier names.
"""

from __future__ import annotations

import click

from connector.config import Config

SOURCE_CHOICE = click.Choice(["hubspot", "salesforce"])


@click.group()
def sources() -> None:
    """CRM portals/orgs and the accounts they belong to."""


def link_and_report(account_id: str, source: str, account_key: str, move: bool) -> None:
    from connector.bootstrap import bootstrap
    from connector.service.sources import SOURCES, SourceError, link_source, normalize_key

    container = bootstrap(Config.from_env())
    try:
        changed = link_source(container.db, account_id, source, account_key, move=move)
    except SourceError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        container.close()
    key = normalize_key(source, account_key)
    click.echo(f"{SOURCES[source]} {key} belongs to account {account_id}"
               + ("" if changed else " (unchanged)"))


@sources.command("link")
@click.option("--account", "account_id", required=True, help="Account the portal/org is for")
@click.option("--source", required=True, type=SOURCE_CHOICE)
@click.option("--key", "account_key", required=True,
              help="The HubSpot portal id or Salesforce org id its events carry")
@click.option("--move", is_flag=True, help="Take it from the account it belongs to now")
def link(account_id: str, source: str, account_key: str, move: bool) -> None:
    """Connect a portal/org to an account: its events are routed for that account and
    shown to it (API, console); events it sent before can then be replayed."""
    link_and_report(account_id, source, account_key, move)


@sources.command("unlink")
@click.option("--source", required=True, type=SOURCE_CHOICE)
@click.option("--key", "account_key", required=True)
def unlink(source: str, account_key: str) -> None:
    """Disconnect a portal/org: its next events go to the dead letters."""
    from connector.bootstrap import bootstrap
    from connector.service.sources import normalize_key
    from connector.store import sources_repo

    container = bootstrap(Config.from_env())
    try:
        with container.db.session() as session:
            found = sources_repo.unlink(session, source, normalize_key(source, account_key))
    finally:
        container.close()
    click.echo(f"{source} {account_key} " + ("disconnected" if found else "was not connected"))


@sources.command("list")
@click.option("--account", "account_id", default=None, help="Only this account's")
def list_(account_id: str | None) -> None:
    """Every connected portal/org: source, key, account."""
    from connector.bootstrap import bootstrap
    from connector.store import sources_repo

    container = bootstrap(Config.from_env())
    try:
        with container.db.read_session() as session:
            rows = [(r.source, r.account_key, r.account_id)
                    for r in sources_repo.all_links(session)
                    if account_id is None or r.account_id == account_id]
    finally:
        container.close()
    for source, key, owner in rows:
        click.echo(f"{source}\t{key}\t{owner}")
