"""``connector mappings ...``: validate the files, show the current version, preview a
payload, list the history, diff and export versions. Only ``save`` and ``rollback``
write (a new version); ``preview`` never writes anything.

The command line is the operator's: without ``--account`` a command reads or changes the
defaults (version 0 is the file), which every account without a version of its own maps
with; ``--account ID`` reads or changes that account's own mapping."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from .engine import MappingError, load_mapping_file
from .registry import default_mappings_dir


def _split_name(name: str) -> tuple[str, str]:
    source, _, obj = name.partition("/")
    if not source or not obj or "/" in obj:
        raise click.BadParameter(f"'{name}': expected SOURCE/OBJECT, e.g. hubspot/contact",
                                 param_hint="SOURCE/OBJECT")
    return source, obj


def _container():
    from connector.bootstrap import bootstrap
    from connector.config import Config

    return bootstrap(Config.from_env())


def _call(fn, *args, **kwargs) -> Any:
    """Service errors as clean command-line errors; an ``account_id`` must name an
    existing account."""
    from . import versions

    account_id = kwargs.get("account_id")
    if account_id is not None:
        from connector.store.models import AccountRow

        with args[0].read_session() as session:
            if session.get(AccountRow, account_id) is None:
                raise click.BadParameter(f"no account {account_id}", param_hint="--account")
    try:
        return fn(*args, **kwargs)
    except (versions.UnknownMapping, versions.UnknownVersion) as exc:
        raise click.ClickException(str(exc)) from None
    except MappingError as exc:
        for line in exc.errors:
            click.echo(line, err=True)
        raise click.exceptions.Exit(1) from None


def _account_option(fn):
    return click.option("--account", "account_id", default=None,
                        help="An account's own mapping (default: the defaults)")(fn)


@click.group()
def mappings() -> None:
    """Field mappings: validate, show, preview, history, diff, export, save, rollback."""


@mappings.command("validate")
@click.argument("files", nargs=-1, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--stored", is_flag=True,
              help="Also check the current version of every mapping in the database")
def validate_cmd(files: tuple[Path, ...], stored: bool) -> None:
    """Check mapping files (every default file when none is given); exit code 1 and one
    line per problem (file:line: field: what was expected) when any is invalid."""
    failed = _validate_stored() if stored else 0
    paths = list(files) or sorted(default_mappings_dir().glob("*/*.yaml"))
    if not paths:
        raise click.ClickException(f"no mapping files under {default_mappings_dir()}")
    for path in paths:
        try:
            mapping = load_mapping_file(path)
        except MappingError as exc:
            failed += 1
            for line in exc.errors:
                click.echo(line, err=True)
            continue
        click.echo(f"{mapping.origin}: ok ({len(mapping.fields)} fields; fetches "
                   f"{', '.join(mapping.properties)})")
    if failed:
        click.echo(f"{failed} mapping(s) invalid", err=True)
        sys.exit(1)


def _validate_stored() -> int:
    """Saved versions were valid when saved; this re-checks the current ones, of the
    defaults and of every account (after an upgrade, say). Returns how many failed."""
    from connector.store import mapping_repository

    from . import versions

    container = _container()
    failed = 0
    try:
        with container.db.read_session() as session:
            scopes = mapping_repository.scopes(session)
        for account_id in scopes:
            whose = "" if account_id is None else f" (account {account_id})"
            for row in versions.list_mappings(container.db, root=container.mappings.root,
                                              account_id=account_id):
                if row["version"] == 0:
                    continue
                found = versions.get_version(container.db, row["source"], row["object"],
                                             row["version"], root=container.mappings.root,
                                             account_id=account_id)
                try:
                    found.mapping()
                except MappingError as exc:
                    failed += 1
                    for line in exc.errors:
                        click.echo(f"{line}{whose}", err=True)
                    continue
                click.echo(f"{row['source']}/{row['object']} v{row['version']}{whose}: ok")
    finally:
        container.close()
    return failed


@mappings.command("show")
@_account_option
@click.argument("name", metavar="SOURCE/OBJECT")
@click.option("--version", "version", type=int, default=None,
              help="A version number (default: the current one; 0 = the file)")
def show_cmd(name: str, version: int | None, account_id: str | None) -> None:
    """Print a version's YAML (current by default) and the properties it fetches."""
    from . import versions

    source, obj = _split_name(name)
    container = _container()
    try:
        found = _call(versions.get_version, container.db, source, obj, version,
                      root=container.mappings.root, account_id=account_id)
        mapping = _call(found.mapping)
    finally:
        container.close()
    if found.is_default:
        click.echo(f"# {source}/{obj} version 0: "
                   + (f"the default file {found.comment}" if account_id is None
                      else f"{found.comment}, shared with every account without its own"))
    else:
        when = found.created_at.isoformat(timespec="seconds") if found.created_at else "-"
        click.echo(f"# {source}/{obj} version {found.version} by {found.author} at {when}"
                   + (f": {found.comment}" if found.comment else ""))
    click.echo(found.yaml_text.rstrip("\n"))
    click.echo(f"# properties fetched: {', '.join(mapping.properties)}")
    click.echo(f"# owner: field {mapping.owner_field} <- property {mapping.owner_property}")


@mappings.command("export")
@_account_option
@click.argument("name", metavar="SOURCE/OBJECT")
@click.option("--version", "version", type=int, default=None,
              help="A version number (default: the current one)")
