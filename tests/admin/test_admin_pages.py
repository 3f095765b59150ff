"""The console's pages: tenant isolation, router editing through the API's schema,
simulation that stores nothing, decisions with reasons, events replay, mappings."""

from __future__ import annotations

from sqlalchemy import func, select

from connector.store.models import (
    AssignmentCounterRow,
    DecisionRow,
    InboxEventRow,
    MappingVersionRow,
    RouterRow,
)
from tests.admin.seed import csrf, sign_in
from tests.admin.seed import html_of as _html
from tests.conftest import auth


def _router_form(client, router_id: str, **changes) -> dict[str, str]:
    """The router form as the page renders it, with ``changes`` applied."""
    import re

    html = _html(client.get(f"/admin/routers/{router_id}"))
    form = html[html.index('id="router-form"'):html.index("</form>",
                                                           html.index('id="router-form"'))]
    data: dict[str, str | list[str]] = {}
    for tag in re.findall(r"<input[^>]*>", form):
        name = re.search(r'name="([^"]+)"', tag)
        if not name:
            continue
        value = re.search(r'value="([^"]*)"', tag)
        if 'type="checkbox"' in tag and "checked" not in tag:
            continue
        text = value.group(1) if value else ""
        if name.group(1) in data:  # checkboxes sharing a name post every checked value
            earlier = data[name.group(1)]
            text = [*(earlier if isinstance(earlier, list) else [earlier]), text]
        data[name.group(1)] = text
    for select_name, body in re.findall(r'<select name="([^"]+)"[^>]*>(.*?)</select>', form,
                                        re.S):
        chosen = re.search(r'<option value="([^"]*)" selected', body) or \
            re.search(r'<option value="([^"]*)"', body)
        data[select_name] = chosen.group(1) if chosen else ""
    data.update(changes)
    return data


# -- tenant isolation -------------------------------------------------------------------

def test_each_admin_sees_only_their_accounts_routers_decisions_and_events(client, two):
    acme, globex = two
    sign_in(client, acme.email)
    assert "Acme inbound leads" in _html(client.get("/admin/routers"))
    assert "Globex inbound leads" not in _html(client.get("/admin/routers"))
    decisions = _html(client.get("/admin/decisions"))
    assert "jane@acme.example" in decisions and "globex" not in decisions
    events = _html(client.get("/admin/events"))
    assert acme.dead_event_id in events and globex.dead_event_id not in events


def test_another_accounts_ids_answer_404_and_change_nothing(container, client, two):
    acme, globex = two
    sign_in(client, acme.email)
    token = csrf(client)
    assert client.get(f"/admin/routers/{globex.router_id}").status_code == 404
    assert client.post(f"/admin/routers/{globex.router_id}/publish",
                       data={"csrf_token": token, "published": "0"}).status_code == 404
    assert client.post(f"/admin/routers/{globex.router_id}/simulate",
                       data={"csrf_token": token, "sample": "{}"}).status_code == 404
    assert client.post(f"/admin/events/{globex.dead_event_id}/replay",
                       data={"csrf_token": token}).status_code == 404
    client.post("/admin/events/replay", data={"csrf_token": token})
    with container.db.session() as session:
        assert session.get(RouterRow, globex.router_id).published is True
        assert session.get(InboxEventRow, globex.dead_event_id).status == "dead"
        assert session.get(InboxEventRow, acme.dead_event_id).status == "pending"
    other_decision = _decision_id(container, globex.account_id)
    assert client.get(f"/admin/decisions/{other_decision}").status_code == 404


def _decision_id(container, account_id: str) -> str:
    with container.db.session() as session:
        return session.scalars(select(DecisionRow.id).where(
            DecisionRow.account_id == account_id)).first()


def test_events_of_a_linked_crm_portal_belong_to_that_account(container, client, two):
    from connector.jobs import inbox
    from connector.service.sources import link_source

    acme, _ = two
    inbox.store_events(container.db, [inbox.NewEvent("hubspot", "portal-777", "p1",
                                                     "hubspot.contact", {"objectId": 9})])
    sign_in(client, acme.email)
    assert '"objectId": 9' not in _html(client.get("/admin/events?status=pending"))
    link_source(container.db, acme.account_id, "hubspot", "portal-777")
    assert '"objectId": 9' in _html(client.get("/admin/events?status=pending"))


