"""``connector``: serve, migrate, accounts, tokens, events and more; every command has
``--help``."""

from __future__ import annotations

import json
import logging
import sys

import click

from connector.config import Config, ConfigError


def _config() -> Config:
    return Config.from_env()


@click.group()
@click.option("--log-level", default="INFO", show_default=True,
              type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"]))
@click.option("--log-format", default=None, type=click.Choice(["text", "json"]),
              help="Default: CONNECTOR_LOG_FORMAT, else text")
def main(log_level: str, log_format: str | None) -> None:
    """Lead-routing connector for HubSpot and Salesforce."""
    from connector.logs import configure, secret_values

    try:
        secrets = secret_values(Config.from_env())
    except ConfigError:
        secrets = []
    configure(log_format, log_level, secrets)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--threads", default=8, show_default=True, type=int,
              help="HTTP worker threads")
def serve(host: str, port: int, threads: int) -> None:
    """Serve the web app with the in-process executor (migrates an empty database)."""
    from waitress import serve as waitress_serve

    from connector.web import create_app

    try:
        app = create_app(start_executor=True)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    container = app.config["CONTAINER"]
    click.echo(f"connector serving on http://{host}:{port} "
               f"(database {container.db.engine.url.render_as_string(hide_password=True)}, "
               f"executor {container.config.executor})")
    try:
        waitress_serve(app, host=host, port=port, threads=threads, ident="connector")
    finally:
        container.close()


@main.command()
def migrate() -> None:
    """Apply database migrations up to the newest revision."""
    from connector.store.db import Database

    db = Database(_config().database_url)
    db.migrate()
    click.echo("database is up to date")


@main.command()
@click.option("--concurrency", default=4, show_default=True, type=int,
              help="Batches processed at once by this worker")
@click.option("--pool", default="threads", show_default=True,
              type=click.Choice(["threads", "prefork", "solo"]))
@click.option("--hostname", default=None, help="Celery node name (default: celery@host)")
@click.option("--metrics-port", default=None, type=int,
              help="Serve this worker's Prometheus metrics on this port")
@click.option("--metrics-host", default="0.0.0.0", show_default=True)
def worker(concurrency: int, pool: str, hostname: str | None, metrics_port: int | None,
           metrics_host: str) -> None:
    """Run a Celery worker (CONNECTOR_EXECUTOR=celery, CELERY_BROKER_URL) and the sweep."""
    from connector.jobs.worker import run_worker

    config = _config()
    level = logging.getLevelName(logging.getLogger().getEffectiveLevel())
    run_worker(config, concurrency=concurrency, pool=pool, loglevel=level, hostname=hostname,
               metrics_port=metrics_port, metrics_host=metrics_host)


@main.group()
def accounts() -> None:
    """Manage accounts (tenants)."""


@accounts.command("create")
@click.option("--name", required=True)
def accounts_create(name: str) -> None:
    """Create an account and print its id."""
    from connector.bootstrap import bootstrap
    from connector.store.models import AccountRow

    container = bootstrap(_config())
    with container.db.session() as session:
        row = AccountRow(name=name, active=True)
        session.add(row)
        session.flush()
        click.echo(row.id)


@main.command()
@click.option("--account", "account_id", help="Account id the token acts for")
@click.option("--admin", is_flag=True, help="May create and manage accounts")
@click.option("--ttl", type=int, default=None, help="Lifetime in seconds (default: none)")
def token(account_id: str | None, admin: bool, ttl: int | None) -> None:
    """Print a bearer JWT signed with CONNECTOR_JWT_SECRET."""
    from connector.web.auth import issue_token

    if not account_id and not admin:
        raise click.UsageError("give --account ID, --admin, or both")
    try:
        secret = _config().require("jwt_secret", "CONNECTOR_JWT_SECRET")
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(issue_token(secret, account_id, admin=admin, ttl_seconds=ttl))


@main.group()
def events() -> None:
    """Inspect and replay inbox events."""


@events.command("list")
@click.option("--failed", is_flag=True, help="Only failed and dead-letter events")
@click.option("--limit", default=50, show_default=True)
def events_list(failed: bool, limit: int) -> None:
    from sqlalchemy import select

    from connector.bootstrap import bootstrap
    from connector.store.models import InboxEventRow

    container = bootstrap(_config())
    query = select(InboxEventRow).order_by(InboxEventRow.created_at.desc()).limit(limit)
    if failed:
        query = query.where(InboxEventRow.status.in_(("failed", "dead")))
    with container.db.session() as session:
        for row in session.scalars(query):
            click.echo(json.dumps({"id": row.id, "source": row.source, "kind": row.kind,
                                   "status": row.status, "attempts": row.attempts,
                                   "error": row.last_error}))


@events.command("replay")
@click.argument("event_ids", nargs=-1)
@click.option("--all-failed", is_flag=True, help="Replay every failed and dead event")
def events_replay(event_ids: tuple[str, ...], all_failed: bool) -> None:
    from connector.bootstrap import bootstrap
    from connector.jobs import inbox

    if not event_ids and not all_failed:
        raise click.UsageError("give event ids or --all-failed")
    container = bootstrap(_config())
    count = inbox.replay(container.db, list(event_ids) or None, all_failed=all_failed)
    click.echo(f"{count} event(s) queued again")


from connector.cli_hubspot import hubspot as _hubspot_group  # noqa: E402

main.add_command(_hubspot_group)
from connector.demo import demo as _demo_command  # noqa: E402

main.add_command(_demo_command)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
