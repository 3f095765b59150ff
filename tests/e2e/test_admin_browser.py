"""The admin console driven in Debian's Chromium (Playwright, no browser download):
sign in; edit a mapping, see the error, fix it, preview, save, roll back; edit a router
and simulate; edit a rep's working hours; replay a dead letter. Each page is saved under
docs/screenshots/."""

from __future__ import annotations

import os
import re
import tempfile
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from connector.store.models import DecisionRow
from tests.admin.seed import PASSWORD, Seeded, crm_settings, seed
from tests.conftest import auth
from tests.integration.helpers import make_contact

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
#: ``SCREENSHOTS_DIR=docs/screenshots pytest -m browser`` refreshes the README's pictures;
#: by default they go to a temporary folder so a test run leaves the tree clean.
SHOTS = Path(os.environ.get("SCREENSHOTS_DIR")
             or Path(tempfile.gettempdir()) / "connector-screenshots")


def _history(container, client, s: Seeded) -> None:
    """Two weeks of assignments so the chart has something to show."""
    headers = auth(s.account_id)
    now = datetime.now(UTC)
    past = [(day, n) for day in range(1, 11) for n in range((day * 7) % 4 + 1)]
    records = [make_contact(client, headers, email=f"lead{i}@acme.example", country="DE")
               for i in range(len(past))]
    with container.db.session() as session:
        for (day, n), record in zip(past, records, strict=True):
            rep, email = ((s.jane, "jane@acme.example") if (day + n) % 3 else
                          (s.bob, "bob@acme.example"))
            session.add(DecisionRow(
                account_id=s.account_id, router_id=s.router_id, object_id=record,
                outcome="assigned", message="The object was successfully assigned",
                assigned=True, rep_id=rep, rep_email=email, field_name="contact_owner",
                reason={"outcome": "assigned", "model": "round_robin",
                        "matched_groups": [0], "skipped": [], "picked": email,
                        "via_backup": False, "note": ""},
                created_at=now - timedelta(days=day, hours=n)))


@pytest.fixture
def config(config):
    return crm_settings(config)


@pytest.fixture
def live(container, app, make_account) -> Iterator[tuple[str, Seeded]]:
    client = app.test_client()
    seeded = seed(container, client, make_account)
    _history(container, client, seeded)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", seeded
    finally:
        server.shutdown()
        thread.join(timeout=10)


@pytest.fixture
def page(live):
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        context = browser.new_context(viewport={"width": 1360, "height": 900},
                                      base_url=live[0])
        page = context.new_page()
        page.set_default_timeout(15_000)
        yield page
        context.close()
        browser.close()


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def sign_in(page, email: str) -> None:
    page.goto("/admin/")
    assert "/admin/login" in page.url
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    shot(page, "01-sign-in")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/admin/mappings")


# The steps below find everything by what a person sees on the screen (headings, labels,
# button and link names), never by markup ids, so they also check that the pages can be
# used without knowing how they are built.

def test_mapping_edit_error_fix_preview_save_and_rollback(page, live):
    from playwright.sync_api import expect

    _, seeded = live
    sign_in(page, seeded.email)
    expect(page.get_by_role("heading", name="Field mappings")).to_be_visible()
    shot(page, "02-mappings")
    page.get_by_role("row", name="hubspot contact").get_by_role("link", name="contact").click()
    expect(page.get_by_role("heading", name="hubspot/contact")).to_be_visible()
    editor = page.get_by_label("Mapping YAML")
    original = editor.input_value()

    editor.fill(original.replace("type: number", "type: numbr", 1))
    live_box = page.get_by_role("status", name="Validation")
    expect(live_box).to_contain_text("field 'employees': type must be one of")
    expect(live_box).to_contain_text("hubspot/contact (draft):17:")
    shot(page, "03-mapping-typing-error")
    page.get_by_label("What is this change for?").fill("uppercase country codes")
    page.get_by_role("button", name="Save as a new version").click()
    expect(page.get_by_role("alert")).to_contain_text("field 'employees'")
    shot(page, "04-mapping-save-refused")

    fixed = original.replace("country: {source: country, transforms: [trim]}",
                             "country: {source: country, transforms: [trim, upper]}")
    assert fixed != original
    editor = page.get_by_label("Mapping YAML")
    editor.fill(fixed)
    expect(live_box).to_have_text("Valid mapping.")
    page.get_by_label("Payload", exact=True).fill(
        '{"email": " Ada@Example.com ", "country": " de ", "numemployees": "250"}')
    page.get_by_role("button", name="Preview this draft").click()
    result = page.get_by_role("region", name="Preview result")
    expect(result).to_contain_text("Acme inbound leads: trigger matches (group 1)")
    expect(result.get_by_role("row", name="country")).to_contain_text("DE")
    shot(page, "05-mapping-preview")
    events = page.get_by_label("Recent event")
    choice = events.get_by_role("option", name=re.compile("contact.creation 100102"))
    events.select_option(label=choice.text_content())
    page.get_by_role("button", name="Preview this draft").click()
    expect(result.get_by_role("row", name="email")).to_contain_text("lea@example.com")
    expect(result.get_by_role("row", name="country")).to_contain_text("FR")

    page.get_by_role("button", name="Save as a new version").click()
    page.wait_for_url("**/history")
    expect(page.get_by_text("Saved hubspot/contact as v1")).to_be_visible()
    expect(page.get_by_text("+  country: {source: country, transforms: [trim, upper]}")) \
        .to_be_visible()
    shot(page, "06-mapping-history")

    page.get_by_role("button", name="Roll back to default").click()
    expect(page.get_by_text("v2 is a copy of the default and is now current")).to_be_visible()
    expect(page.get_by_text("rollback to default · restores the default")).to_be_visible()
    shot(page, "07-mapping-rollback")
    page.get_by_role("link", name="edit hubspot/contact").click()
    assert page.get_by_label("Mapping YAML").input_value().strip() == original.strip()