# -- routers ----------------------------------------------------------------------------

def test_router_edit_saves_weights_caps_trigger_model_overwrite_and_backup(container, client,
                                                                           two):
    acme, _ = two
    sign_in(client, acme.email)
    form = _router_form(client, acme.router_id, **{
        "distribution": "weighted", f"member-{acme.jane}-weight": "3",
        f"member-{acme.jane}-daily_cap": "10", "cond-1-group": "2", "cond-1-field": "employees",
        "cond-1-operator": "between", "cond-1-value": "10, 500", "trigger_match": "all",
        "overwrite": "if_owner_unavailable", "backup_enabled": "1",
        "backup_user_id": acme.bob, "name": "Acme DE leads"})
    response = client.post(f"/admin/routers/{acme.router_id}", data=form)
    assert response.status_code == 302, _html(response)
    with container.db.session() as session:
        row = session.get(RouterRow, acme.router_id)
        settings = row.settings
        assert row.name == "Acme DE leads"
    jane = next(u for u in settings["users"] if u["user_id"] == acme.jane)
    assert (jane["weight"], jane["daily_cap"], jane["weekly_cap"]) == (3, 10, None)
    assert settings["distribution"] == "weighted"
    assert settings["overwrite"] == "if_owner_unavailable"
    assert settings["backup_user"] == {"enabled": True, "user_id": acme.bob}
    assert settings["trigger"] == {"match": "all", "groups": [
        {"match": "all", "conditions": [{"field": "country", "operator": "equals",
                                         "value": "DE"}]},
        {"match": "all", "conditions": [{"field": "employees", "operator": "between",
                                         "value": ["10", "500"]}]}]}


def test_router_edit_errors_name_the_field_like_the_api_and_store_nothing(container, client,
                                                                          two):
    acme, _ = two
    sign_in(client, acme.email)
    with container.db.session() as session:
        before = session.get(RouterRow, acme.router_id).settings
    form = _router_form(client, acme.router_id, **{f"member-{acme.jane}-weight": "-2",
                                                   "load_window_hours": "0"})
    response = client.post(f"/admin/routers/{acme.router_id}", data=form)
    html = _html(response)
    assert response.status_code == 400
    # the form lists users by email (bob, jane), so Jane is users.1 as the API would say
    assert ("Weight of Jane Doe &lt;jane@acme.example&gt;: must be 0 or more "
            "(settings.users.1.weight)") in html
    assert "Load-balancing window (hours): must be 1 or more (settings.load_window_hours)" \
        in html
    assert 'value="-2"' in html  # the refused form keeps the admin's edits
    backup_without_user = _router_form(client, acme.router_id, backup_enabled="1",
                                       backup_user_id="")
    html = _html(client.post(f"/admin/routers/{acme.router_id}", data=backup_without_user))
    assert "Invalid field &#39;settings.backup_user.user_id&#39;: required when the backup " \
           "user is enabled" in html
    with container.db.session() as session:
        assert session.get(RouterRow, acme.router_id).settings == before


def test_router_edit_sets_start_on_and_watched_properties(container, client, two):
    acme, _ = two
    sign_in(client, acme.email)
    form = _router_form(client, acme.router_id, start_on=["creation", "change"],
                        watch_properties="lifecyclestage, country ,")
    assert client.post(f"/admin/routers/{acme.router_id}", data=form).status_code == 302
    with container.db.session() as session:
        settings = session.get(RouterRow, acme.router_id).settings
    assert settings["start_on"] == ["creation", "change"]
    assert settings["watch_properties"] == ["lifecyclestage", "country"]
    again = _router_form(client, acme.router_id)
    assert again["start_on"] == ["creation", "change"]
    assert again["watch_properties"] == "lifecyclestage, country"
    unwatched = _html(client.post(f"/admin/routers/{acme.router_id}", data=_router_form(
        client, acme.router_id, start_on="change", watch_properties="")))
    assert "watch_properties must name at least one CRM property when start_on includes " \
           "&#39;change&#39;" in unwatched
    nothing = dict(_router_form(client, acme.router_id))
    del nothing["start_on"]
    refused = _html(client.post(f"/admin/routers/{acme.router_id}", data=nothing))
    assert "Start on: choose record creation, a change of watched properties, or both" in \
        refused


