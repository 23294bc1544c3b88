"""A member's journey through the portal in a real browser: sign in with the code from the
e-mail, see the balance, redeem a reward (with its confirmation) and get the code; on a phone
and on a desktop, in English, Georgian and Gujarati, with nothing loaded from elsewhere."""

from __future__ import annotations

import re
import uuid

from babel.numbers import format_decimal
from playwright.sync_api import Page, expect
from sqlalchemy import select

from punchcard.db import session_scope
from punchcard.kit.clock import utcnow
from punchcard.ledger import service as ledger
from punchcard.members import service as members
from punchcard.models.web import OutboxMessage
from tests.redemptions.helpers import make_reward
from tests.web.conftest import DESKTOP, PHONE, Live, PageFactory, screenshot

# Distinct letters of each script: rendered with a real font their widths differ; drawn as
# "tofu" (the missing-glyph box) they are all as wide as a private-use character is.
SCRIPTS = {"ka": "ქართულიენა", "gu": "કખગઘચછજટ"}
WIDTHS = """([letters]) => {
  const font = getComputedStyle(document.body).font;
  const ctx = document.createElement("canvas").getContext("2d");
  ctx.font = font;
  const tofu = ctx.measureText("\\uE000").width;
  return {tofu, widths: Array.from(letters).map((c) => ctx.measureText(c).width)};
}"""


def _member(live: Live) -> tuple[str, int]:
    email = f"journey-{uuid.uuid4().hex[:8]}@example.com"
    with session_scope(live.db.writer) as session:
        member, _ = members.enrol(
            session, program_id=live.program.id, external_id=email, now=utcnow(), email=email,
            name="Tamar",
        )  # fmt: skip
        ledger.credit(
            session, program=live.program, member_id=member.id, points=1800,
            reason="welcome", now=utcnow(), pending_days=0,
        )  # fmt: skip
    reward = make_reward(live.db, live.program, name="Coffee voucher", points_cost=500)
    return email, reward


def _code(live: Live, email: str) -> str:
    with live.db.reader() as session:
        body = session.execute(
            select(OutboxMessage.body)
            .where(OutboxMessage.recipient == email)
            .order_by(OutboxMessage.id.desc())
            .limit(1)
        ).scalar_one()
    found = re.search(r"\b\d{6}\b", body)
    assert found is not None
    return found.group(0)


def _sign_in(page: Page, live: Live, email: str) -> None:
    page.goto(f"{live.base_url}/portal/sign-in?program={live.program.id}")
    page.get_by_label("E-mail address or card number").fill(email)
    page.get_by_role("button", name="Send me a code").click()
    expect(page).to_have_url(re.compile(r"/portal/sign-in/code$"))
    page.get_by_label("Code from the e-mail").fill(_code(live, email))
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#balance")).to_be_visible()


def _tab_to(page: Page, element_id: str, limit: int = 40) -> None:
    """Only the keyboard: Tab until the element has the focus."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement && document.activeElement.id") == element_id:
            return
    raise AssertionError(f"#{element_id} cannot be reached with the Tab key")


def _renders(page: Page, locale: str) -> None:
    measured = page.evaluate(WIDTHS, [SCRIPTS[locale]])
    widths, tofu = measured["widths"], measured["tofu"]
    assert len(set(widths)) >= 3, (locale, widths)  # real glyphs, not one box for all
    assert any(abs(w - tofu) > 0.5 for w in widths), (locale, widths, tofu)


def _fits(page: Page, width: int = 360) -> None:
    """Usable on the narrowest phones: nothing makes the page scroll sideways."""
    page.set_viewport_size({"width": width, "height": 740})
    overflow = page.evaluate("document.documentElement.scrollWidth")
    page.set_viewport_size({"width": PHONE["width"], "height": PHONE["height"]})
    assert overflow <= width, (page.url, overflow)


def test_a_member_signs_in_redeems_and_gets_the_code(live: Live, new_page: PageFactory) -> None:
    email, reward = _member(live)
    phone = new_page(PHONE)
    _sign_in(phone, live, email)
    expect(phone.locator("#balance")).to_have_text("1,800")
    screenshot(phone, "portal-home-phone")
    _fits(phone)
    phone.get_by_role("link", name="Rewards", exact=True).first.click()
    expect(phone.get_by_role("heading", name="Coffee voucher")).to_be_visible()
    screenshot(phone, "portal-rewards-phone")
    _fits(phone)
    phone.goto(f"{live.base_url}/portal/rewards/{reward}/redeem")
    _tab_to(phone, "redeem-button")
    phone.keyboard.press("Enter")  # redeemed with the keyboard alone
    code = phone.locator("#reward-code")
    expect(code).to_have_text(re.compile(r"^[0-9A-Z]{4}(-[0-9A-Z]{4}){3}$"))
    screenshot(phone, "portal-code-phone")
    receipt, shown = phone.url, code.inner_text()
    _fits(phone)
    phone.goto(f"{live.base_url}/portal/")
    expect(phone.locator("#balance")).to_have_text("1,300")  # spent once

    desktop = new_page(DESKTOP)
    _sign_in(desktop, live, email)
    screenshot(desktop, "portal-home-desktop")
    desktop.goto(f"{live.base_url}/portal/rewards")
    screenshot(desktop, "portal-rewards-desktop")
    desktop.goto(receipt)
    expect(desktop.locator("#reward-code")).to_have_text(shown)
    screenshot(desktop, "portal-code-desktop")

    for locale in ("ka", "gu"):
        phone.goto(f"{live.base_url}/portal/")
        phone.locator(f'.lang-switch button[value="{locale}"]').click()
        expect(phone.locator("html")).to_have_attribute("lang", locale)
        expect(phone.locator("#balance")).to_have_text(format_decimal(1300, locale=locale))
        _renders(phone, locale)
        screenshot(phone, f"portal-home-{locale}-phone")
        _fits(phone)
    assert phone.outside == [], phone.outside  # type: ignore[attr-defined]
    assert desktop.outside == [], desktop.outside  # type: ignore[attr-defined]
