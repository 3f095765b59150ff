"""The Insights dashboard in Debian's Chromium: the numbers shown equal the hand count of
``tests/analytics/seed.py``, the charts are drawn with no script, and grouping by rep
adds the share chart. Screenshots go where ``test_admin_browser`` puts its own."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from werkzeug.serving import make_server

from tests.analytics.seed import NOW, PASSWORD, World, seed
from tests.e2e import test_admin_browser as browser

SHOTS = browser.SHOTS
page = browser.page  # the Chromium fixture, on this module's ``live`` server

pytestmark = pytest.mark.browser


@pytest.fixture
def live(container, app, make_account) -> Iterator[tuple[str, World]]:
    container.extras["now"] = lambda: NOW
    world = seed(container, app.test_client(), make_account)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", world
    finally:
        server.shutdown()
        thread.join(timeout=10)


def test_dashboard_numbers_and_charts(page, live):
    from playwright.sync_api import expect

    _, world = live
    refused: list[str] = []
    page.on("response", lambda r: refused.append(r.url) if r.status >= 400
            and not r.url.endswith("/favicon.ico") else None)
    page.goto("/admin/login")
    page.get_by_label("Email").fill(world.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("link", name="Insights").click()
    expect(page.get_by_role("heading", name="Insights")).to_be_visible()
    page.get_by_label("From", exact=True).fill("2026-12-01")
    page.get_by_label("To", exact=True).fill("2026-12-02")
    page.get_by_label("Group by").select_option("router")
    page.get_by_role("button", name="Show").click()
    totals = page.get_by_role("region", name="Totals")
    for label, value in (("Decisions", "6"), ("Assigned", "5"),
                         ("Unassigned rate", "16.7 %"), ("Backup-user rate", "20.0 %"),
                         ("Reassignments", "1"), ("Speed to lead p50", "1500.0 s"),
                         ("Speed to lead p90", "3060.0 s"), ("SLA met", "25.0 %"),
                         ("SLA breaches", "3")):
        expect(totals.get_by_text(label, exact=True).locator("xpath=..")).to_contain_text(
            value)
    table = page.get_by_role("table", name="Measures by router")
    expect(table.get_by_role("row", name="Inbound")).to_contain_text("33.33")
    expect(page.get_by_role("img", name="Speed to lead in minutes")).to_be_visible()
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "19-insights-by-router.png"), full_page=True)

    page.get_by_label("Group by").select_option("rep")
    page.get_by_role("button", name="Show").click()
    share = page.get_by_role("img", name="Share of assignments against fair share (%)")
    expect(share).to_be_visible()
    assert share.locator("rect title").count() == 6  # 3 reps × (share, fair share)
    page.screenshot(path=str(SHOTS / "20-insights-by-rep.png"), full_page=True)
    assert refused == []  # every page, stylesheet and script loaded