def test_simulate_sample_is_prefilled_with_the_mapped_field_names(client, two):
    import html as html_lib
    import json

    acme, _ = two
    sign_in(client, acme.email)
    page = _html(client.get(f"/admin/routers/{acme.router_id}"))
    start = page.index('name="sample"')
    text = page[page.index(">", start) + 1:page.index("</textarea>", start)]
    sample = json.loads(html_lib.unescape(text))
    assert "lifecyclestage" not in sample and sample["lifecycle_stage"] is None
    assert sample["country"] == "DE"  # what the trigger looks for
    assert {"email", "employees", "first_name"} <= set(sample)
    assert "(mapped by hubspot/contact v0, salesforce/contact v0, then the API's own " \
        "and custom fields)" in " ".join(page.split())


def test_trigger_fields_no_record_can_have_are_warned_about_but_saved(container, client, two):
    acme, _ = two
    sign_in(client, acme.email)
    form = _router_form(client, acme.router_id, **{
        "cond-1-group": "1", "cond-1-field": "countyr", "cond-1-operator": "equals",
        "cond-1-value": "DE", "cond-2-group": "1", "cond-2-field": "num_employees",
        "cond-2-operator": "gt", "cond-2-value": "5"})
    saved = client.post(f"/admin/routers/{acme.router_id}", data=form, follow_redirects=True)
    html = _html(saved)
    warning = ("Trigger field &#39;countyr&#39; is not a field of the contact mapping "
               "(hubspot/contact, salesforce/contact), nor a contact field of the API or a "
               "custom field: no record has it, so conditions on it never see a value")
    assert f'<p class="flash warning">Warning: {warning}.</p>' in html
    assert html.count(warning) == 2  # and in the page's own warnings
    assert "num_employees" not in html.split("Warnings")[1].split("</div>")[0]
    with container.db.session() as session:
        conditions = session.get(RouterRow, acme.router_id).settings["trigger"]["groups"][0]
    assert [c["field"] for c in conditions["conditions"]] == ["country", "countyr",
                                                              "num_employees"]
    client.post("/fields", json={"object_type": "contact", "internal_name": "countyr"},
                headers=auth(acme.account_id))
    assert "Trigger field &#39;countyr&#39;" not in _html(
        client.get(f"/admin/routers/{acme.router_id}"))


def test_publish_and_unpublish(container, client, two):
    acme, _ = two
    sign_in(client, acme.email)
    token = csrf(client)
    client.post(f"/admin/routers/{acme.router_id}/publish",
                data={"csrf_token": token, "published": "0"})
    with container.db.session() as session:
        assert session.get(RouterRow, acme.router_id).published is False
    client.post(f"/admin/routers/{acme.router_id}/publish",
                data={"csrf_token": token, "published": "1"})
    with container.db.session() as session:
        assert session.get(RouterRow, acme.router_id).published is True


def _state(container, router_id: str):
    with container.db.session() as session:
        router = session.get(RouterRow, router_id)
        return (session.scalar(select(func.count()).select_from(DecisionRow)),
                sorted((c.rep_id, c.period, c.count) for c in session.scalars(
                    select(AssignmentCounterRow))),
                router.rr_last_position, dict(router.current_weights or {}))


def test_simulate_shows_the_decision_and_its_reason_and_writes_nothing(container, client,
                                                                       two):
    acme, _ = two
    sign_in(client, acme.email)
    token = csrf(client)
    before = _state(container, acme.router_id)
    response = client.post(f"/admin/routers/{acme.router_id}/simulate", data={
        "csrf_token": token, "sample": '{"country": "DE"}', "as_published": "1"})
    html = _html(response)
    assert response.status_code == 200
    assert "Assigned to Jane Doe &lt;jane@acme.example&gt;." in html
    assert "The trigger matched group 1 (country is &#39;DE&#39;)." in html
    assert "Bob Stone &lt;bob@acme.example&gt;: unavailable" in html
    missed = _html(client.post(f"/admin/routers/{acme.router_id}/simulate", data={
        "csrf_token": token, "sample": '{"country": "FR"}', "as_published": "1"}))
    assert "Not routed: the record did not match the router&#39;s trigger." in missed
    assert _state(container, acme.router_id) == before


