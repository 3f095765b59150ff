"""The admin console driven in Debian's Chromium (Playwright, no browser download):
sign in; edit a mapping, see the error, fix it, preview, save, roll back; edit a router
and simulate; replay a dead letter. Each page is saved under docs/screenshots/."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from connector.store.models import DecisionRow
from tests.admin.seed import PASSWORD, Seeded, seed
from tests.conftest import auth
from tests.integration.helpers import make_contact

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


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
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    shot(page, "01-sign-in")
    page.click("button.primary")
    page.wait_for_url("**/admin/mappings")


def test_mapping_edit_error_fix_preview_save_and_rollback(page, live):
    from playwright.sync_api import expect

    _, seeded = live
    sign_in(page, seeded.email)
    expect(page.locator("h1")).to_have_text("Field mappings")
    shot(page, "02-mappings")
    page.click("text=contact >> nth=0")
    page.wait_for_url("**/admin/mappings/hubspot/contact")
    original = page.input_value("#yaml")

    page.fill("#yaml", original.replace("type: number", "type: numbr", 1))
    live_box = page.locator("#live-validation")
    expect(live_box).to_contain_text("field 'employees': type must be one of")
    expect(live_box).to_contain_text("hubspot/contact (draft):")
    shot(page, "03-mapping-typing-error")
    page.fill("#comment", "uppercase country codes")
    page.click("#save-mapping")
    expect(page.locator(".errors")).to_contain_text("field 'employees'")
    shot(page, "04-mapping-save-refused")

    fixed = original.replace("country: {source: country, transforms: [trim]}",
                             "country: {source: country, transforms: [trim, upper]}")
    assert fixed != original
    page.fill("#yaml", fixed)
    expect(live_box).to_have_text("Valid mapping.")
    page.fill("#payload", '{"email": " Ada@Example.com ", "country": " de ", '
                          '"numemployees": "250"}')
    page.click("#preview")
    result = page.locator("#preview-result")
    expect(result).to_contain_text("Acme inbound leads: trigger matches (group 1)")
    expect(result.locator("tr", has_text="country")).to_contain_text("DE")
    shot(page, "05-mapping-preview")

    page.click("#save-mapping")
    page.wait_for_url("**/history")
    expect(page.locator(".flash")).to_contain_text("Saved hubspot/contact as v1")
    expect(page.locator("#version-1 .add")).to_contain_text("transforms: [trim, upper]")
    shot(page, "06-mapping-history")

    page.click("#version-0 button.rollback")
    expect(page.locator(".flash")).to_contain_text("v2 is a copy of the file")
    expect(page.locator("#version-2")).to_contain_text("restores the file")
    shot(page, "07-mapping-rollback")
    page.goto("/admin/mappings/hubspot/contact")
    assert page.input_value("#yaml").strip() == original.strip()


def test_router_edit_and_simulate_then_read_the_decision(page, live):
    from playwright.sync_api import expect

    _, seeded = live
    sign_in(page, seeded.email)
    page.click("nav >> text=Routers")
    shot(page, "08-routers")
    page.click("text=Acme inbound leads")
    page.fill(f"input[name='member-{seeded.jane}-weight']", "-1")
    page.click("#save-router")
    expect(page.locator(".errors")).to_contain_text(
        "Invalid field 'settings.users.1.weight' (Jane Doe <jane@acme.example>): "
        "Input should be greater than or equal to 0")
    shot(page, "09-router-error")
    page.fill(f"input[name='member-{seeded.jane}-weight']", "3")
    page.select_option("select[name=distribution]", "weighted")
    page.fill(f"input[name='member-{seeded.jane}-daily_cap']", "25")
    page.click("#save-router")
    expect(page.locator(".flash")).to_contain_text("Router saved")
    expect(page.locator("select[name=distribution]")).to_have_value("weighted")

    page.fill("textarea[name=sample]", '{"country": "DE", "lifecycle_stage": "lead"}')
    page.click("#simulate")
    result = page.locator("#simulation-result")
    expect(result).to_contain_text("Assigned to Jane Doe <jane@acme.example>.")
    expect(result).to_contain_text("The trigger matched group 1 (country is 'DE').")
    expect(result).to_contain_text("Bob Stone <bob@acme.example>: unavailable")
    expect(result).to_contain_text("nothing was stored")
    shot(page, "10-router-simulate")

    page.click("nav >> text=Decisions")
    expect(page.locator("svg.chart")).to_be_visible()
    shot(page, "11-decisions")
    page.fill("input[name=rep]", "jane@acme.example")
    page.click("form.searchbar button")
    page.locator("tr", has_text="lead@acme.example").locator("text=details").click()
    expect(page.locator("h1")).to_have_text("Why was this routed to jane@acme.example?")
    expect(page.locator("#decision-reason")).to_contain_text("Picked by round robin")
    shot(page, "12-decision-why")


def test_replay_a_dead_letter(page, live):
    from playwright.sync_api import expect

    _, seeded = live
    sign_in(page, seeded.email)
    page.click("nav >> text=Events")
    row = page.locator(f"#event-{seeded.dead_event_id}")
    expect(row).to_contain_text("field 'email': required, but 'email' is empty")
    expect(page.locator("a.count.dead strong")).to_have_text("1")
    shot(page, "13-events")
    row.locator("button.replay").click()
    expect(page.locator(".flash")).to_contain_text("queued again")
    expect(page.locator("a.count.dead strong")).to_have_text("0")
    expect(page.locator("a.count.pending strong")).to_have_text("1")
