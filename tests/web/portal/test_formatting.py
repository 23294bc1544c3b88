"""Numbers, money and dates on the pages come from Babel's CLDR data for the member's
language, never from hand-made formats; points carry the program's name for them."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from html import unescape

import pytest
from babel.dates import format_date
from babel.numbers import format_currency, format_decimal
from fastapi.testclient import TestClient

from punchcard.db import Database
from punchcard.kit.clock import FixedClock
from tests.redemptions.helpers import make_reward
from tests.web.portal.helpers import (
    POINTS_NAMES,
    enrol,
    give,
    make_program,
    post_form,
    sign_in,
    uid,
)

LOCALES = ("en", "ka", "gu", "fi", "hu")
CURRENCIES = ("GEL", "INR", "EUR", "HUF", "USD")


def test_money_in_every_currency_and_language_is_babels(
    portal: TestClient, db: Database, clock: FixedClock
) -> None:
    for currency in CURRENCIES:
        program = make_program(db, clock, currency=currency)
        email = f"{uid('money')}@example.com"
        member = enrol(db, program, clock, email=email)
        give(db, program, clock, member, 100)
        make_reward(db, program, name="Voucher", points_cost=50, value="1234.50")
        portal.cookies.clear()
        sign_in(portal, db, program, email)
        for locale in LOCALES:
            post_form(portal, "/portal/language", {"lang": locale})
            page = unescape(portal.get("/portal/rewards").text)
            expected = format_currency(Decimal("1234.50"), currency, locale=locale)
            assert expected in page, (currency, locale, expected)


@pytest.mark.parametrize("locale", LOCALES)
def test_home_shows_balance_pending_and_expiring_in_the_members_language(
    portal: TestClient, db: Database, clock: FixedClock, locale: str
) -> None:
    program = make_program(db, clock, expiry_value=30, pending_days=14)
    email = f"{uid('home')}@example.com"
    member = enrol(db, program, clock, email=email, locale=locale)
    give(db, program, clock, member, 1500)
    clock.set(clock() + timedelta(days=2))
    give(db, program, clock, member, 12345)
    give(db, program, clock, member, 2750, pending=True, order_id="B-7")
    sign_in(portal, db, program, email)
    answer = portal.get("/portal/")
    assert answer.headers["content-language"] == locale  # the member's saved choice
    page = unescape(answer.text)
    start = clock() - timedelta(days=2)
    for figure in (13845, 2750, 1500, 12345):
        assert format_decimal(figure, locale=locale) in page, (locale, figure)
    first, second = start + timedelta(days=30), clock() + timedelta(days=30)
    assert format_date(first, "medium", locale=locale) in page
    assert format_date(second, "medium", locale=locale) in page
    assert page.index(format_date(first, "medium", locale=locale)) < page.index(
        format_date(second, "medium", locale=locale)
    )  # nearest expiry first
    pending_day = clock() + timedelta(days=14)
    assert format_date(pending_day, "medium", locale=locale) in page
    assert POINTS_NAMES.get(locale, "points") in page
