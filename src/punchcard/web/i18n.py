"""Languages of the browser pages: gettext catalogs managed with Babel, chosen per request,
and numbers, dates and money formatted by Babel's CLDR data (never by hand).

The catalogs are the `.po` files under `web/locale/` (the source English is the msgid itself),
read once per process: nothing is compiled at set-up. A translator can *record* what it was
asked for and did not have, which is how the test that renders every page in every language
finds a missing or untranslated message.
"""

from __future__ import annotations

import functools
import gettext as gettext_module
import json
from collections.abc import Callable, Iterable
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_datetime
from babel.messages.pofile import read_po
from babel.numbers import format_currency, format_decimal, format_percent

LOCALE_DIR = Path(__file__).parent / "locale"
DEFAULT_LOCALE = "en"
# The portal and member e-mails come in these; the admin console is in English.
PORTAL_LOCALES: tuple[str, ...] = ("en", "ka", "gu", "fi", "hu")
LANGUAGE_NAMES = {
    code: Locale.parse(code).get_display_name(code) or code for code in PORTAL_LOCALES
}


@dataclass(frozen=True)
class Catalog:
    """msgid (or (singular, plural)) -> msgstr (or the tuple of plural forms), and the
    language's plural rule from the catalog's header. Fuzzy entries and empty translations are
    left out, so they count as missing."""

    entries: dict[str | tuple[str, str], str | tuple[str, ...]]
    plural: Callable[[int], int]


@functools.cache
def catalog(locale: str, domain: str = "messages") -> Catalog:
    path = LOCALE_DIR / locale / "LC_MESSAGES" / f"{domain}.po"
    if not path.exists():
        return Catalog({}, lambda n: int(n != 1))
    with path.open("rb") as handle:
        parsed = read_po(handle, locale=locale)
    entries: dict[str | tuple[str, str], str | tuple[str, ...]] = {}
    for message in parsed:
        if not message.id or message.fuzzy:
            continue
        if isinstance(message.id, tuple | list):
            forms = tuple(str(form) for form in (message.string or ()))
            if forms and all(forms):
                entries[(str(message.id[0]), str(message.id[1]))] = forms
        elif message.string:
            entries[str(message.id)] = str(message.string)
    # gettext's own evaluator of the header's C-like plural formula.
    return Catalog(entries, gettext_module.c2py(parsed.plural_expr))


@dataclass
class Translator:
    """One language's gettext, with a record of what it did not have (for the tests)."""

    locale: str
    domain: str = "messages"
    missing: set[str] = field(default_factory=set)

    @property
    def babel(self) -> Locale:
        return Locale.parse(self.locale)

    def translate(self, message: str) -> str:
        """The translation, placeholders left in (Jinja's newstyle gettext fills them)."""
        if self.locale == DEFAULT_LOCALE:
            return message
        found = catalog(self.locale, self.domain).entries.get(message)
        if isinstance(found, str):
            return found
        self.missing.add(message)
        return message

    def translate_plural(self, singular: str, plural: str, n: int) -> str:
        """The plural form for `n` by the catalog's rule, placeholders left in."""
        if self.locale == DEFAULT_LOCALE:
            return singular if n == 1 else plural
        book = catalog(self.locale, self.domain)
        forms = book.entries.get((singular, plural))
        if isinstance(forms, tuple):
            return forms[min(book.plural(n), len(forms) - 1)]
        self.missing.add(singular)
        return singular if n == 1 else plural

    def gettext(self, message: str, **values: object) -> str:
        text = self.translate(message)
        return text % values if values else text

    def ngettext(self, singular: str, plural: str, n: int, **values: object) -> str:
        values.setdefault("num", n)
        return self.translate_plural(singular, plural, n) % values

    # Formatting: CLDR, per locale.
    def number(self, value: int | float | Decimal) -> str:
        return format_decimal(value, locale=self.locale)

    def percent(self, value: float | Decimal) -> str:
        return format_percent(value, locale=self.locale, format="#,##0.#%")

    def money(self, amount: Decimal | float | str, currency: str) -> str:
        return format_currency(Decimal(str(amount)), currency, locale=self.locale)

    def date(self, value: date | datetime | None, form: str = "medium") -> str:
        return "" if value is None else format_date(value, format=form, locale=self.locale)

    def datetime(self, value: datetime | None, form: str = "medium") -> str:
        return "" if value is None else format_datetime(value, format=form, locale=self.locale)


_current: ContextVar[Translator] = ContextVar("punchcard_translator")


def use(translator: Translator) -> None:
    """Make `translator` the one templates' `_`/`gettext` use in this request (a ContextVar,
    so concurrent requests in other languages never see it)."""
    _current.set(translator)


def current() -> Translator:
    try:
        return _current.get()
    except LookupError:
        return Translator(DEFAULT_LOCALE)


def gettext(message: str, **values: object) -> str:
    return current().gettext(message, **values)


def ngettext(singular: str, plural: str, n: int, **values: object) -> str:
    return current().ngettext(singular, plural, n, **values)


def template_gettext(message: str) -> str:
    """For Jinja's newstyle `_()`/`gettext`: it formats the values in itself, escaped."""
    return current().translate(message)


def template_ngettext(singular: str, plural: str, n: int) -> str:
    """For Jinja's newstyle `ngettext`: it adds `num` and formats the values in itself."""
    return current().translate_plural(singular, plural, n)


def supported(tag: str | None, available: Iterable[str] = PORTAL_LOCALES) -> str | None:
    """The available language a tag names ("ka-GE" -> "ka"), or None."""
    if not tag:
        return None
    options = list(available)
    try:
        language = Locale.parse(tag.strip().replace("-", "_")).language
    except (ValueError, UnknownLocaleError):
        return None
    return language if language in options else None


def from_accept_language(
    header: str | None, available: Iterable[str] = PORTAL_LOCALES
) -> str | None:
    """The best available language of an Accept-Language header, by its q-values."""
    if not header:
        return None
    options = list(available)
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        if tag and tag != "*" and quality > 0:
            ranked.append((-quality, position, tag))
    for _, _, tag in sorted(ranked):
        found = supported(tag, options)
        if found:
            return found
    return None


def choose(
    *,
    preference: str | None,
    cookie: str | None,
    accept_language: str | None,
    available: Iterable[str] = PORTAL_LOCALES,
) -> str:
    """The member's own choice first, then the switcher's cookie, then the browser's."""
    options = list(available)
    return (
        supported(preference, options)
        or supported(cookie, options)
        or from_accept_language(accept_language, options)
        or DEFAULT_LOCALE
    )


def N_(message: str) -> str:  # noqa: N802  (gettext's name for "mark for extraction only")
    """Marks a string for the catalogs where it is translated later, by value."""
    return message


DEFAULT_POINTS_NAME = N_("points")


def points_name(default: str, names_json: str | None, locale: str) -> str:
    """What a program calls its points in `locale`: its name in that language, else, when the
    program kept the built-in name, our own translation of it, else its one name."""
    if names_json:
        try:
            names = json.loads(names_json)
        except ValueError:
            names = {}
        if isinstance(names, dict) and isinstance(names.get(locale), str) and names[locale]:
            return str(names[locale])
    if default == DEFAULT_POINTS_NAME:
        found = current()
        translator = found if found.locale == locale else Translator(locale)
        return translator.translate(DEFAULT_POINTS_NAME)
    return default
