"""Program settings as plain values, and the expiry arithmetic they imply."""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from enum import StrEnum


class ExpiryPolicy(StrEnum):
    NEVER = "never"
    DAYS_AFTER_EARN = "days_after_earn"
    END_OF_MONTH = "end_of_month"
    END_OF_YEAR = "end_of_year"


class Scope(StrEnum):
    ADMIN = "admin"
    STOREFRONT = "storefront"
    POS = "pos"
    ANALYST = "analyst"


# The languages a program may name its points in (the member portal's languages).
POINTS_NAME_LOCALES = ("en", "ka", "gu", "fi", "hu")
MAX_POINTS_NAME = 50
MAX_EXPIRY_DAYS = 36_500
MAX_EXPIRY_MONTHS = 1_200


@dataclass(frozen=True)
class ProgramSettings:
    id: int
    name: str
    points_name: str
    currency: str
    expiry_policy: ExpiryPolicy
    expiry_value: int
    pending_days: int
    auto_enrol: bool
    points_payment_rate: int | None = None
    points_payment_max_percent: int = 100
    # What one point costs the merchant when it is redeemed, in the program's currency
    # (None: not set, so liability and ROI are given in points only).
    point_value: Decimal | None = None
    # The share of outstanding points the merchant expects never to be redeemed, 0 to 1
    # (None: use the breakage the program has seen so far).
    expected_breakage: Decimal | None = None
    # What members see the points called in each language ({"ka": "ქულები"}); a language
    # left out uses `points_name`.
    points_names: dict[str, str] = field(default_factory=dict, hash=False)

    def points_name_in(self, locale: str) -> str:
        """The points' name in `locale`, else the program's one name."""
        return self.points_names.get(locale) or self.points_name


def _add_months(moment: datetime, months: int) -> tuple[int, int]:
    index = moment.year * 12 + (moment.month - 1) + months
    return index // 12, index % 12 + 1


def expiry_for(policy: ExpiryPolicy, value: int, earned_at: datetime) -> datetime | None:
    """When points that became available at `earned_at` expire (an exclusive instant, UTC).

    `end_of_month`/`end_of_year`: move `value` months on from the earning month, then expire at
    the end of that month (or of that calendar year), which is how most programs phrase it
    ("points expire at the end of the month, 12 months after you earn them").
    """
    if policy is ExpiryPolicy.NEVER:
        return None
    if policy is ExpiryPolicy.DAYS_AFTER_EARN:
        return earned_at + timedelta(days=value)
    year, month = _add_months(earned_at, value)
    if policy is ExpiryPolicy.END_OF_YEAR:
        return datetime(year + 1, 1, 1, tzinfo=UTC)
    last_day = calendar.monthrange(year, month)[1]
    return datetime(year, month, last_day, tzinfo=UTC) + timedelta(days=1)


def validate_expiry(policy: ExpiryPolicy, value: int) -> str | None:
    """The reason a policy/value pair makes no sense, or None when it is fine."""
    if policy is ExpiryPolicy.NEVER:
        return None if value == 0 else "expiry_value must be 0 when expiry_policy is never"
    if policy is ExpiryPolicy.DAYS_AFTER_EARN:
        if not 1 <= value <= MAX_EXPIRY_DAYS:
            return f"expiry_value must be between 1 and {MAX_EXPIRY_DAYS} days"
        return None
    if not 0 <= value <= MAX_EXPIRY_MONTHS:
        return f"expiry_value must be between 0 and {MAX_EXPIRY_MONTHS} months"
    return None


def validate_points_names(names: object) -> str | None:
    """The reason a per-language points-name map is refused, or None when it is fine: keys
    are portal languages, names are non-empty and short enough for a button."""
    if not isinstance(names, dict):
        return "points_names must be an object of language code to name"
    for locale, name in names.items():
        if locale not in POINTS_NAME_LOCALES:
            return f"points_names: {locale!r} is not one of {', '.join(POINTS_NAME_LOCALES)}"
        if not isinstance(name, str) or not name.strip():
            return f"points_names.{locale} must be a non-empty name"
        if len(name.strip()) > MAX_POINTS_NAME:
            return f"points_names.{locale} must be at most {MAX_POINTS_NAME} characters"
    return None
