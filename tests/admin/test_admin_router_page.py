"""The router page and the decision pages as a first-time admin meets them: a router
without conditions says it takes every record, group numbers are chosen, Simulate is a
form of the mapped fields, reps without a name are shown by email, and decisions about
routers or records that never existed say so."""

from __future__ import annotations

import re

from tests.admin.seed import csrf, sign_in
from tests.admin.seed import html_of as _html
from tests.conftest import auth
from tests.integration.helpers import dispatch, make_user


def _condition_rows(html: str) -> list[str]:
    return re.findall(r'<tr class="condition">.*?</tr>', html, re.S)


def test_a_router_without_conditions_takes_every_record(client, two):
    acme, _ = two
    sign_in(client, acme.email)
    created = client.post("/admin/routers", data={"csrf_token": csrf(client),
                                                  "name": "Everything",
                                                  "object_type": "contact"})
    page = _html(client.get(created.headers["Location"]))
    assert "No conditions: this router takes every contact record." in page
    rows = _condition_rows(page)
    assert len(rows) == 1  # one empty row; "Add a condition" adds more
    assert 'id="add-condition"' in page
    # group numbers are chosen, not typed: 1, or 2 for a new group
    assert re.findall(r'<option value="(\d+)"', rows[0]) == ["1", "2"]
    assert 'name="cond-0-group"' in rows[0] and "<select" in rows[0]

    with_trigger = _html(client.get(f"/admin/routers/{acme.router_id}"))
    assert "takes every" not in with_trigger
    rows = _condition_rows(with_trigger)
    assert len(rows) == 2 and 'value="country"' in rows[0]
    assert "(new group)" in rows[0]


def test_a_rep_without_a_name_is_shown_by_email(client, two):
    acme, _ = two
    make_user(client, auth(acme.account_id), "nameless@acme.example")
    sign_in(client, acme.email)
    page = _html(client.get(f"/admin/routers/{acme.router_id}"))
    assert "&lt;nameless@acme.example&gt;" not in page
    assert "<td>nameless@acme.example</td>" in page
    assert "<td>Jane Doe &lt;jane@acme.example&gt;</td>" in page


def test_simulate_from_the_form_of_mapped_fields(client, two):
    acme, _ = two
    sign_in(client, acme.email)
    page = _html(client.get(f"/admin/routers/{acme.router_id}"))
    assert 'name="field:country" value="DE"' in page  # what the trigger looks for
    assert 'name="field:email" value=""' in page
    token = csrf(client)
    routed = _html(client.post(f"/admin/routers/{acme.router_id}/simulate", data={
        "csrf_token": token, "mode": "fields", "field:country": "DE", "field:email": "",
        "field:employees": "250", "as_published": "1"}))
    assert "Assigned to Jane Doe &lt;jane@acme.example&gt;." in routed
    # the record simulated is shown again, typed as the mapping types it
    assert "&#34;employees&#34;: 250" in routed and "&#34;email&#34;: null" in routed
    missed = _html(client.post(f"/admin/routers/{acme.router_id}/simulate", data={
        "csrf_token": token, "mode": "fields", "field:country": "FR", "as_published": "1"}))
    assert "did not match the router&#39;s trigger" in missed


def test_already_has_an_owner_names_the_owner(client, two):
    acme, _ = two
    again = dispatch(client, auth(acme.account_id), acme.router_id, acme.contact_id)
    assert again.json["message"] != "The object was successfully assigned"
    sign_in(client, acme.email)
    listing = _html(client.get("/admin/decisions"))
    assert "already has an owner, Jane Doe &lt;jane@acme.example&gt;, and the router may " \
        "not overwrite it." in listing


def test_decisions_for_routers_and_records_that_never_existed(client, two):
    acme, _ = two
    headers = auth(acme.account_id)
    assert dispatch(client, headers, "nope", acme.contact_id).json["message"] == \
        "Router not found"
    assert dispatch(client, headers, acme.router_id, "ghost").json["message"] == \
        "Object not found"
    sign_in(client, acme.email)
    listing = _html(client.get("/admin/decisions"))
    assert "no such router &#39;nope&#39;" in listing
    assert "no such record &#39;ghost&#39;" in listing
    assert "(deleted router)" not in listing and "(record removed)" not in listing
    # a router deleted later is still told apart
    client.delete(f"/routers/{acme.router_id}", headers=headers)
    assert "(deleted router)" in _html(client.get("/admin/decisions"))
    stored = client.get("/decisions?router_id=", headers=headers).json["results"]
    asked = [d["reason"].get("requested") for d in stored if d["reason"].get("requested")]
    assert {"router_id": "nope", "object_id": acme.contact_id} in asked
