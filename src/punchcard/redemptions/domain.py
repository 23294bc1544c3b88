"""Pure rules of redemptions: states, what a code is worth at checkout, what points buy when
they pay for part of an order, and when a redemption may be cancelled. No I/O here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_FLOOR, ROUND_HALF_UP, Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from punchcard.rewards.domain import CODE_TYPES, RewardType

CENT = Decimal("0.01")
POINTS_PAYMENT = "points_payment"
# Every type a checkout code can carry: the code rewards, and points paying part of an order.
CHECKOUT_TYPES = frozenset({*(t.value for t in CODE_TYPES), POINTS_PAYMENT})


class Status(StrEnum):
    ISSUED = "issued"  # a code, not used yet
    USED = "used"  # a code the store redeemed at checkout
    EXPIRED = "expired"  # a code past its date (the points stay spent)
    CANCELLED = "cancelled"  # points given back
    RESERVED = "reserved"  # a place at an experience
    COMPLETED = "completed"  # a donation


class Verdict(StrEnum):
    VALID = "valid"
    INVALID = "code_invalid"  # unknown, expired or cancelled: one answer for all three
    USED = "code_used"


def initial_status(kind: RewardType) -> Status:
    if kind is RewardType.EXPERIENCE:
        return Status.RESERVED
    if kind is RewardType.DONATION:
        return Status.COMPLETED
    return Status.ISSUED


def verdict(status: str | None, expires_at: datetime | None, now: datetime) -> Verdict:
    """What checkout answers for a looked-up code (`status` None: no such code). A code past
    its date is expired whether or not the job has marked it yet."""
    if status == Status.USED:
        return Verdict.USED
    if status == Status.ISSUED and (expires_at is None or now < expires_at):
        return Verdict.VALID
    return Verdict.INVALID


def cancel_refusal(
    status: str, expires_at: datetime | None, starts_at: datetime | None, now: datetime
) -> str | None:
    """The error code refusing a cancellation, or None when the points can go back: only an
    unused, unexpired code or a place at an experience that has not started."""
    if status == Status.CANCELLED:
        return "already_cancelled"
    if status == Status.USED:
        return "code_used"
    if status == Status.EXPIRED or (
        status == Status.ISSUED and expires_at is not None and expires_at <= now
    ):
        return "code_expired"
    if status == Status.RESERVED and starts_at is not None and starts_at <= now:
        return "not_cancellable"
    if status in (Status.ISSUED, Status.RESERVED):
        return None
    return "not_cancellable"  # a donation has been given


def parse_amount(text: str) -> Decimal:
    """A stored amount or percentage; ValueError for anything that is not a finite number."""
    try:
        number = Decimal(text)
    except InvalidOperation as exc:
        raise ValueError(f"{text!r} is not a number") from exc
    if not number.is_finite():
        raise ValueError(f"{text!r} is not a finite number")
    return number


def cents(value: Decimal) -> str:
    return str(value.quantize(CENT))


def discount(
    kind: str, value: str | None, order_total: Decimal | None, max_percent: int | None = None
) -> dict[str, Any]:
    """What a code takes off an order, as checkout reports it. Amounts never exceed the order
    total when one is given; a percentage is rounded half up to the cent, as carts do. A points
    payment keeps the program's share limit (`max_percent`) on whatever order it meets: quoted
    against a large basket, it cannot pay all of a smaller one."""
    if kind in (RewardType.DISCOUNT_AMOUNT, POINTS_PAYMENT):
        amount = Decimal(value or "0")
        if order_total is not None:
            limit = order_total
            if max_percent is not None:
                limit = (order_total * max_percent / 100).quantize(CENT, rounding=ROUND_FLOOR)
            amount = min(amount, limit)
        return {"amount": cents(amount)}
    if kind == RewardType.DISCOUNT_PERCENT:
        percent = int(Decimal(value or "0"))
        result: dict[str, Any] = {"percent": percent}
        if order_total is not None:
            share = (order_total * percent / 100).quantize(CENT, rounding=ROUND_HALF_UP)
            result["amount"] = cents(min(share, order_total))
        return result
    if kind == RewardType.FREE_SHIPPING:
        return {"free_shipping": True}
    if kind == RewardType.FREE_PRODUCT:
        return {"sku": value}
    return {"store_credit": cents(Decimal(value or "0"))}  # gift card


class PaymentRuleError(ValueError):
    """A points payment that cannot be made; `code` is the API's error code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class PaymentQuote:
    points: int  # what the member is charged
    amount: Decimal  # what the code takes off the order
    max_amount: Decimal  # the program's share cap for this order
    capped: bool  # the cap, not the request, set the amount


def quote_payment(
    *,
    rate: int,
    max_percent: int,
    order_total: Decimal,
    points: int | None = None,
    amount: Decimal | None = None,
) -> PaymentQuote:
    """Points as money: `rate` points make one currency unit. The amount is rounded down to
    the cent, capped at `max_percent` of the order, and the member pays the fewest whole points
    that buy it: never more points, nor more money, than asked. An `amount` asks for at most
    that much money."""
    max_amount = (order_total * max_percent / 100).quantize(CENT, rounding=ROUND_DOWN)
    asked = amount if amount is not None else Decimal(0)
    budget = points if points is not None else int((asked * rate).to_integral_value(ROUND_FLOOR))
    affordable = int((max_amount * rate).to_integral_value(rounding=ROUND_FLOOR))
    usable = min(budget, affordable)
    value = (Decimal(usable) / rate).quantize(CENT, rounding=ROUND_DOWN)
    if value <= 0:
        raise PaymentRuleError(
            "points_payment_too_small",
            f"that buys less than one cent off this order (at {rate} points per unit, "
            f"at most {cents(max_amount)} of it)",
        )
    charged = int((value * rate).to_integral_value(rounding=ROUND_CEILING))
    return PaymentQuote(charged, value, max_amount, capped=affordable < budget)


def impact_units(points: int, points_per_unit: int) -> Decimal:
    """What a donation achieves, in the cause's unit, to the hundredth (rounded down)."""
    return (Decimal(points) / points_per_unit).quantize(CENT, rounding=ROUND_DOWN)


def units_text(units: Decimal) -> str:
    """1, 0.5, 2.25: no trailing zeros, no exponent."""
    text = f"{units.quantize(CENT):f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def impact_phrase(units: Decimal, unit: str) -> str:
    """ "2 trees", "1 tree": a plain English plural, enough for units named by the merchant."""
    plural = units != 1 and not unit.endswith("s")
    return f"{units_text(units)} {unit}{'s' if plural else ''}"
