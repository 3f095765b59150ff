"""The mappings management API: admin only, validate with line numbers, preview without
writing, save, history, diff, rollback, export."""

from __future__ import annotations

from sqlalchemy import func, select

from connector.store.models import DecisionRow, InboxEventRow, MappingVersionRow
from tests.conftest import JWT_SECRET, auth
from tests.integration.helpers import make_router, make_user

ADMIN = auth(None, admin=True)


def admin_as(subject: str) -> dict[str, str]:
    from connector.web.auth import issue_token

    token = issue_token(JWT_SECRET, None, admin=True, subject=subject)
    return {"Authorization": f"Bearer {token}"}


def current_yaml(client) -> str:
    return client.get("/mappings/hubspot/contact", headers=ADMIN).get_json()["current"]["yaml"]


def test_a_token_is_required(client):
    assert client.get("/mappings").status_code == 401


def test_list_and_show(client):
    listed = client.get("/mappings", headers=ADMIN).get_json()["results"]
    assert {(m["source"], m["object"]) for m in listed} >= {("hubspot", "contact"),
                                                           ("salesforce", "conversation")}
    shown = client.get("/mappings/hubspot/contact", headers=ADMIN).get_json()
    assert shown["current"]["version"] == 0
    assert shown["current"]["owner"] == {"field": "contact_owner",
                                         "property": "hubspot_owner_id"}
    assert "hubspot_owner_id" in shown["current"]["properties"]
    assert shown["current"]["yaml"].startswith("# HubSpot contact")
    assert [v["version"] for v in shown["versions"]] == [0]
    missing = client.get("/mappings/hubspot/widget", headers=ADMIN)
    assert (missing.status_code, missing.get_json()["message"]) == (404, "Mapping not found")


def test_validate_returns_errors_with_line_numbers(client):
    text = current_yaml(client).replace("type: number}\n  annual", "type: numbr}\n  annual")
    response = client.post("/mappings/hubspot/contact/validate", json={"yaml": text},
                           headers=ADMIN)
    assert response.status_code == 200
    body = response.get_json()
    assert body["valid"] is False
    assert body["errors"] == [{
        "line": 17, "field": "employees",
        "message": "type must be one of string, number, integer, boolean, date, datetime, "
                   "enum; got 'numbr'",
        "text": "hubspot/contact (draft):17: field 'employees': type must be one of string, "
                "number, integer, boolean, date, datetime, enum; got 'numbr'"}]
    ok = client.post("/mappings/hubspot/contact/validate", json={"yaml": current_yaml(client)},
                     headers=ADMIN).get_json()
    assert ok["valid"] is True and ok["errors"] == [] and "email" in ok["properties"]
    missing = client.post("/mappings/hubspot/contact/validate", json={}, headers=ADMIN)
    assert (missing.status_code, missing.get_json()["message"]) == (400, "Missing 'yaml'")


def test_save_diff_rollback_and_export(client, container):
    original = current_yaml(client)
    edited = original.replace("transforms: [trim]}\n  state", "transforms: [trim, upper]}\n"
                                                               "  state")
    saved = client.put("/mappings/hubspot/contact", json={"yaml": edited,
                                                          "comment": "upper-case countries"},
                       headers=admin_as("ana@example.com"))
    assert saved.status_code == 201
    assert {k: saved.get_json()[k] for k in ("version", "author", "comment")} == {
        "version": 1, "author": "ana@example.com", "comment": "upper-case countries"}
    assert container.mappings.get("hubspot", "contact").version == 1

    bad = client.post("/mappings/hubspot/contact/versions",
                      json={"yaml": edited.replace("source: hubspot", "source: hubspott")},
                      headers=ADMIN)
    assert bad.status_code == 400
    assert bad.get_json()["message"] == (
        "Invalid mapping: hubspot/contact (draft):2: source must be one of hubspot, "
        "salesforce; got 'hubspott'")
    assert bad.get_json()["errors"][0]["line"] == 2

    diff = client.get("/mappings/hubspot/contact/diff?from=0&to=1", headers=ADMIN).get_json()
    assert diff["from"] == 0 and diff["to"] == 1
    assert "+  country: {source: country, transforms: [trim, upper]}" in diff["diff"]
    current = client.get("/mappings/hubspot/contact/diff?from=0", headers=ADMIN).get_json()
    assert current["to"] == 1
    assert client.get("/mappings/hubspot/contact/diff", headers=ADMIN).get_json()[
        "message"] == "Missing query parameter 'from'"
    assert client.get("/mappings/hubspot/contact/diff?from=x",
                      headers=ADMIN).get_json()["message"] == \
        "Invalid 'from': must be a version number"
    assert client.get("/mappings/hubspot/contact/diff?from=7", headers=ADMIN).status_code \
        == 404

    rolled = client.post("/mappings/hubspot/contact/rollback", json={"version": 0},
                         headers=admin_as("bob@example.com"))
    assert rolled.status_code == 201
    assert {k: rolled.get_json()[k] for k in ("version", "restored_from", "comment",
                                              "author")} == {
        "version": 2, "restored_from": 0, "comment": "rollback to file",
        "author": "bob@example.com"}
    assert container.mappings.get("hubspot", "contact").version == 2
    history = client.get("/mappings/hubspot/contact", headers=ADMIN).get_json()["versions"]
    assert [v["version"] for v in history] == [2, 1, 0]

    exported = client.get("/mappings/hubspot/contact/export?version=1", headers=ADMIN)
    assert exported.mimetype == "application/yaml"
    assert exported.get_data(as_text=True) == edited
    assert client.get("/mappings/hubspot/contact/versions/1",
                      headers=ADMIN).get_json()["yaml"] == edited
    assert client.post("/mappings/hubspot/contact/rollback", json={},
                       headers=ADMIN).get_json()["message"] == \
        "Missing 'version': the version number to restore"