def export_cmd(name: str, version: int | None, account_id: str | None) -> None:
    """Print a version's YAML exactly, e.g. to make it the new default file."""
    from . import versions

    source, obj = _split_name(name)
    container = _container()
    try:
        text = _call(versions.export, container.db, source, obj, version,
                     root=container.mappings.root, account_id=account_id)
    finally:
        container.close()
    click.echo(text, nl=False)


@mappings.command("history")
@_account_option
@click.argument("name", metavar="SOURCE/OBJECT")
def history_cmd(name: str, account_id: str | None) -> None:
    """List the versions, newest first."""
    from . import versions

    source, obj = _split_name(name)
    container = _container()
    try:
        found = _call(versions.list_versions, container.db, source, obj,
                      root=container.mappings.root, account_id=account_id)
    finally:
        container.close()
    for v in found:
        when = v.created_at.isoformat(timespec="seconds") if v.created_at else "-"
        click.echo(f"{v.version:>4}  {when:<25}  {v.author:<20}  {v.comment}")


@mappings.command("diff")
@_account_option
@click.argument("name", metavar="SOURCE/OBJECT")
@click.argument("old", type=int)
@click.argument("new", type=int, required=False)
def diff_cmd(name: str, old: int, new: int | None, account_id: str | None) -> None:
    """Unified diff from version OLD to NEW (default: the current one)."""
    from . import versions

    source, obj = _split_name(name)
    container = _container()
    try:
        text = _call(versions.diff, container.db, source, obj, old, new,
                     root=container.mappings.root, account_id=account_id)
    finally:
        container.close()
    click.echo(text or "(no differences)", nl=not text)


@mappings.command("save")
@_account_option
@click.argument("name", metavar="SOURCE/OBJECT")
@click.argument("file", type=click.File("r"))
@click.option("--author", required=True, help="Who makes the change")
@click.option("--comment", default="", help="Why")
def save_cmd(name: str, file, author: str, comment: str, account_id: str | None) -> None:
    """Validate FILE and save it as the new current version."""
    from . import versions

    source, obj = _split_name(name)
    container = _container()
    try:
        saved = _call(versions.save_version, container.db, source, obj, file.read(), author,
                      comment, root=container.mappings.root, account_id=account_id)
    finally:
        container.close()
    click.echo(f"saved {source}/{obj} version {saved.version}")


@mappings.command("rollback")
@_account_option
@click.argument("name", metavar="SOURCE/OBJECT")
@click.argument("version", type=int)
@click.option("--author", required=True, help="Who makes the change")
@click.option("--comment", default=None, help="Why (default: 'rollback to vN')")
def rollback_cmd(name: str, version: int, author: str, comment: str | None,
                 account_id: str | None) -> None:
    """Make VERSION current again (saved as a new version)."""
    from . import versions

    source, obj = _split_name(name)
    container = _container()
    try:
        saved = _call(versions.rollback, container.db, source, obj, version, author, comment,
                      root=container.mappings.root, account_id=account_id)
    finally:
        container.close()
    click.echo(f"saved {source}/{obj} version {saved.version} (a copy of version {version})")


@mappings.command("preview")
@click.argument("name", metavar="SOURCE/OBJECT")
@click.option("--payload", "payload_file", required=True, type=click.File("r"),
              help="A JSON file with the record's properties ('-' reads stdin)")
@click.option("--account", "account_id", default=None,
              help="Only this account's routers (default: every account's)")
@click.option("--draft", "draft_file", type=click.File("r"), default=None,
              help="A YAML file to try instead of the current version")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON")
def preview_cmd(name: str, payload_file, account_id: str | None, draft_file,
                as_json: bool) -> None:
    """Map a sample payload and show which published routers' triggers match. Writes
    nothing. Exit code 1 when the record cannot be mapped."""
    from . import preview

    source, obj = _split_name(name)
    try:
        payload = json.load(payload_file)
    except json.JSONDecodeError as exc:
        raise click.BadParameter(f"not valid JSON: {exc}", param_hint="--payload") from None
    if not isinstance(payload, dict):
        raise click.BadParameter("expected a JSON object (the record's properties)",
                                 param_hint="--payload")
    draft = draft_file.read() if draft_file is not None else None
    container = _container()
    try:
        result = _call(preview.preview, container.db, source, obj, payload, yaml_text=draft,
                       account_id=account_id, root=container.mappings.root)
    finally:
        container.close()
    if as_json:
        click.echo(json.dumps(result.as_dict(), indent=2, default=str))
    else:
        _print_preview(result)
    if result.errors:
        sys.exit(1)


def _print_preview(result) -> None:
    label = "draft" if result.version is None else f"version {result.version}"
    click.echo(f"mapping {result.source}/{result.object} ({label}), object type "
               f"{result.object_type}")
    if result.errors:
        click.echo("the record cannot be mapped; it would not be routed:")
        for error in result.errors:
            click.echo(f"  {error}")
        return
    click.echo("record:")
    click.echo(json.dumps(result.record, indent=2, default=str))
    click.echo(f"current owner ({result.owner!r})" if result.owner else "no current owner")
    if not result.routers:
        click.echo(f"no published {result.object_type} routers")
        return
    click.echo("routers:")
    for router in result.routers:
        state = "MATCH" if router.matched else "no match"
        extra = f" - {router.error}" if router.error else ""
        click.echo(f"  {state:<9} {router.name} ({router.router_id}, account "
                   f"{router.account_id}){extra}")
