"""``connector keys create | list | revoke``: an account's API keys for /v1 (and, with
scope ``*``, the root API)."""

from __future__ import annotations

import click

from connector.config import Config


@click.group()
def keys() -> None:
    """API keys: created with scopes, shown once, listed by prefix and last use."""


def _run(action):
    from connector.bootstrap import bootstrap
    from connector.service.v1_errors import V1Error

    container = bootstrap(Config.from_env())
    try:
        return action(container.db)
    except V1Error as exc:
        details = "; ".join(f"{field}: {problem}" for field, problem in exc.fields.items())
        raise click.ClickException(details or exc.message) from None
    finally:
        container.close()


@keys.command("create")
@click.option("--account", "account_id", required=True, help="The account the key acts for")
@click.option("--scopes", required=True,
              help="Comma-separated, e.g. 'leads:write,reps:read', or '*' for everything")
@click.option("--name", default="", help="A label to recognise the key by")
def create(account_id: str, scopes: str, name: str) -> None:
    """Create a key and print it. It is shown this once: only its hash is kept."""
    from connector.service.api_keys import create_key

    wanted = [s.strip() for s in scopes.split(",") if s.strip()]
    _, secret = _run(lambda db: create_key(db, account_id, wanted, name))
    click.echo(secret)


@keys.command("list")
@click.option("--account", "account_id", required=True)
def list_(account_id: str) -> None:
    """Id, prefix, scopes, last use and revocation of each key (never the key)."""
    from connector.service.api_keys import list_keys

    for row in _run(lambda db: list_keys(db, account_id)):
        used = row.last_used_at.isoformat() if row.last_used_at else "never used"
        revoked = f" revoked {row.revoked_at.isoformat()}" if row.revoked_at else ""
        click.echo(f"{row.id}  {row.prefix}…  {','.join(row.scopes)}  {used}{revoked}"
                   + (f"  {row.name}" if row.name else ""))


@keys.command("revoke")
@click.option("--account", "account_id", required=True)
@click.argument("key_id")
def revoke(account_id: str, key_id: str) -> None:
    """Revoke a key by its id (from ``keys list``); it stops working at once."""
    from connector.service.api_keys import revoke_key

    _run(lambda db: revoke_key(db, account_id, key_id.removeprefix("key_")))
    click.echo(f"revoked {key_id}")
