"""An admin's journey through the console in a real browser (headless Chromium): sign in with
the keyboard, break a rule and see the error in place, fix it and save, adjust a member's
points, and open the dashboard with every chart drawn; on a phone and on a desktop, with
screenshots, nothing loaded from outside the server and nothing the CSP blocked."""

from __future__ import annotations

import json
from typing import Any

from playwright.sync_api import ConsoleMessage, Page, expect

from punchcard.db import session_scope
from punchcard.events import service as events
from punchcard.events.service import EventInput
from punchcard.kit.clock import utcnow
from punchcard.ledger import service as ledger
from punchcard.members import service as members
from punchcard.web.admin import users
from tests.events.test_events_api import line, order_data
from tests.web.conftest import DESKTOP, PHONE, Live, PageFactory, screenshot

PASSWORD = "journey password 123"
CHARTS = ("chart-points", "chart-liability", "chart-tiers", "chart-campaigns")
BROKEN = {"rules": [{"id": "base", "events": ["order.placed"],
                     "effect": {"type": "per_currency_unit", "points": 0}}]}  # fmt: skip
FIXED = {"rules": [{"id": "base", "events": ["order.placed"],
                    "effect": {"type": "per_currency_unit", "points": 3}}]}  # fmt: skip


def _setup(live: Live) -> tuple[str, int]:
    email = f"journey-{live.program.id}@example.com"
    with session_scope(live.db.writer) as session:
        users.create_user(session, email=email, password=PASSWORD, now=utcnow(), name="Jo")
        member, _ = members.enrol(
            session, program_id=live.program.id, external_id="journey-1", now=utcnow()
        )
        ledger.credit(session, program=live.program, member_id=member.id, points=120,
                      reason="first order", now=utcnow())  # fmt: skip
        ledger.debit(session, program=live.program, member_id=member.id, points=20,
                     reason="reward", now=utcnow())  # fmt: skip
    return email, member.id


def _watch(page: Page) -> list[str]:
    """Console errors such as a CSP violation ("Refused to ...") or a script error; the
    browser's notes of pages answered 4xx on purpose (a refused form) are not errors here."""
    errors: list[str] = []

    def note(message: ConsoleMessage) -> None:
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            errors.append(message.text)

    page.on("console", note)
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


def _sign_in_with_the_keyboard(page: Page, live: Live, email: str) -> None:
    page.goto(f"{live.base_url}/admin/")
    expect(page).to_have_url(f"{live.base_url}/admin/sign-in")
    reached: list[str] = []
    for _ in range(8):
        page.keyboard.press("Tab")
        reached.append(
            page.evaluate(
                "() => { const e = document.activeElement;"
                " return e.id || (e.tagName + ':' + (e.getAttribute('type') || '')); }"
            )
        )
        if reached[-1] == "BUTTON:submit":
            break
    assert reached.index("email") < reached.index("password") < reached.index("BUTTON:submit")
    page.focus("#email")
    page.keyboard.type(email)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{live.base_url}/admin/")


def _charts_drawn(page: Page) -> dict[str, dict[str, Any]]:
    """Wait until every chart is a Chart.js chart with something drawn, and give each one's
    labels and datasets' data (axes alone draw something too, so the data is checked)."""
    page.wait_for_function(
        """(ids) => ids.every((id) => {
            const canvas = document.getElementById(id);
            if (!canvas || !window.Chart || !window.Chart.getChart(canvas)) return false;
            const blank = document.createElement('canvas');
            blank.width = canvas.width; blank.height = canvas.height;
            return canvas.width > 0 && canvas.toDataURL() !== blank.toDataURL();
        })""",
        arg=list(CHARTS),
    )
    charts: dict[str, dict[str, Any]] = page.evaluate(
        """(ids) => Object.fromEntries(ids.map((id) => {
            const chart = window.Chart.getChart(document.getElementById(id));
            return [id, {labels: chart.data.labels,
                         data: chart.data.datasets.map((set) => set.data)}];
        }))""",
        list(CHARTS),
    )
    return charts


