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
@click.pass_context
def main(ctx: click.Context, log_level: str, log_format: str | None) -> None:
    """Lead-routing connector for HubSpot and Salesforce.

    Settings come from the environment and from instance/connector.env, which the first
    `connector serve` in a directory writes with new secrets; the environment wins."""
    from connector.instance import create_instance_file, instance_file
    from connector.logs import configure, secret_values

    if ctx.invoked_subcommand == "serve":
        path = instance_file()
        try:
            if create_instance_file(path):
                click.echo(f"{path} written with new secrets (CONNECTOR_JWT_SECRET, "
                           f"CONNECTOR_SECRET_KEY); commands run here read it")
        except OSError as exc:
            click.echo(f"could not write {path} ({exc.strerror}): settings come from the "
                       f"environment only", err=True)
    try:
        secrets = secret_values(Config.from_env())
    except ConfigError:
        secrets = []
    if ctx.invoked_subcommand in ("demo", "demo-salesforce") and \
            ctx.get_parameter_source("log_level") == click.core.ParameterSource.DEFAULT:
        log_level = "WARNING"  # the demos print what happens; INFO lines would bury it
    configure(log_format, log_level, secrets)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int, envvar="CONNECTOR_PORT",
              help="Also CONNECTOR_PORT")
@click.option("--threads", default=8, show_default=True, type=int,
              help="HTTP worker threads for the API, the console and everything else")
@click.option("--ack-threads", default=4, show_default=True, type=int,
              help="HTTP worker threads kept for webhook deliveries and /healthz, so they "
                   "are acknowledged at once however busy the API is")
@click.option("--connection-limit", default=1000, show_default=True, type=int,
              help="Open HTTP connections served at once")
def serve(host: str, port: int, threads: int, ack_threads: int, connection_limit: int) -> None:
    """Serve the web app with the in-process executor (migrates an empty database)."""
    from connector.web import create_app
    from connector.web.server import make_server

    if threads < 1 or ack_threads < 1 or connection_limit < 1:
        raise click.BadParameter("--threads, --ack-threads and --connection-limit must be "
                                 "at least 1")
    try:
        app = create_app(start_executor=True)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    container = app.config["CONTAINER"]
    _echo_migrated(container)
    click.echo(f"connector serving on http://{host}:{port} "
               f"(database {container.db.engine.url.render_as_string(hide_password=True)}, "
               f"executor {container.config.executor})")
    try:
        make_server(app, host=host, port=port, threads=threads, ack_threads=ack_threads,
                    connection_limit=connection_limit).run()
    finally:
        container.close()


@main.command()
def migrate() -> None:
    """Apply database migrations up to the newest revision."""
    from connector.store.db import Database

    db = Database(_config().database_url)
    try:
        click.echo(f"database ready (migrated to {db.migrate()})")
    finally:
        db.dispose()


def _echo_migrated(container) -> None:
    """One line instead of Alembic's one per revision, when the start migrated."""
    if migrated_to := container.extras.get("migrated_to"):
        click.echo(f"database ready (migrated to {migrated_to})")


@main.command()
@click.option("--concurrency", default=4, show_default=True, type=int,
              help="Batches processed at once by this worker")
@click.option("--pool", default="threads", show_default=True,
              type=click.Choice(["threads", "prefork", "solo"]))
@click.option("--hostname", default=None, help="Celery node name (default: celery@host)")
@click.option("--metrics-port", default=None, type=int,
              help="Serve this worker's Prometheus metrics on this port")
@click.option("--metrics-host", default="0.0.0.0", show_default=True)
@click.option("--beat", is_flag=True,
              help="Also run the schedule (the HubSpot journal poller); one per deployment")
def worker(concurrency: int, pool: str, hostname: str | None, metrics_port: int | None,
           metrics_host: str, beat: bool) -> None:
    """Run a Celery worker (CONNECTOR_EXECUTOR=celery, CELERY_BROKER_URL) and the sweep."""
    from connector.jobs.worker import run_worker

    config = _config()
    level = logging.getLevelName(logging.getLogger().getEffectiveLevel())
    run_worker(config, concurrency=concurrency, pool=pool, loglevel=level, hostname=hostname,
               metrics_port=metrics_port, metrics_host=metrics_host, beat=beat)


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


DEFAULT_TOKEN_TTL = 24 * 3600


def _jwt_secret() -> str:
    from connector.config import check_jwt_secret

    try:
        return check_jwt_secret(_config().jwt_secret)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
@accounts.command("list")
def accounts_list() -> None:
    """Every account: id, state, name, and the portals and orgs connected to it."""
    from sqlalchemy import select

    from connector.bootstrap import bootstrap
    from connector.store import sources_repo
    from connector.store.models import AccountRow

    container = bootstrap(_config())
    try:
        with container.db.read_session() as session:
            rows = list(session.scalars(select(AccountRow).order_by(AccountRow.created_at)))
            for row in rows:
                sources = ", ".join(f"{source} {key}" for source, key in
                                    sources_repo.keys_for_account(session, row.id))
                click.echo(f"{row.id}  {'active' if row.active else 'inactive':8}  "
                           f"{row.name}" + (f"  ({sources})" if sources else ""))
            if not rows:
                click.echo("no accounts yet: connector accounts create --name NAME")
    finally:
        container.close()


