"""Every portal page in every language: nothing the translator lacked, no catalog entry left
untranslated or fuzzy, every string of the code in the catalogs, and pages that have a title,
labelled fields and nothing from outside the server."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from fastapi.testclient import TestClient

from punchcard.db import Database
from punchcard.kit.clock import FixedClock
from punchcard.web import i18n
from punchcard.web.portal.mail import sign_in_email
from tests.conftest import Api
from tests.redemptions.helpers import make_cause, make_reward
from tests.web.portal.helpers import (
    POINTS_NAMES,
    ask_code,
    card_number,
    csrf_of,
    enrol,
    enter_code,
    post_form,
    redeem,
    rich_member,
    sign_in,
    uid,
)
from tests.web.portal.pagecheck import check_page

ROOT = Path(__file__).resolve().parents[3]
LOCALES = ("en", "ka", "gu", "fi", "hu")
TRANSLATED = ("ka", "gu", "fi", "hu")


@pytest.fixture
def translators(monkeypatch: pytest.MonkeyPatch) -> list[i18n.Translator]:
    """Every translator a request used, to read what each one lacked."""
    seen: list[i18n.Translator] = []
    original = i18n.use

    def recording(translator: i18n.Translator) -> None:
        seen.append(translator)
        original(translator)

    monkeypatch.setattr(i18n, "use", recording)
    return seen


def _visit(client: TestClient, path: str, locale: str, status: int = 200) -> str:
    answer = client.get(path)
    assert answer.status_code == status, (path, answer.text[:500])
    assert answer.headers["content-language"] == locale, path
    problems = check_page(answer.text)
    assert problems == [], (locale, path, problems)
    return answer.text


def _missing(seen: list[i18n.Translator], locale: str) -> set[str]:
    return {m for t in seen if t.locale == locale for m in t.missing}


@pytest.mark.parametrize("locale", LOCALES)
def test_every_member_page_in_every_language(
    portal: TestClient, db: Database, clock: FixedClock, shop_api: Api,
    translators: list[i18n.Translator], locale: str,
) -> None:  # fmt: skip
    rich = rich_member(db, clock, shop_api)
    sign_in(portal, db, rich.program, rich.email)
    switched = post_form(portal, "/portal/language", {"lang": locale, "next": "/portal/card"})
    assert switched.status_code == 303
    assert switched.headers["location"] == "/portal/card"
    pages = [
        "/portal/", "/portal/card", "/portal/history", f"/portal/history/{rich.earn_tx}",
        "/portal/rewards", f"/portal/rewards/{rich.reward_id}/redeem", "/portal/wallet",
        f"/portal/wallet/{rich.redemption_id}", "/portal/activity", "/portal/leaderboards",
        "/portal/invite", "/portal/impact", "/portal/account", "/portal/account?saved=1",
    ]  # fmt: skip
    for path in pages:
        _visit(portal, path, locale)
    cause = make_cause(db, rich.program, unit="tree", points_per_unit=400)
    gift = make_reward(db, rich.program, type="donation", points_cost=1000, cause_id=cause,
                       value=None)  # fmt: skip
    donation_id = redeem(db, rich.program, clock, rich.member_id, gift)
    donated = _visit(portal, f"/portal/wallet/{donation_id}", locale)
    assert "trees" not in donated  # no English plural
    assert f"{i18n.Translator(locale).number(Decimal('2.5'))} tree" in donated
    _visit(portal, "/portal/no-such-page", locale, 404)
    home = portal.get("/portal/").text
    if locale != "en":  # the points' own name in this language, numbers by CLDR
        assert POINTS_NAMES[locale] in home
    refused = post_form(portal, "/portal/leaderboards/profile",
                        {"display_name": "x", "opted_in": "yes"})  # fmt: skip
    assert refused.status_code == 400
    assert check_page(refused.text) == []
    assert _missing(translators, locale) == set()


@pytest.mark.parametrize("locale", LOCALES)
def test_every_visitor_page_in_every_language(
    portal: TestClient, db: Database, clock: FixedClock, shop_api: Api,
    translators: list[i18n.Translator], locale: str,
) -> None:  # fmt: skip
    program = shop_api.program
    first = portal.get(f"/portal/sign-in?program={program.id}")
    switched = portal.post(
        "/portal/language",
        data={"csrf_token": csrf_of(first.text), "lang": locale,
              "next": f"/portal/sign-in?program={program.id}"},
        follow_redirects=False,
    )  # fmt: skip
    assert switched.status_code == 303
    assert portal.cookies.get("pc_lang") == locale
    _visit(portal, f"/portal/sign-in?program={program.id}", locale)
    bad = ask_code(portal, program, "not an address")
    assert bad.status_code == 400
    assert check_page(bad.text) == []
    ask_code(portal, program, f"{uid('nobody')}@example.com")
    _visit(portal, "/portal/sign-in/code", locale)
    wrong = enter_code(portal, "123456")
    assert wrong.status_code == 400
    assert check_page(wrong.text) == []
    malformed = enter_code(portal, "12")
    assert malformed.status_code == 400
    assert check_page(malformed.text) == []
    for _ in range(4):
        enter_code(portal, "123456")
    again = portal.get("/portal/sign-in/code", follow_redirects=False)
    assert again.status_code == 303  # locked: ask for a new code
    no_email = enrol(db, program, clock, email=None)
    till = ask_code(portal, program, card_number(db, program, no_email))
    assert till.status_code == 409
    assert check_page(till.text) == []
    forged = portal.post("/portal/sign-in", data={"identifier": "a@b.c", "program": "1"})
    assert forged.status_code == 403
    assert check_page(forged.text) == []
    _visit(portal, "/portal/sign-in?program=0", locale, 404)
    assert _missing(translators, locale) == set()


@pytest.mark.parametrize("locale", LOCALES)
def test_the_sign_in_email_in_every_language(locale: str) -> None:
    translator = i18n.Translator(locale)
    for minutes in (1, 2, 10):
        subject, body = sign_in_email(translator, program="Shop", code="123456", minutes=minutes)
        assert "123456" in body
        assert "Shop" in subject
        assert str(minutes) in body
    assert translator.missing == set()


def _catalog_ids() -> set[str]:
    """Every msgid the code and templates use, extracted as `pybabel extract` does."""
    with (ROOT / "babel.cfg").open() as handle:
        method_map, options_map = parse_mapping_cfg(handle)  # type: ignore[no-untyped-call]
    found: set[str] = set()
    for _, _, message, _, _ in extract_from_dir(str(ROOT), method_map, options_map):
        found.add(message if isinstance(message, str) else message[0])
    return found


@pytest.mark.parametrize("locale", TRANSLATED)
def test_catalogs_are_complete_and_up_to_date(locale: str) -> None:
    path = ROOT / "src/punchcard/web/locale" / locale / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=locale)
    ids: set[str] = set()
    placeholder = re.compile(r"%\((\w+)\)s")
    for message in catalog:
        if not message.id:
            continue
        singular = message.id if isinstance(message.id, str) else message.id[0]
        ids.add(singular)
        assert not message.fuzzy, (locale, singular)
        forms = message.string if isinstance(message.string, tuple | list) else [message.string]
        assert forms, (locale, "untranslated", singular)
        assert all(forms), (locale, "untranslated", singular)
        wanted = set(placeholder.findall(singular))
        for form in forms:
            assert set(placeholder.findall(str(form))) >= wanted - {"num"}, (locale, singular, form)
    assert _catalog_ids() <= ids, sorted(_catalog_ids() - ids)
