"""``connector mappings ...`` through click's CliRunner against a SQLite file."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from connector.bootstrap import bootstrap
from connector.cli import main
from connector.config import Config
from connector.mapping import versions
from connector.store.models import AccountRow, DecisionRow, MappingVersionRow, RouterRow


@pytest.fixture
def env(tmp_path) -> dict[str, str]:
    return {"DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}", "CONNECTOR_EXECUTOR": "inline"}


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def run(runner, env, *args: str):
    return runner.invoke(main, ["--log-level", "WARNING", "mappings", *args], env=env)


def test_validate_all_default_files(runner, env):
    result = run(runner, env, "validate")
    assert result.exit_code == 0, result.output
    assert "mappings/hubspot/contact.yaml: ok (11 fields; fetches email," in result.output
    assert result.output.count(": ok (") == 8


def test_validate_a_broken_file_exits_1_with_each_error(runner, env, tmp_path):
    path = tmp_path / "hubspot" / "contact.yaml"
    path.parent.mkdir()
    path.write_text("source: hubspot\nobject: contact\nowner: {field: o, property: p}\n"
                    "fields:\n  employees: {source: n, type: numbr}\n  e: {sorce: x}\n")
    result = run(runner, env, "validate", str(path))
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        f"{path}:5: field 'employees': type must be one of string, number, integer, boolean, "
        "date, datetime, enum; got 'numbr'",
        f"{path}:6: field 'e': unknown key 'sorce'; expected one of default, description, "
        "required, source, sources, transforms, type, values",
        "1 mapping(s) invalid"]


def test_show_prints_the_current_version_and_its_properties(runner, env):
    result = run(runner, env, "show", "hubspot/deal")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("# hubspot/deal version 0: the default file")
    assert "  amount: {source: amount, type: number}" in lines
    assert "# properties fetched: dealname, pipeline, dealstage, amount, dealtype, " \
           "hubspot_owner_id" in lines
    assert "# owner: field deal_owner <- property hubspot_owner_id" in lines


def test_save_history_diff_export_rollback(runner, env, tmp_path):
    exported = run(runner, env, "export", "hubspot/deal")
    draft = tmp_path / "deal.yaml"
    draft.write_text(exported.output + "  currency: deal_currency_code\n")
    saved = run(runner, env, "save", "hubspot/deal", str(draft), "--author", "ana",
                "--comment", "currency")
    assert saved.output == "saved hubspot/deal version 1\n"
    shown = run(runner, env, "show", "hubspot/deal")
    assert shown.output.splitlines()[0].startswith("# hubspot/deal version 1 by ana at ")
    assert shown.output.splitlines()[0].endswith(": currency")
    assert "deal_currency_code, hubspot_owner_id" in shown.output
    history = run(runner, env, "history", "hubspot/deal").output.splitlines()
    assert [line.split()[0] for line in history] == ["1", "0"]
    diff = run(runner, env, "diff", "hubspot/deal", "0", "1").output
    assert "+  currency: deal_currency_code" in diff
    rolled = run(runner, env, "rollback", "hubspot/deal", "0", "--author", "bob")
    assert rolled.output == "saved hubspot/deal version 2 (a copy of version 0)\n"
    assert run(runner, env, "diff", "hubspot/deal", "0").output == "(no differences)\n"
    assert run(runner, env, "export", "hubspot/deal", "--version", "1").output == \
        draft.read_text()


def test_save_refuses_an_invalid_file(runner, env, tmp_path):
    draft = tmp_path / "deal.yaml"
    draft.write_text(run(runner, env, "export", "hubspot/deal").output.replace(
        "type: number", "type: numbr"))
    result = run(runner, env, "save", "hubspot/deal", str(draft), "--author", "ana")
    assert result.exit_code == 1
    assert result.output == ("hubspot/deal (draft):11: field 'amount': type must be one of "
                             "string, number, integer, boolean, date, datetime, enum; got "
                             "'numbr'\n")


def test_unknown_names(runner, env):
    result = run(runner, env, "show", "hubspot/widget")
    assert result.exit_code == 1 and "Error: no mapping for hubspot/widget" in result.output
    result = run(runner, env, "show", "hubspot")
    assert result.exit_code == 2
    assert "'hubspot': expected SOURCE/OBJECT, e.g. hubspot/contact" in result.output


def _routers(env) -> tuple[str, str, str]:
    container = bootstrap(Config.from_env(env))
    with container.db.session() as session:
        account = AccountRow(name="Acme")
        other = AccountRow(name="Other")
        session.add_all([account, other])
        session.flush()

        def router(acct, name, value):
            row = RouterRow(account_id=acct.id, name=name, object_type="deal", published=True,
                            settings={"users": [], "trigger": {"groups": [{"conditions": [
                                {"field": "amount", "operator": "gte", "value": value}]}]}})
            session.add(row)
            session.flush()
            return row.id

        ids = (router(account, "Big deals", 10000), router(account, "Small deals", 0),
               router(other, "Other big", 10000))
        account_id = account.id
    container.close()
    return account_id, ids[0], ids[1]


def test_preview_prints_the_record_and_matching_routers_writing_nothing(runner, env,
                                                                       tmp_path):
    account_id, big, small = _routers(env)
    payload = tmp_path / "sample.json"
    payload.write_text(json.dumps({"dealname": " Renewal ", "amount": "2500",
                                   "hubspot_owner_id": "9"}))
    result = run(runner, env, "preview", "hubspot/deal", "--payload", str(payload),
                 "--account", account_id)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == "mapping hubspot/deal (version 0), object type deal"
    assert '"deal_name": "Renewal"' in result.output and '"amount": 2500' in result.output
    assert f"  no match  Big deals ({big}, account {account_id})" in result.output
    assert f"  MATCH     Small deals ({small}, account {account_id})" in result.output
    assert "Other big" not in result.output

    everyone = run(runner, env, "preview", "hubspot/deal", "--payload", str(payload), "--json")
    data = json.loads(everyone.output)
    assert [r["name"] for r in data["routers"]] == ["Big deals", "Small deals", "Other big"]

    draft = tmp_path / "draft.yaml"
    draft.write_text(run(runner, env, "export", "hubspot/deal").output.replace(
        "amount: {source: amount, type: number}",
        "amount: {source: amount, type: number, required: true}"))
    payload.write_text(json.dumps({"dealname": "No amount"}))
    failed = run(runner, env, "preview", "hubspot/deal", "--payload", str(payload),
                 "--draft", str(draft))
    assert failed.exit_code == 1
    assert failed.output.splitlines()[1:] == [
        "the record cannot be mapped; it would not be routed:",
        "  hubspot/deal (draft): field 'amount': required, but 'amount' is empty"]

    container = bootstrap(Config.from_env(env))
    with container.db.session() as session:
        assert session.scalar(select(func.count()).select_from(DecisionRow)) == 0
        assert session.scalar(select(func.count()).select_from(MappingVersionRow)) == 0
    assert versions.get_version(container.db, "hubspot", "deal").version == 0
    container.close()


def test_preview_rejects_a_payload_that_is_not_a_json_object(runner, env, tmp_path):
    payload = tmp_path / "sample.json"
    payload.write_text("[1, 2]")
    result = run(runner, env, "preview", "hubspot/deal", "--payload", str(payload))
    assert result.exit_code == 2
    assert "expected a JSON object (the record's properties)" in result.output


def test_validate_stored_rechecks_the_current_versions_in_the_database(runner, env):
    from connector.store import mapping_repository

    container = bootstrap(Config.from_env(env))
    good = versions.export(container.db, "hubspot", "deal")
    with container.db.session() as session:
        mapping_repository.add_row(session, "hubspot", "deal", good, "ana", "")
        mapping_repository.add_row(session, "hubspot", "ticket", "source: hubspot\n",
                                   "old release", "")
        session.add(AccountRow(id="acc-1", name="Acme", active=True))
        session.flush()
        # saved before mapping regexes ran on RE2: a lookahead no longer loads
        mapping_repository.add_row(session, "hubspot", "deal", good.replace(
            "transforms: [trim]}", "transforms: [trim, {regex: 'a(?=b)'}]}", 1), "ana", "",
            account_id="acc-1")
    container.close()
    result = run(runner, env, "validate", "--stored")
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert "hubspot/deal v1: ok" in lines
    assert "hubspot/ticket v1:1: missing 'object'" in lines
    assert any(line.startswith("hubspot/deal v1:") and "(regex) cannot be used" in line
               and line.endswith("(account acc-1)") for line in lines)
    assert lines[-1] == "2 mapping(s) invalid"


def test_account_option_reads_and_changes_that_accounts_own_mapping(runner, env, tmp_path):
    container = bootstrap(Config.from_env().with_overrides({"database_url": env["DATABASE_URL"]}))
    with container.db.session() as session:
        session.add(AccountRow(id="acc-1", name="Acme", active=True))
    file_text = versions.get_version(container.db, "hubspot", "deal").yaml_text
    container.close()
    draft = tmp_path / "deal.yaml"
    draft.write_text(file_text.replace("transforms: [trim]}", "transforms: [trim, upper]}", 1))
    saved = run(runner, env, "save", "hubspot/deal", str(draft), "--author", "op",
                "--account", "acc-1")
    assert saved.exit_code == 0, saved.output
    assert "saved hubspot/deal version 1" in saved.output
    assert "upper" in run(runner, env, "export", "hubspot/deal", "--account", "acc-1").output
    assert run(runner, env, "export", "hubspot/deal").output == file_text
    assert "version 0: the default file" in run(runner, env, "show", "hubspot/deal").output
    unknown = run(runner, env, "save", "hubspot/deal", str(draft), "--author", "op",
                  "--account", "nope")
    assert unknown.exit_code == 2 and "no account nope" in unknown.output