def _check_chart_data(charts: dict[str, dict[str, Any]]) -> None:
    """The charts hold what the test made: 120 + 30 points issued (a credit and the order the
    saved rule scored), 20 redeemed, 105 outstanding (or pending), one member in the tier
    mix, and the rule `base` with its points in the campaigns."""
    issued, redeemed = charts["chart-points"]["data"]
    assert sum(issued) >= 150, charts["chart-points"]
    assert sum(redeemed) >= 20, charts["chart-points"]
    (liability,) = charts["chart-liability"]["data"]
    assert liability[0] + liability[2] >= 105, charts["chart-liability"]
    (tiers,) = charts["chart-tiers"]["data"]
    assert sum(tiers) >= 1, charts["chart-tiers"]
    campaigns = charts["chart-campaigns"]
    assert "base" in campaigns["labels"], campaigns
    points, revenue = campaigns["data"]
    at = campaigns["labels"].index("base")
    assert points[at] == 30, campaigns
    assert revenue[at] > 0, campaigns


def _order(live: Live) -> None:
    """An order the saved rule scores (10.00 at 3 points a unit: 30 points)."""
    event = EventInput(
        source_id=f"journey-order-{live.program.id}",
        type="order.placed",
        member={"external_id": "journey-1"},
        occurred_at=utcnow(),
        data=order_data(line("sku-1", 1, "10.00")),
    )
    with session_scope(live.db.writer) as session:
        events.ingest(session, program=live.program, event=event, now=utcnow())


def test_an_admin_edits_rules_adjusts_points_and_reads_the_dashboard(
    live: Live, new_page: PageFactory
) -> None:
    email, member_id = _setup(live)
    base = f"{live.base_url}/admin/programs/{live.program.id}"
    page = new_page(DESKTOP)
    errors = _watch(page)
    _sign_in_with_the_keyboard(page, live, email)

    # A rule with an error: the error is shown beside the field and nothing is saved.
    page.goto(f"{base}/rules")
    page.fill("#f-rules", json.dumps(BROKEN, indent=2))
    page.get_by_role("button", name="Save as a new version").click()
    expect(page.locator("#e-rules")).to_contain_text("rules[0].effect.points")
    assert json.loads(page.input_value("#f-rules")) == BROKEN  # kept as typed
    screenshot(page, "admin-rules-error-desktop")
    page.fill("#f-rules", json.dumps(FIXED, indent=2))
    page.get_by_role("button", name="Save as a new version").click()
    expect(page.get_by_role("status")).to_have_text("Saved.")
    assert json.loads(page.input_value("#f-rules")) == FIXED
    _order(live)

    # A manual adjustment.
    page.goto(f"{base}/members?q=journey-1")
    page.get_by_role("link", name=f"#{member_id}").click()
    expect(page.locator("#available")).to_have_text("130")  # 100 + the order's 30
    page.fill("#points", "-25")
    page.fill("#reason", "late delivery goodwill correction")
    page.get_by_role("button", name="Record adjustment").click()
    expect(page.get_by_role("status")).to_have_text("The adjustment was recorded.")
    expect(page.locator("#available")).to_have_text("105")
    expect(page.locator("#ledger")).to_contain_text("late delivery goodwill correction")

    # The dashboard: every chart is a Chart.js chart with something drawn.
    page.goto(f"{base}/dashboard")
    _check_chart_data(_charts_drawn(page))
    screenshot(page, "admin-dashboard-desktop")
    assert page.outside == []  # type: ignore[attr-defined]
    assert errors == []

    phone = new_page(PHONE)
    phone_errors = _watch(phone)
    _sign_in_with_the_keyboard(phone, live, email)
    phone.goto(f"{base}/dashboard")
    _check_chart_data(_charts_drawn(phone))
    width = phone.evaluate("() => document.documentElement.scrollWidth")
    assert width <= PHONE["width"], "the page scrolls sideways on a phone"
    screenshot(phone, "admin-dashboard-phone")
    phone.goto(f"{base}/rules")
    screenshot(phone, "admin-rules-phone")
    phone.goto(f"{base}/members/{member_id}")
    screenshot(phone, "admin-member-phone")
    assert phone.outside == []  # type: ignore[attr-defined]
    assert phone_errors == []