def test_simulate_reports_bad_json_naming_the_field(client, two):
    acme, _ = two
    sign_in(client, acme.email)
    response = client.post(f"/admin/routers/{acme.router_id}/simulate",
                           data={"csrf_token": csrf(client), "sample": "{country: DE"})
    assert response.status_code == 400
    assert "Invalid field &#39;sample&#39;: not valid JSON" in _html(response)


# -- decisions --------------------------------------------------------------------------

def test_decisions_search_by_record_and_rep_and_explain_why(container, client, two):
    acme, _ = two
    sign_in(client, acme.email)
    by_rep = _html(client.get("/admin/decisions?rep=jane@acme.example"))
    assert "lead@acme.example" in by_rep and "us@acme.example" not in by_rep
    by_record = _html(client.get("/admin/decisions?record=us@acme.example"))
    assert "Trigger did not match" in by_record and "lead@acme.example" not in by_record
    assert "<svg" in by_record and "jane@acme.example: 1 on" in by_record
    detail = _html(client.get(f"/admin/decisions/{_assigned_id(container, acme.account_id)}"))
    assert "Why was this routed to jane@acme.example?" in detail
    assert "Picked by round robin" in detail
    # Jane is first in the rotation: the walk passed over nobody, so unavailable Bob
    # (after her) is not part of this decision's reason
    assert "Bob Stone &lt;bob@acme.example&gt;" not in detail
    unknown = _html(client.get("/admin/decisions?rep=nobody@acme.example"))
    assert "No user with email &#39;nobody@acme.example&#39;" in unknown


def test_why_page_shows_the_conditions_and_values_of_decision_time(container, client, two):
    acme, _ = two
    headers = auth(acme.account_id)
    client.patch(f"/routers/{acme.router_id}", headers=headers, json={"settings": {
        "users": [{"user_id": acme.jane}, {"user_id": acme.bob}],
        "trigger": {"match": "any", "groups": [{"match": "all", "conditions": [
            {"field": "country", "operator": "equals", "value": "FR"}]}]}}})
    client.patch(f"/contacts/{acme.contact_id}", json={"fields": {"country": "US"}},
                 headers=headers)
    sign_in(client, acme.email)
    detail = _html(client.get(f"/admin/decisions/{_assigned_id(container, acme.account_id)}"))
    assert "The trigger matched group 1 (country is &#39;DE&#39;)." in detail
    assert "The record&#39;s values the trigger read then: country was &#39;DE&#39;." in detail
    assert "<tr><td>country</td><td>DE</td></tr>" in detail
    assert "FR" not in detail and 'id="old-decision"' not in detail


def test_why_page_of_an_old_decision_falls_back_to_current_values_and_says_so(container,
                                                                               client, two):
    acme, _ = two
    decision_id = _assigned_id(container, acme.account_id)
    with container.db.session() as session:
        row = session.get(DecisionRow, decision_id)
        row.reason = {k: v for k, v in row.reason.items() if k not in ("trigger", "fields")}
    sign_in(client, acme.email)
    detail = " ".join(_html(client.get(f"/admin/decisions/{decision_id}")).split())
    assert "The trigger matched group 1 (country is &#39;DE&#39;)." in detail
    assert 'id="old-decision"' in detail
    assert "The conditions shown are the router's <em>current</em> ones" in detail
    assert "values the trigger read then" not in detail


def _assigned_id(container, account_id: str) -> str:
    with container.db.session() as session:
        return session.scalars(select(DecisionRow.id).where(
            DecisionRow.account_id == account_id, DecisionRow.assigned.is_(True))).one()


# -- events -----------------------------------------------------------------------------

def test_events_page_counts_statuses_and_shows_dead_letters_with_their_error(client, two):
    acme, _ = two
    sign_in(client, acme.email)
    html = _html(client.get("/admin/events"))
    assert "field &#39;email&#39;: required, but &#39;email&#39; is empty" in html
    assert '<strong>1</strong><span>dead</span>' in html
    # two HubSpot webhook events, two Outbound Messages and two BYOC events
    assert '<strong>6</strong><span>done</span>' in html


