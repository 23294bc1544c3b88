"""Member identifiers: how e-mails and phones are normalised so lookups match, and how card
numbers are made."""

from __future__ import annotations

import re
import secrets
from datetime import date
from enum import StrEnum

from email_validator import EmailNotValidError, validate_email

from punchcard.kit import luhn

CARD_PREFIX = "8"
CARD_LENGTH = 16
_PHONE_NOISE = re.compile(r"[\s\-.()]")
_E164 = re.compile(r"^\+[1-9]\d{6,14}$")


class Channel(StrEnum):
    WEB = "web"
    APP = "app"
    POS = "pos"
    OTHER = "other"


class IdentifierError(ValueError):
    """An identifier that cannot be stored as given; the message says why."""


def normalise_email(raw: str) -> str:
    """Lower-cased whole address: stores and tills type e-mails in every case."""
    try:
        return validate_email(raw.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise IdentifierError(str(exc)) from exc


def normalise_phone(raw: str) -> str:
    """E.164 (`+` and country code): the one form that matches across shop, app and till."""
    phone = _PHONE_NOISE.sub("", raw.strip())
    if phone.startswith("00"):
        phone = "+" + phone[2:]
    if not _E164.match(phone):
        raise IdentifierError(
            "phone must be in international form with its country code, such as +14155550100"
        )
    return phone


def check_birthday(value: date, today: date) -> date:
    if value > today or value.year < 1900:
        raise IdentifierError("birthday must be a real date in the past")
    return value


def new_card_number() -> str:
    """16 digits: a fixed prefix, 14 random digits and a Luhn check digit."""
    digits = CARD_LENGTH - 2
    body = CARD_PREFIX + str(secrets.randbelow(10**digits)).zfill(digits)
    return body + luhn.check_digit(body)


def new_qr_token() -> str:
    """What the card's QR code carries: random, so it cannot be derived from the card number."""
    return secrets.token_urlsafe(18)
