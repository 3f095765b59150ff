"""Organization Settings → API keys: a key is shown once on creation, listed by prefix
and last use, revoked; each account sees only its own keys."""

from __future__ import annotations

import re

from sqlalchemy import select

from connector.store.models import ApiKeyRow
from tests.admin.seed import csrf, html_of, sign_in


def test_organization_settings_page_creates_lists_and_revokes_keys(client, two, container):
    acme, globex = two
    sign_in(client, acme.email)
    page = html_of(client.get("/admin/settings/keys"))
    assert "No API keys yet." in page and "<script>" not in page and " on" + "click" not in page
    made = client.post("/admin/settings/keys", data={
        "csrf_token": csrf(client, "/admin/settings/keys"), "name": "Website",
        "scopes": ["leads:write", "reps:read"]})
    assert made.status_code == 201 and made.headers["Cache-Control"] == "no-store"
    secret = re.search(r"<code>(ck_[^<]+)</code>", html_of(made)).group(1)
    again = html_of(client.get("/admin/settings/keys"))
    assert secret not in again and secret[:11] in again and "leads:write, reps:read" in again
    with container.db.session() as session:
        row = session.scalars(select(ApiKeyRow)).one()
        assert row.account_id == acme.account_id
    assert client.get("/v1/reps", headers={"Authorization": f"Bearer {secret}"}
                      ).status_code == 200
    none = client.post("/admin/settings/keys", data={
        "csrf_token": csrf(client, "/admin/settings/keys"), "name": "x"})
    assert none.status_code == 400 and "give at least one scope" in html_of(none)
    revoked = client.post(f"/admin/settings/keys/{row.id}/revoke",
                          data={"csrf_token": csrf(client, "/admin/settings/keys")})
    assert revoked.status_code == 302
    assert client.get("/v1/reps", headers={"Authorization": f"Bearer {secret}"}
                      ).status_code == 401
    client.post("/admin/logout", data={"csrf_token": csrf(client, "/admin/settings/keys")})
    sign_in(client, globex.email)
    assert "No API keys yet." in html_of(client.get("/admin/settings/keys"))
    refused = client.post(f"/admin/settings/keys/{row.id}/revoke",
                          data={"csrf_token": csrf(client, "/admin/settings/keys")})
    assert refused.status_code == 404