def test_events_page_says_plainly_when_no_crm_is_connected(container, client, make_account):
    from connector.service.admin_users import create_admin
    from tests.admin.seed import PASSWORD

    account = make_account("Initech")
    create_admin(container.db, "ops@initech.example", account, PASSWORD)
    sign_in(client, "ops@initech.example")
    html = " ".join(_html(client.get("/admin/events")).split())
    assert ("No HubSpot portal or Salesforce org is connected to your account yet, so no CRM "
            "events are shown here.") in html


def test_replay_one_dead_letter_puts_it_back_in_line(container, client, two):
    acme, _ = two
    sign_in(client, acme.email)
    response = client.post(f"/admin/events/{acme.dead_event_id}/replay",
                           data={"csrf_token": csrf(client)})
    assert response.status_code == 302
    with container.db.session() as session:
        row = session.get(InboxEventRow, acme.dead_event_id)
        assert (row.status, row.attempts) == ("pending", 0)


# -- mappings ---------------------------------------------------------------------------

def test_mapping_validate_endpoint_names_line_and_field(client, two):
    acme, _ = two
    sign_in(client, acme.email)
    token = csrf(client)
    text = client.get("/admin/mappings/hubspot/contact/export").get_data(as_text=True)
    bad = text.replace("type: number", "type: numbr", 1)
    line = bad.splitlines().index(next(x for x in bad.splitlines() if "numbr" in x)) + 1
    result = client.post("/admin/mappings/hubspot/contact/validate", data={"yaml": bad},
                         headers={"X-CSRF-Token": token}).get_json()
    assert result["ok"] is False
    assert result["errors"][0].startswith(f"hubspot/contact (draft):{line}: field 'employees'")
    good = client.post("/admin/mappings/hubspot/contact/validate", data={"yaml": text},
                       headers={"X-CSRF-Token": token}).get_json()
    assert good == {"ok": True, "errors": [], "warnings": []}


def test_mapping_save_refuses_invalid_text_then_saves_and_rolls_back(container, client, two):
    acme, _ = two
    sign_in(client, acme.email)
    token = csrf(client)
    text = client.get("/admin/mappings/hubspot/contact/export").get_data(as_text=True)
    refused = client.post("/admin/mappings/hubspot/contact", data={
        "csrf_token": token, "yaml": text.replace("type: number", "type: numbr", 1),
        "comment": "oops"})
    assert refused.status_code == 400 and "field &#39;employees&#39;" in _html(refused)
    no_comment = client.post("/admin/mappings/hubspot/contact",
                             data={"csrf_token": token, "yaml": text, "comment": ""})
    assert "Invalid field &#39;comment&#39;" in _html(no_comment)
    edited = text.replace("country: {source: country", "country: {source: ip_country")
    saved = client.post("/admin/mappings/hubspot/contact", data={
        "csrf_token": token, "yaml": edited, "comment": "country from IP"})
    assert saved.status_code == 302
    history = _html(client.get("/admin/mappings/hubspot/contact/history"))
    assert "country from IP" in history and "by ops@acme.example" in history
    assert '<span class="add">+  country: {source: ip_country' in history
    client.post("/admin/mappings/hubspot/contact/rollback",
                data={"csrf_token": token, "version": "0"})
    with container.db.session() as session:
        latest = session.scalars(select(MappingVersionRow).order_by(
            MappingVersionRow.version.desc())).first()
        assert (latest.version, latest.restored_from, latest.yaml_text) == (2, 0, text)


def test_mapping_preview_maps_a_payload_and_lists_matching_routers(client, two):
    acme, _ = two
    sign_in(client, acme.email)
    token = csrf(client)
    text = client.get("/admin/mappings/hubspot/contact/export").get_data(as_text=True)
    html = _html(client.post("/admin/mappings/hubspot/contact/preview", data={
        "csrf_token": token, "yaml": text,
        "payload": '{"email": " Ada@X.example ", "country": "DE"}'}))
    assert "<td>email</td><td>ada@x.example</td>" in html
    assert "Acme inbound leads: <strong>trigger matches</strong> (group 1)" in html
    assert "Globex" not in html


