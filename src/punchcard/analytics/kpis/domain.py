"""The KPI definitions as arithmetic on plain numbers: rates, liability, ROI, cohort shares.

Every ratio is None when its denominator is zero ("no redemptions yet" is not "a rate of 0"),
so a program with no data answers with zeros and nulls, never with a division error. Money is
Decimal, rounded half-up to cents only when shown; rates are rounded to six places.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

ACTIVE_WINDOWS = (30, 90)
CHURN_WINDOW_DAYS = 90
MAX_COHORT_OFFSETS = 36
# Far enough from date.min and date.max that "the day after" and "N days before" exist.
EARLIEST = date(1900, 1, 1)
LATEST = date(9999, 12, 1)
CENTS = Decimal("0.01")
RATE_PLACES = Decimal("0.000001")


class RangeError(ValueError):
    """A date range the KPIs cannot be computed for; the service names the bad parameter."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Range:
    """Inclusive UTC days [first, last]; the queries use the half-open [start, stop)."""

    first: date
    last: date

    @property
    def start(self) -> datetime:
        return midnight(self.first)

    @property
    def stop(self) -> datetime:
        return midnight(self.last + timedelta(days=1))


def midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


def check_range(first: date, last: date) -> Range:
    for day in (first, last):
        if not EARLIEST <= day <= LATEST:
            raise RangeError("date_out_of_range", f"dates must lie between {EARLIEST} and {LATEST}")
    if first > last:
        raise RangeError("invalid_date_range", f"from ({first}) is after to ({last})")
    return Range(first, last)


def ratio(part: int | Decimal, whole: int | Decimal) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part) / Decimal(whole)).quantize(RATE_PLACES, ROUND_HALF_UP)


def cents(amount: Decimal) -> Decimal:
    return amount.quantize(CENTS, ROUND_HALF_UP)


def redemption_rate(*, redeemed: int, donated: int, issued: int) -> Decimal | None:
    """Points used (on rewards and donations) per point ever issued, as of the range's end:
    a share from 0 to 1. (Per range it is not one: a month can spend points earned before.)"""
    if issued <= 0:
        return None
    return ratio(max(redeemed + donated, 0), issued)


def breakage_rate(*, expired: int, redeemed: int, donated: int) -> Decimal | None:
    """Of the points that left members' hands, the share that left by expiring."""
    settled = expired + redeemed + donated
    if settled <= 0:
        return None
    return ratio(max(expired, 0), settled)


# The breakage seen so far stands for the future only once enough points have settled: ten
# expired points and nothing redeemed yet is no evidence that every point will expire.
MIN_SETTLED_POINTS = 1000
MIN_SETTLED_SHARE = Decimal("0.25")


def observed_breakage(*, expired: int, redeemed: int, donated: int, issued: int) -> Decimal | None:
    settled = expired + redeemed + donated
    if settled < MIN_SETTLED_POINTS or settled < MIN_SETTLED_SHARE * issued:
        return None
    return breakage_rate(expired=expired, redeemed=redeemed, donated=donated)


@dataclass(frozen=True)
class Liability:
    outstanding_points: int
    expected_breakage: Decimal
    breakage_source: str  # "setting", "observed" or "none"
    expected_redeemable_points: int
    money: Decimal | None


def liability(
    *,
    outstanding: int,
    point_value: Decimal | None,
    setting: Decimal | None,
    observed: Decimal | None,
) -> Liability:
    """What the outstanding points will cost: only the share expected to be redeemed counts.
    The program's expected breakage wins; else the breakage seen so far; else none."""
    if setting is not None:
        breakage, source = setting, "setting"
    elif observed is not None:
        breakage, source = observed, "observed"
    else:
        breakage, source = Decimal(0), "none"
    redeemable = Decimal(outstanding) * (1 - breakage)
    points = int(redeemable.quantize(Decimal(1), ROUND_HALF_UP))
    return Liability(outstanding, breakage, source, points, money_of(points, point_value))


def money_of(points: int, point_value: Decimal | None) -> Decimal | None:
    return None if point_value is None else cents(Decimal(points) * point_value)


def roi(*, attributable_revenue: Decimal, cost: Decimal | None) -> Decimal | None:
    """(revenue the program can claim - what it cost) / what it cost."""
    if cost is None or cost == 0:
        return None
    return ((attributable_revenue - cost) / cost).quantize(RATE_PLACES, ROUND_HALF_UP)


def month_key(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def month_index(key: str) -> int:
    year, month = key.split("-")
    return int(year) * 12 + int(month) - 1


@dataclass(frozen=True)
class Cohort:
    month: str
    members: int
    shares: list[Decimal | None]


def cohorts(
    sizes: Mapping[str, int], active: Mapping[tuple[str, str], int], last: date
) -> list[Cohort]:
    """The retention matrix: for each enrolment month, the share of its members who ordered in
    each month since (offset 0 = the enrolment month), up to the range's last month and at most
    MAX_COHORT_OFFSETS months; `active` maps (cohort, order month) to distinct buyers."""
    end = month_index(month_key(last))
    result = []
    for cohort in sorted(sizes):
        size = sizes[cohort]
        first = month_index(cohort)
        offsets = min(end - first, MAX_COHORT_OFFSETS)
        shares: list[Decimal | None] = []
        for offset in range(offsets + 1):
            index = first + offset
            key = f"{index // 12:04d}-{index % 12 + 1:02d}"
            shares.append(ratio(active.get((cohort, key), 0), size))
        result.append(Cohort(cohort, size, shares))
    return result


@dataclass(frozen=True)
class Buyers:
    """One segment's order figures over the range (and the churn window before it)."""

    orders: int = 0
    revenue: Decimal = Decimal(0)
    buyers: int = 0
    repeat_buyers: int = 0
    churn_base: int = 0
    churned: int = 0

    def __add__(self, other: Buyers) -> Buyers:
        return Buyers(
            self.orders + other.orders,
            self.revenue + other.revenue,
            self.buyers + other.buyers,
            self.repeat_buyers + other.repeat_buyers,
            self.churn_base + other.churn_base,
            self.churned + other.churned,
        )


def total(parts: Sequence[Buyers]) -> Buyers:
    result = Buyers()
    for part in parts:
        result = result + part
    return result