def test_router_edit_and_simulate_then_read_the_decision(page, live):
    from playwright.sync_api import expect

    _, seeded = live
    sign_in(page, seeded.email)
    page.get_by_role("link", name="Routers").click()
    shot(page, "08-routers")
    page.get_by_role("link", name="Acme inbound leads").click()
    page.get_by_label("weight of jane@acme.example").fill("-1")
    page.get_by_role("button", name="Save router").click()
    expect(page.get_by_role("alert")).to_contain_text(
        "Weight of Jane Doe <jane@acme.example>: must be 0 or more "
        "(settings.users.1.weight)")
    shot(page, "09-router-error")
    page.get_by_label("weight of jane@acme.example").fill("3")
    page.get_by_label("Model").select_option(label="Weighted")
    page.get_by_label("daily cap of jane@acme.example").fill("25")
    page.get_by_role("button", name="Save router").click()
    expect(page.get_by_text("Router saved")).to_be_visible()
    expect(page.get_by_label("Model")).to_have_value("weighted")

    sample = page.get_by_label("Sample record (mapped fields as JSON)")
    expect(sample).to_have_value(re.compile(r'"country": "DE"'))  # the mapped field names
    expect(sample).to_have_value(re.compile(r'"lifecycle_stage": null'))
    page.get_by_role("button", name="Simulate").click()
    result = page.get_by_role("region", name="Simulation result")
    expect(result).to_contain_text("Assigned to Jane Doe <jane@acme.example>.")
    expect(result).to_contain_text("The trigger matched group 1 (country is 'DE').")
    expect(result).to_contain_text("Bob Stone <bob@acme.example>: unavailable")
    expect(result).to_contain_text("nothing was stored")
    shot(page, "10-router-simulate")

    page.get_by_role("link", name="Decisions").click()
    expect(page.get_by_role("img", name="Assignments per rep per day")).to_be_visible()
    shot(page, "11-decisions")
    page.get_by_label("Assigned to").fill("jane@acme.example")
    page.get_by_role("button", name="Search").click()
    page.get_by_role("row", name="lead@acme.example").get_by_role("link",
                                                                  name="details").click()
    expect(page.get_by_role("heading", name="Why was this routed to jane@acme.example?")) \
        .to_be_visible()
    expect(page.get_by_text("Picked by round robin")).to_be_visible()
    shot(page, "12-decision-why")


def test_edit_a_reps_status_working_hours_and_out_of_office(page, live):
    from playwright.sync_api import expect

    _, seeded = live
    sign_in(page, seeded.email)
    page.get_by_role("link", name="Users").click()
    expect(page.get_by_role("heading", name="Users")).to_be_visible()
    page.get_by_role("link", name="Bob Stone").click()
    page.get_by_label("Status").select_option("available")
    page.get_by_label("Time zone (IANA name, e.g. Europe/Oslo)").fill("Europe/Oslo")
    page.get_by_label("Only route to this user within these hours").check()
    page.get_by_label("Monday hours").fill("09:00-12:00, 13:00-17:00")
    page.get_by_label("Tuesday hours").fill("9-17")
    page.get_by_role("button", name="Save user").click()
    expect(page.get_by_role("alert")).to_contain_text(
        "Tuesday, hours 1, start: must be a time of day as HH:MM "
        "(working_hours.tuesday.0.start)")
    page.get_by_label("Tuesday hours").fill("09:00-17:00")
    page.get_by_label("out of office 1 from").fill("2026-12-24T00:00")
    page.get_by_label("out of office 1 until").fill("2026-12-27T08:00")
    page.get_by_role("button", name="Save user").click()
    expect(page.get_by_text("Saved Bob Stone.")).to_be_visible()
    expect(page.get_by_label("Monday hours")).to_have_value("09:00-12:00, 13:00-17:00")
    expect(page.get_by_label("out of office 1 from")).to_have_value("2026-12-24T00:00")
    shot(page, "14-user-availability")
    page.get_by_role("link", name="All users").click()
    row = page.get_by_role("row", name="Bob Stone")
    expect(row).to_contain_text("mon 09:00-12:00, 13:00-17:00; tue 09:00-17:00")
    expect(row).to_contain_text("Europe/Oslo")
    expect(row).to_contain_text("available")


