"""Tenant isolation of every /v1 resource; API keys: stored as a hash, last use, revoke,
accepted on the root API, and the command line."""

from __future__ import annotations

from click.testing import CliRunner
from sqlalchemy import select

from connector.cli import main
from connector.service.api_keys import create_key
from connector.store.models import ApiKeyRow
from tests.v1.conftest import error, make_rep, make_ruleset


def test_another_accounts_resources_are_not_found(client, v1, key_for, make_account):
    rep = make_rep(client, v1, "alex@company.com")
    ruleset = make_ruleset(client, v1, [], default_actions=[{"type": "ASSIGN_REP",
                                                             "rep_id": rep}])["id"]
    lead = client.post("/v1/leads", json={"email": "p@example.com"}, headers=v1).json
    contact = lead["contact_id"]
    client.post(f"/v1/contacts/{contact}/activities", json={"type": "NOTE"}, headers=v1)
    other = key_for(make_account("Globex"))
    for method, path, body in [
            ("GET", f"/v1/reps/{rep}", None), ("PATCH", f"/v1/reps/{rep}", {"name": "x"}),
            ("DELETE", f"/v1/reps/{rep}", None), ("GET", f"/v1/rules/{ruleset}", None),
            ("PATCH", f"/v1/rules/{ruleset}", {"name": "x"}),
            ("POST", f"/v1/rules/{ruleset}/activate", None),
            ("POST", f"/v1/rules/{ruleset}/test", {}),
            ("GET", f"/v1/rules/{ruleset}/versions", None),
            ("DELETE", f"/v1/rules/{ruleset}", None), ("GET", f"/v1/leads/{lead['id']}", None),
            ("GET", f"/v1/contacts/{contact}", None),
            ("GET", f"/v1/contacts/{contact}/activities", None),
            ("POST", f"/v1/contacts/{contact}/activities", {"type": "NOTE"})]:
        response = client.open(path, method=method, json=body, headers=other)
        assert response.status_code == 404, (method, path)
        assert response.json["error"]["code"] == "NOT_FOUND"
    assert client.get("/v1/reps", headers=other).json == []
    assert client.get("/v1/rules", headers=other).json["data"] == []
    assert client.get("/v1/leads", headers=other).json["data"] == []
    assert client.get("/v1/insights/routing", headers=other).json["groups"] == []
    # the other account's lead with the same email is its own, not a duplicate
    theirs = client.post("/v1/leads", json={"email": "p@example.com"}, headers=other).json
    assert theirs["duplicate"] is False and theirs["contact_id"] != contact
    assert client.get(f"/v1/reps/{rep}", headers=v1).status_code == 200


def test_a_key_is_shown_once_and_stored_only_as_a_hash(container, account_id):
    row, secret = create_key(container.db, account_id, ["leads:write"], "Website")
    assert secret.startswith("ck_") and len(secret) > 40
    with container.db.session() as session:
        stored = session.scalars(select(ApiKeyRow)).one()
        values = [str(getattr(stored, c.name)) for c in ApiKeyRow.__table__.columns]
    assert not any(secret in v for v in values)
    assert stored.prefix == secret[:11] and stored.scopes == ["leads:write"]


def test_last_use_is_recorded_and_a_revoked_key_stops_working(client, container, account_id,
                                                              clock):
    row, secret = create_key(container.db, account_id, ["*"])
    headers = {"Authorization": f"Bearer {secret}"}
    client.get("/v1/reps", headers=headers)
    with container.db.session() as session:
        assert session.get(ApiKeyRow, row.id).last_used_at == clock.at
    from connector.service.api_keys import revoke_key

    revoke_key(container.db, account_id, row.id)
    response = client.get("/v1/reps", headers=headers)
    assert (response.status_code, response.json) == (
        401, error("UNAUTHORIZED", "Invalid or missing API key."))


def test_a_star_key_works_on_the_root_api_and_a_restricted_one_does_not(client, key_for,
                                                                        account_id, clock):
    assert client.get("/users", headers=key_for(account_id)).status_code == 200
    response = client.get("/users", headers=key_for(account_id, ["reps:read"]))
    assert (response.status_code, response.json) == (403, {
        "message": "This API key's scopes do not include '*', which this API needs",
        "error": True})
    bad = client.get("/users", headers={"Authorization": "Bearer ck_wrong"})
    assert (bad.status_code, bad.json) == (401, {"message": "Invalid API key",
                                                 "error": True})


def test_keys_from_the_command_line(config, container, account_id, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", config.database_url)
    monkeypatch.setenv("CONNECTOR_JWT_SECRET", config.jwt_secret)
    runner = CliRunner()
    created = runner.invoke(main, ["keys", "create", "--account", account_id,
                                   "--scopes", "leads:write,reps:read", "--name", "Form"])
    assert created.exit_code == 0, created.output
    secret = created.output.strip()
    assert secret.startswith("ck_")
    listed = runner.invoke(main, ["keys", "list", "--account", account_id])
    assert secret[:11] in listed.output and secret not in listed.output
    assert "leads:write,reps:read" in listed.output and "never used" in listed.output
    key_id = listed.output.split()[0]
    assert runner.invoke(main, ["keys", "revoke", "--account", account_id,
                                key_id]).exit_code == 0
    assert "revoked" in runner.invoke(main, ["keys", "list", "--account",
                                             account_id]).output
    bad = runner.invoke(main, ["keys", "create", "--account", account_id, "--scopes", "all"])
    assert bad.exit_code == 1
    assert "scopes.0: unknown scope 'all', use one of *, leads:read" in bad.output