@main.command()
@click.option("--account", "account_id", help="Account id the token acts for")
@click.option("--admin", is_flag=True, help="May create and manage accounts")
@click.option("--ttl", type=click.IntRange(min=1), default=DEFAULT_TOKEN_TTL,
              show_default=True, help="Lifetime in seconds")
def token(account_id: str | None, admin: bool, ttl: int) -> None:
    """Print a bearer JWT signed with CONNECTOR_JWT_SECRET; it expires after --ttl seconds
    and can be revoked earlier with ``connector revoke-token``."""
    from connector.web.auth import issue_token

    if not account_id and not admin:
        raise click.UsageError("give --account ID, --admin, or both")
    click.echo(issue_token(_jwt_secret(), account_id, admin=admin, ttl_seconds=ttl))


@main.command("revoke-token")
@click.argument("token_or_id")
def revoke_token(token_or_id: str) -> None:
    """Refuse a token from now on, without rotating CONNECTOR_JWT_SECRET: give the token
    itself or its ``jti`` claim. Every serving process refuses it within a second."""
    import jwt

    from connector.bootstrap import bootstrap
    from connector.store.revocations import API_TOKEN, revoke

    jti, exp = token_or_id.strip(), None
    if jti.count(".") == 2:  # a whole JWT: read its id and expiry, after checking it is ours
        try:
            claims = jwt.decode(jti, _jwt_secret(), algorithms=["HS256"],
                                options={"verify_exp": False})
        except jwt.InvalidTokenError:
            raise click.ClickException("not a token signed with CONNECTOR_JWT_SECRET") from None
        if not isinstance(claims.get("jti"), str):
            raise click.ClickException("this token has no jti (issued before tokens could be "
                                       "revoked): rotate CONNECTOR_JWT_SECRET to end it")
        jti, exp = claims["jti"], claims.get("exp")
    if not jti or len(jti) > 64:
        raise click.ClickException("give a token or its jti (at most 64 characters)")
    container = bootstrap(_config())
    try:
        fresh = revoke(container.db, jti, API_TOKEN, exp)
    finally:
        container.close()
    click.echo(f"token {jti} revoked" if fresh else f"token {jti} was already revoked")


@main.group()
def events() -> None:
    """Inspect and replay inbox events."""


@events.command("list")
@click.option("--failed", is_flag=True, help="Only failed and dead-letter events")
@click.option("--limit", default=50, show_default=True)
@click.option("--account", "account_id", default=None,
              help="Only the events of this account's portals/orgs")
def events_list(failed: bool, limit: int, account_id: str | None) -> None:
    from sqlalchemy import select

    from connector.bootstrap import bootstrap
    from connector.store.models import InboxEventRow

    container = bootstrap(_config())
    query = select(InboxEventRow).order_by(InboxEventRow.created_at.desc()).limit(limit)
    if failed:
        query = query.where(InboxEventRow.status.in_(("failed", "dead")))
    if account_id:
        from connector.store.sources_repo import event_scope

        query = query.where(event_scope(account_id))
    with container.db.read_session() as session:
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


@main.group()
def admin() -> None:
    """Admin console users and the CRM portals each account owns."""


@admin.command("create-user")
@click.option("--email", required=True)
@click.option("--account", "account_id", required=True, help="Account the admin manages")
@click.option("--password-stdin", is_flag=True,
              help="Read the password from standard input instead of prompting")
def admin_create_user(email: str, account_id: str, password_stdin: bool) -> None:
    """Create an admin who signs in at /admin; prints the admin's id."""
    from connector.bootstrap import bootstrap
    from connector.service.admin_users import AdminUserError, create_admin

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    container = bootstrap(_config())
    try:
        click.echo(create_admin(container.db, email, account_id, password))
    except AdminUserError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        container.close()


@admin.command("link-source")
@click.option("--account", "account_id", required=True)
@click.option("--source", required=True, type=click.Choice(["hubspot", "salesforce"]))
@click.option("--key", "account_key", required=True,
              help="The HubSpot portal id or Salesforce org id its events carry")
@click.option("--move", is_flag=True, help="Take it from the account it belongs to now")
def admin_link_source(account_id: str, source: str, account_key: str, move: bool) -> None:
    """Same as ``connector sources link``."""
    from connector.cli_sources import link_and_report

    link_and_report(account_id, source, account_key, move)


@main.command("demo-salesforce")
@click.option("--conversations", default=3, show_default=True)
@click.option("--records", default=5, show_default=True)
def demo_salesforce(conversations: int, records: int) -> None:
    """Run the Salesforce flow against the bundled fake org (BYOC routing, decline and
    re-offer, Outbound Message leads with OwnerId write-back)."""
    from connector.salesforce_demo import demo

    demo(conversations, records, echo=click.echo,
         progress=lambda length, label: click.progressbar(length=length, label=label))


def _add_subcommands() -> None:
    """Command groups that live in their own modules."""
    from connector.cli_hubspot import hubspot
    from connector.cli_keys import keys
    from connector.cli_routers import routers
    from connector.cli_sources import sources
    from connector.demo import demo
    from connector.fake_hubspot_cli import fake_hubspot
    from connector.mapping.commands import mappings

    for command in (mappings, hubspot, demo, sources, fake_hubspot, keys, routers):
        main.add_command(command)


_add_subcommands()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