def test_replay_a_dead_letter(page, live):
    from playwright.sync_api import expect

    _, seeded = live
    sign_in(page, seeded.email)
    page.get_by_role("link", name="Events").click()
    row = page.get_by_role("row", name="hubspot/contact v2: field 'email': required, but "
                                       "'email' is empty")
    expect(row).to_contain_text("dead")
    dead = page.get_by_role("link", name="dead")
    expect(dead).to_contain_text("1")
    shot(page, "13-events")
    row.get_by_role("button", name="Replay").click()
    expect(page.get_by_text("queued again")).to_be_visible()
    expect(page.get_by_role("link", name="dead")).to_contain_text("0")
    expect(page.get_by_role("link", name="pending")).to_contain_text("1")
    assert page.get_by_role("row", name="field 'email': required").count() == 0


def test_create_a_user_and_a_router_publish_and_simulate_it(page, live):
    """An admin with nothing but the console: a new rep, a new router that takes every
    record at first, a condition added on the page, publish, simulate, and a token."""
    from playwright.sync_api import expect

    _, seeded = live
    sign_in(page, seeded.email)
    page.get_by_role("link", name="Users").click()
    page.get_by_label("Email").fill("kim@acme.example")
    page.get_by_label("Name", exact=True).fill("Kim Lee")
    page.get_by_label("Time zone").fill("Europe/Stockholm")
    page.get_by_role("button", name="Add user").click()
    expect(page.get_by_text("User Kim Lee added.")).to_be_visible()
    expect(page.get_by_role("heading", name="Kim Lee")).to_be_visible()
    page.get_by_role("link", name="All users").click()
    expect(page.get_by_role("row", name="Kim Lee")).to_contain_text("Europe/Stockholm")
    shot(page, "15-user-created")

    page.get_by_role("link", name="Routers").click()
    page.get_by_label("Name", exact=True).fill("Nordic contacts")
    page.get_by_label("Routes").select_option("contact")
    page.get_by_role("button", name="Create router").click()
    expect(page.get_by_role("heading", name="Nordic contacts")).to_be_visible()
    expect(page.get_by_text("No conditions: this router takes every contact record.")) \
        .to_be_visible()
    page.get_by_label("include kim@acme.example").check()
    page.get_by_label("field of condition 1").fill("country")
    page.get_by_label("operator of condition 1").select_option(label="is one of")
    page.get_by_label("value of condition 1").fill("SE, NO")
    page.get_by_role("button", name="Add a condition").click()
    page.get_by_label("group of condition 2").select_option("2")
    page.get_by_label("field of condition 2").fill("email")
    page.get_by_label("operator of condition 2").select_option(label="ends with")
    page.get_by_label("value of condition 2").fill("@nordic.example")
    shot(page, "16-router-created")
    page.get_by_role("button", name="Save router").click()
    expect(page.get_by_text("Router saved")).to_be_visible()
    expect(page.get_by_label("field of condition 2")).to_have_value("email")
    page.get_by_role("button", name="Publish").click()
    expect(page.get_by_text("Router published: it routes new records now.")).to_be_visible()

    page.get_by_label("country", exact=True).fill("SE")
    page.get_by_role("button", name="Simulate").click()
    result = page.get_by_role("region", name="Simulation result")
    expect(result).to_contain_text("Assigned to Kim Lee <kim@acme.example>.")
    shot(page, "17-router-simulate-form")
    page.get_by_label("country", exact=True).fill("DE")
    page.get_by_label("email", exact=True).fill("ola@nordic.example")
    page.get_by_role("button", name="Simulate").click()
    expect(result).to_contain_text("Assigned to Kim Lee <kim@acme.example>.")
    expect(result).to_contain_text("group 2")

    page.get_by_role("link", name="Account").click()
    expect(page.get_by_role("heading", name="Account")).to_be_visible()
    expect(page.get_by_text(seeded.account_id)).to_be_visible()
    page.get_by_role("button", name="Create token").click()
    expect(page.get_by_label("New token")).to_have_value(re.compile(r"^ey"))
    shot(page, "18-account")

    page.get_by_role("link", name="Routers").click()
    page.get_by_role("link", name="Nordic contacts").click()
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Delete this router").click()
    expect(page.get_by_text("Router Nordic contacts deleted.")).to_be_visible()
    expect(page.get_by_role("link", name="Nordic contacts")).to_have_count(0)