def _options(html: str) -> list[str]:
    import re

    select_html = html[html.index('id="event-id"'):html.index("</select>",
                                                              html.index('id="event-id"'))]
    return re.findall(r'<option value="([^"]+)"', select_html)


def test_preview_of_a_hubspot_webhook_event_reads_the_record_from_hubspot(client, two):
    acme, _ = two
    sign_in(client, acme.email)
    token = csrf(client)
    page = _html(client.get("/admin/mappings/hubspot/contact"))
    contacts = [acme.event_ids["100101"], acme.event_ids["100102"]]
    assert sorted(_options(page)) == sorted(contacts)  # not the company event
    assert "contact.creation 100102" in page
    draft = client.get("/admin/mappings/hubspot/contact/export").get_data(as_text=True) \
        .replace("  email: {source: email,", "  zone: {source: hs_timezone}\n"
                                              "  email: {source: email,")
    html = _html(client.post("/admin/mappings/hubspot/contact/preview", data={
        "csrf_token": token, "yaml": draft, "event_id": acme.event_ids["100102"]}))
    assert "<td>email</td><td>lea@example.com</td>" in html
    assert "<td>employees</td><td>40</td>" in html
    object_type, ids, properties = acme.crm.reads[-1]
    assert (object_type, ids) == ("contact", ["100102"]) and "hs_timezone" in properties


def test_preview_says_clearly_when_the_hubspot_record_cannot_be_read(container, client, two):
    from connector.core.errors import AuthenticationFailed

    acme, _ = two
    sign_in(client, acme.email)
    token = csrf(client)
    text = client.get("/admin/mappings/hubspot/contact/export").get_data(as_text=True)
    del acme.crm.records["100101"]
    gone = client.post("/admin/mappings/hubspot/contact/preview", data={
        "csrf_token": token, "yaml": text, "event_id": acme.event_ids["100101"]})
    assert gone.status_code == 400
    assert "HubSpot portal 1001 has no contact 100101 any more (deleted or merged?)" in \
        _html(gone)

    def refuse(*_):
        raise AuthenticationFailed("HubSpot refused the portal's token")

    acme.crm.read_records = refuse
    refused = _html(client.post("/admin/mappings/hubspot/contact/preview", data={
        "csrf_token": token, "yaml": text, "event_id": acme.event_ids["100102"]}))
    assert ("Could not read contact 100102 from HubSpot portal 1001: HubSpot refused the "
            "portal&#39;s token.") in refused
    company = _html(client.post("/admin/mappings/hubspot/contact/preview", data={
        "csrf_token": token, "yaml": text, "event_id": acme.event_ids["100103"]}))
    assert "That event is not about a hubspot contact" in company


def test_preview_of_salesforce_outbound_and_byoc_events_maps_their_record(client, two):
    acme, globex = two
    sign_in(client, acme.email)
    token = csrf(client)
    lead_page = _html(client.get("/admin/mappings/salesforce/lead"))
    assert _options(lead_page) == [acme.event_ids["00Q000000000001"]]  # not the Contact
    lead = client.get("/admin/mappings/salesforce/lead/export").get_data(as_text=True)
    html = _html(client.post("/admin/mappings/salesforce/lead/preview", data={
        "csrf_token": token, "yaml": lead, "event_id": acme.event_ids["00Q000000000001"]}))
    assert "<td>email</td><td>lead@acme.example</td>" in html
    assert "<td>employees</td><td>120</td>" in html
    conversation_page = _html(client.get("/admin/mappings/salesforce/conversation"))
    started = acme.event_ids["ConversationStarted:conv-1"]
    assert _options(conversation_page) == [started]  # not the RoutingRequested transfer
    conversation = client.get("/admin/mappings/salesforce/conversation/export") \
        .get_data(as_text=True)
    html = _html(client.post("/admin/mappings/salesforce/conversation/preview", data={
        "csrf_token": token, "yaml": conversation, "event_id": started}))
    assert "<td>conversation_identifier</td><td>conv-1</td>" in html
    assert "<td>language</td><td>en</td>" in html
    sign_in(client, globex.email)
    assert _options(_html(client.get("/admin/mappings/salesforce/lead"))) == []


