"""``connector routers backtest``: a saved router over the account's stored records, with
a progress bar and the per-rep table; writes nothing."""

from __future__ import annotations

from contextlib import ExitStack
from datetime import UTC, datetime

import click

from connector.config import Config


@click.group()
def routers() -> None:
    """Routers: try them out on past records."""


@routers.command("backtest")
@click.option("--account", "account_id", required=True, help="The router's account")
@click.option("--router", "router_id", required=True, help="The router to replay")
@click.option("--days", default=30, show_default=True, type=click.IntRange(1, 365),
              help="Records created in the last N days")
@click.option("--source", "sources", multiple=True,
              type=click.Choice(["api", "hubspot", "salesforce"]),
              help="Only records from this source (repeat for several)")
def backtest(account_id: str, router_id: str, days: int, sources: tuple[str, ...]) -> None:
    """Who the router would have chosen for each record, against who owns it now."""
    from connector.bootstrap import bootstrap
    from connector.service import backtests
    from connector.service.v1_errors import V1Error

    container = bootstrap(Config.from_env())
    try:
        with ExitStack() as stack:
            bars: list = []

            def counted(total: int) -> None:
                bars.append(stack.enter_context(
                    click.progressbar(length=total, label="records replayed")))

            def progress(done: int, _total: int) -> None:
                bars[0].update(done - bars[0].pos)

            found = backtests.run(container.db, account_id, now=datetime.now(UTC),
                                  chosen=backtests.RecordFilter(days=days, sources=sources),
                                  router_id=router_id, progress=progress, on_count=counted)
    except V1Error as exc:
        details = "; ".join(f"{field}: {problem}" for field, problem in exc.fields.items())
        raise click.ClickException(details or exc.message) from None
    finally:
        container.close()
    for line in backtests.table(found):
        click.echo(line)
