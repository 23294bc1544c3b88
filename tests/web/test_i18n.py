"""The language machinery of the browser pages (web/i18n.py): which language a request gets,
the per-program points names, plural forms from the catalog's own rule, the record of missing
messages, and formatting by Babel per locale."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from babel.numbers import format_currency

from punchcard.web import i18n


@pytest.mark.parametrize(
    ("preference", "cookie", "header", "expected"),
    [
        ("hu", "fi", "ka", "hu"),  # the member's own choice wins
        (None, "fi", "ka", "fi"),  # then the switcher's cookie
        (None, None, "fr-CH, fr;q=0.9, gu;q=0.8, en;q=0.7", "gu"),  # then the browser, by q
        (None, None, "ka-GE;q=0.2, fi;q=0.9", "fi"),
        (None, None, "de, fr", "en"),  # nothing we have: English
        (None, None, None, "en"),
        ("xx-nope", "??", "ka;q=abc, hu", "hu"),  # garbage is ignored, never an error
        (None, None, "ka;q=0", "en"),  # q=0 means "not this one"
    ],
)
def test_the_language_comes_from_the_member_then_the_switcher_then_the_browser(
    preference: str | None, cookie: str | None, header: str | None, expected: str
) -> None:
    assert i18n.choose(preference=preference, cookie=cookie, accept_language=header) == expected


def test_the_admin_console_offers_only_what_it_has() -> None:
    assert (
        i18n.choose(preference="ka", cookie=None, accept_language="gu", available=("en",)) == "en"
    )


def test_points_are_named_per_program_and_language() -> None:
    names = json.dumps({"ka": "ქულები", "fi": "pisteet"})
    assert i18n.points_name("stars", names, "ka") == "ქულები"
    assert i18n.points_name("stars", names, "gu") == "stars"  # no name in that language
    assert i18n.points_name("stars", None, "fi") == "stars"
    assert i18n.points_name("stars", "not json", "fi") == "stars"


def test_a_message_the_catalog_lacks_is_recorded_and_shown_in_english() -> None:
    translator = i18n.Translator("fi")
    text = translator.gettext("A sentence no catalog has, %(n)s", n=3)
    assert text == "A sentence no catalog has, 3"
    assert translator.missing == {"A sentence no catalog has, %(n)s"}
    english = i18n.Translator("en")
    english.gettext("Anything")
    assert english.missing == set()  # English is the source language: nothing is missing


def test_plural_forms_follow_the_catalog_rule(
    tmp_path: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pathlib import Path

    root = Path(str(tmp_path))
    folder = root / "xx" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    (folder / "messages.po").write_text(
        'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n'
        '"Plural-Forms: nplurals=3; plural=(n==1 ? 0 : n<5 ? 1 : 2);\\n"\n\n'
        'msgid "%(num)s point"\nmsgid_plural "%(num)s points"\n'
        'msgstr[0] "%(num)s one"\nmsgstr[1] "%(num)s few"\nmsgstr[2] "%(num)s many"\n',
        encoding="utf-8",
    )
    monkeypatch.setattr(i18n, "LOCALE_DIR", root)
    i18n.catalog.cache_clear()
    try:
        translator = i18n.Translator("xx")
        said = [translator.ngettext("%(num)s point", "%(num)s points", n) for n in (1, 3, 7)]
        assert said == ["1 one", "3 few", "7 many"]
        assert translator.missing == set()
    finally:
        i18n.catalog.cache_clear()


@pytest.mark.parametrize("locale", i18n.PORTAL_LOCALES)
@pytest.mark.parametrize("currency", ["GEL", "INR", "EUR", "HUF", "USD"])
def test_money_is_formatted_by_babel_per_locale(locale: str, currency: str) -> None:
    shown = i18n.Translator(locale).money(Decimal("1234567.5"), currency)
    assert shown == format_currency(Decimal("1234567.5"), currency, locale=locale)


def test_formatting_differs_by_locale_as_cldr_says() -> None:
    assert i18n.Translator("en").number(1234567) == "1,234,567"
    assert i18n.Translator("gu").money(Decimal("1234567.5"), "INR") == "₹12,34,567.50"
    assert i18n.Translator("fi").number(1234567) == "1\xa0234\xa0567"
    assert i18n.Translator("hu").money(Decimal("1234.5"), "HUF").endswith("Ft")


def test_templates_format_plurals_and_values_once_and_escape_them() -> None:
    """Jinja's newstyle gettext fills the values in itself: the translator must hand it the
    text with placeholders left in (filling them first broke other values and a literal %)."""
    from punchcard.web.pages import TEMPLATES

    i18n.use(i18n.Translator("en"))
    template = TEMPLATES.env.from_string(
        '{{ ngettext("%(num)s point for %(who)s", "%(num)s points for %(who)s", n, who=who) }}'
        '|{{ _("50%% off for %(who)s", who=who) }}|{{ _("Plain 100%%") }}'
    )
    assert template.render(n=3, who="<b>") == (
        "3 points for &lt;b&gt;|50% off for &lt;b&gt;|Plain 100%"
    )
    assert template.render(n=1, who="Ann").startswith("1 point for Ann|")


def test_the_built_in_points_name_is_translated_and_a_merchants_own_is_kept() -> None:
    assert i18n.points_name("points", None, "fi") == "pistettä"
    assert i18n.points_name("points", None, "en") == "points"
    assert i18n.points_name("stars", None, "fi") == "stars"