def test_mapping_edits_that_drop_a_trigger_field_warn_but_still_save(client, two):
    acme, _ = two
    sign_in(client, acme.email)
    token = csrf(client)
    text = client.get("/admin/mappings/hubspot/contact/export").get_data(as_text=True)
    renamed = text.replace("  country: {source: country", "  country_code: {source: country")
    # Globex's router reads 'country' too, but Globex keeps mapping with the default
    expected = [
        "router 'Acme inbound leads' (published) uses field 'country', which this version "
        "no longer maps"]
    checked = client.post("/admin/mappings/hubspot/contact/validate", data={"yaml": renamed},
                          headers={"X-CSRF-Token": token}).get_json()
    assert checked == {"ok": True, "errors": [], "warnings": expected}
    assert client.post("/admin/mappings/hubspot/contact/validate", data={"yaml": text},
                       headers={"X-CSRF-Token": token}).get_json()["warnings"] == []
    previewed = _html(client.post("/admin/mappings/hubspot/contact/preview", data={
        "csrf_token": token, "yaml": renamed, "payload": '{"country": "DE"}'}))
    assert "router &#39;Acme inbound leads&#39; (published) uses field &#39;country&#39;" \
        in previewed and "Globex" not in previewed
    saved = client.post("/admin/mappings/hubspot/contact", data={
        "csrf_token": token, "yaml": renamed, "comment": "country code"},
        follow_redirects=True)
    html = _html(saved)
    assert "Saved hubspot/contact as v1" in html
    assert ('<p class="flash warning">Warning: router &#39;Acme inbound leads&#39; '
            "(published) uses field &#39;country&#39;, which this version no longer maps. "
            "Update that router&#39;s trigger.</p>") in html


def test_mapping_text_from_a_browser_textarea_is_saved_with_plain_newlines(container, client,
                                                                           two):
    acme, _ = two
    sign_in(client, acme.email)
    text = client.get("/admin/mappings/hubspot/contact/export").get_data(as_text=True)
    client.post("/admin/mappings/hubspot/contact", data={
        "csrf_token": csrf(client), "yaml": text.replace("\n", "\r\n"), "comment": "same"})
    with container.db.session() as session:
        row = session.scalars(select(MappingVersionRow)).one()
        assert row.yaml_text == text
    history = _html(client.get("/admin/mappings/hubspot/contact/history"))
    assert '<span class="add">' not in history


# -- BYOC conversations ---------------------------------------------------------------------

def _failed_conversation(container, account_id, identifier):
    from connector.store.models import ConversationRow

    with container.db.session() as session:
        session.add(ConversationRow(account_id=account_id, conversation_identifier=identifier,
                                    state="failed", destination={"kind": "rep"},
                                    declined_rep_ids=[], route_calls=1, error_code="15112",
                                    error="The rep's presence status is not associated"))


def test_failed_conversations_show_their_next_action_and_can_be_handed_to_a_queue(
        container, client, two):
    acme, globex = two
    _failed_conversation(container, acme.account_id, "conv-acme")
    _failed_conversation(container, globex.account_id, "conv-globex")
    sign_in(client, acme.email)

    page = _html(client.get("/admin/conversations"))
    assert "conv-acme" in page and "conv-globex" not in page
    assert "presence status" in page and "Hand to queue" in page

    token = csrf(client)
    bad = _html(client.post("/admin/conversations/retry", follow_redirects=True, data={
        "csrf_token": token, "conversation_identifier": "conv-acme", "queue_id": "nope"}))
    assert "queue_id must be a Salesforce queue id" in bad
    other = _html(client.post("/admin/conversations/retry", follow_redirects=True, data={
        "csrf_token": token, "conversation_identifier": "conv-globex"}))
    assert "Conversation not found" in other
    client.post("/admin/conversations/retry", data={
        "csrf_token": token, "conversation_identifier": "conv-acme",
        "queue_id": "00G000000000042"})

    with container.db.session() as session:
        stored = [e.payload for e in session.scalars(select(InboxEventRow))
                  if e.payload.get("eventType") == "ConnectorRetry"]
    assert stored[0]["data"] == {"conversationIdentifier": "conv-acme",
                                 "queueId": "00G000000000042"}
    assert len(stored) == 1