def test_preview_maps_and_matches_triggers_writing_nothing(client, headers, container):
    user = make_user(client, headers, "jane@example.com")
    germany = make_router(client, headers, [user], trigger={"groups": [{"conditions": [
        {"field": "country", "operator": "equals", "value": "DE"}]}]})
    big = make_router(client, headers, [user], trigger={"groups": [{"conditions": [
        {"field": "employees", "operator": "gt", "value": 500}]}]})
    make_router(client, headers, [user], published=False)
    make_router(client, headers, [user], object_type="ticket")

    def count_rows():
        with container.db.session() as session:
            return tuple(session.scalar(select(func.count()).select_from(t))
                         for t in (DecisionRow, InboxEventRow, MappingVersionRow))

    before = count_rows()
    payload = {"id": "101", "properties": {"country": " DE ", "numemployees": "20",
                                           "hubspot_owner_id": "77"}}
    result = client.post("/mappings/hubspot/contact/preview", json={"payload": payload},
                         headers=ADMIN).get_json()
    assert result["record"]["country"] == "DE" and result["record"]["employees"] == 20
    assert result["owner"] == "77" and result["version"] == 0
    assert [(r["router_id"], r["matched"]) for r in result["routers"]] == [
        (germany, True), (big, False)]

    draft = current_yaml(client).replace("numemployees, type: number}",
                                         "numemployees, type: number, "
                                         "transforms: [{default: 1000}]}")
    drafted = client.post("/mappings/hubspot/contact/preview", json={
        "payload": {"country": "FR"}, "yaml": draft}, headers=ADMIN).get_json()
    assert drafted["version"] is None and drafted["record"]["employees"] == 1000
    assert [(r["router_id"], r["matched"]) for r in drafted["routers"]] == [
        (germany, False), (big, True)]

    other = client.post("/mappings/hubspot/contact/preview", json={
        "payload": {"country": "DE"}, "account_id": "someone-else"}, headers=ADMIN).get_json()
    assert other["routers"] == []

    invalid = client.post("/mappings/hubspot/contact/preview", json={
        "payload": {}, "yaml": draft.replace("type: number", "type: nmbr", 1)}, headers=ADMIN)
    assert invalid.status_code == 400 and invalid.get_json()["errors"][0]["line"] == 17

    required = current_yaml(client).replace("email: {source: email,",
                                            "email: {source: email, required: true,")
    failed = client.post("/mappings/hubspot/contact/preview", json={
        "payload": {"country": "DE"}, "yaml": required}, headers=ADMIN).get_json()
    assert failed["record"] is None and failed["routers"] == []
    assert failed["errors"] == [
        "hubspot/contact (draft): field 'email': required, but 'email' is empty"]
    assert client.post("/mappings/hubspot/contact/preview", json={"payload": []},
                       headers=ADMIN).get_json()["message"] == \
        "Invalid 'payload': must be an object (the record's properties)"
    assert count_rows() == before


def test_openapi_describes_the_mapping_endpoints(client):
    paths = client.get("/openapi.json").get_json()["paths"]
    assert set(paths["/mappings/{source}/{object}"]) == {"get", "put"}
    assert "400" in paths["/mappings/{source}/{object}/preview"]["post"]["responses"]
    assert "/dispatch/router" in paths


def test_a_stored_version_that_no_longer_validates_is_shown_with_its_errors(client,
                                                                           container):
    from connector.store import mapping_repository

    with container.db.session() as session:
        mapping_repository.add_row(session, "hubspot", "deal",
                                   "source: hubspot\nobject: deal\nowner: {field: o, "
                                   "property: p}\nfields:\n  a: {source: a, type: money}\n",
                                   "old release", "")
    shown = client.get("/mappings/hubspot/deal", headers=ADMIN)
    assert shown.status_code == 200
    current = shown.get_json()["current"]
    assert current["version"] == 1 and current["properties"] is None
    assert current["errors"][0]["text"] == (
        "hubspot/deal v1:5: field 'a': type must be one of string, number, integer, boolean, "
        "date, datetime, enum; got 'money'")
    rolled = client.post("/mappings/hubspot/deal/rollback", json={"version": 0},
                         headers=ADMIN)
    assert rolled.status_code == 201 and container.mappings.get("hubspot", "deal").version == 2


def test_preview_takes_a_stored_event_and_refuses_a_hubspot_webhook_event(client):
    outbound = {"eventType": "OutboundMessage", "sobject": "Lead", "received_at": 1.0,
                "record": {"Id": "00Q1", "Email": "A@B.example", "Country": "DE"}}
    lead = client.post("/mappings/salesforce/lead/preview", json={"payload": outbound},
                       headers=ADMIN).get_json()
    assert (lead["record"]["email"], lead["record"]["country"]) == ("a@b.example", "DE")
    byoc = {"eventType": "ConversationStarted", "received_at": 1.0,
            "data": {"conversationIdentifier": "c-1", "attributes": {"language": "EN"}}}
    conversation = client.post("/mappings/salesforce/conversation/preview",
                               json={"payload": byoc}, headers=ADMIN).get_json()
    assert conversation["record"]["language"] == "en"
    webhook = {"portal_id": "62515", "subscription_type": "contact.creation",
               "object_type": "contact", "object_id": "101", "action": "creation"}
    refused = client.post("/mappings/hubspot/contact/preview", json={"payload": webhook},
                          headers=ADMIN)
    assert refused.status_code == 400
    assert refused.get_json()["errors"][0]["message"] == (
        "the payload is a HubSpot webhook event (contact.creation of contact 101), which "
        "carries no record properties; paste the record's properties, or pick the event in "
        "the admin console, which reads the record from HubSpot")


def test_validate_preview_and_save_warn_about_trigger_fields_the_edit_drops(client, headers,
                                                                              account_id):
    rep = make_user(client, headers, "ana@example.com")
    trigger = {"match": "any", "groups": [{"match": "all", "conditions": [
        {"field": "country", "operator": "equals", "value": "DE"},
        {"field": "employees", "operator": "gt", "value": 10}]}]}
    eu = make_router(client, headers, [rep], trigger=trigger)
    client.patch(f"/routers/{eu}", json={"name": "EU inbound"}, headers=headers)
    draft_router = make_router(client, headers, [rep], published=False, trigger=trigger)
    text = current_yaml(client)
    renamed = text.replace("  country: {source: country", "  country_code: {source: country")
    unchanged = client.post("/mappings/hubspot/contact/validate", json={"yaml": text},
                            headers=ADMIN).get_json()
    assert unchanged["warnings"] == []

    checked = client.post("/mappings/hubspot/contact/validate", json={"yaml": renamed},
                          headers=ADMIN).get_json()
    assert checked["valid"] is True
    assert [w["message"] for w in checked["warnings"]] == [
        "router 'EU inbound' (published) uses field 'country', which this version no "
        "longer maps",
        "router 'Router' (unpublished) uses field 'country', which this version no longer "
        "maps"]
    assert [(w["router_id"], w["account_id"], w["field"]) for w in checked["warnings"]] == [
        (eu, account_id, "country"), (draft_router, account_id, "country")]
    previewed = client.post("/mappings/hubspot/contact/preview", json={
        "payload": {"country": "DE"}, "yaml": renamed}, headers=ADMIN).get_json()
    assert len(previewed["warnings"]) == 2
    saved = client.put("/mappings/hubspot/contact", json={
        "yaml": renamed, "comment": "country code"}, headers=ADMIN)
    assert saved.status_code == 201 and saved.get_json()["version"] == 1
    assert [w["router"] for w in saved.get_json()["warnings"]] == ["EU inbound", "Router"]
    again = client.put("/mappings/hubspot/contact", json={"yaml": renamed, "comment": "same"},
                       headers=ADMIN).get_json()
    assert again["warnings"] == []  # measured against the version it replaces
