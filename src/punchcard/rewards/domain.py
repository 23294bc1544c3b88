"""Who may redeem what, as pure functions: the catalog listing and the redemption itself ask
the same question, so a member is never shown a reward the redemption would refuse."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from punchcard.kit.clock import as_utc


class RewardType(StrEnum):
    DISCOUNT_AMOUNT = "discount_amount"
    DISCOUNT_PERCENT = "discount_percent"
    FREE_SHIPPING = "free_shipping"
    FREE_PRODUCT = "free_product"
    EXPERIENCE = "experience"
    DONATION = "donation"
    GIFT_CARD = "gift_card"


# Rewards the store redeems at checkout with a single-use code.
CODE_TYPES = frozenset(
    {
        RewardType.DISCOUNT_AMOUNT,
        RewardType.DISCOUNT_PERCENT,
        RewardType.FREE_SHIPPING,
        RewardType.FREE_PRODUCT,
        RewardType.GIFT_CARD,
    }
)


class Refusal(StrEnum):
    """Why a member cannot redeem a reward now; each is also the API's error code."""

    REWARD_INACTIVE = "reward_inactive"
    NOT_ELIGIBLE = "not_eligible"
    OUT_OF_STOCK = "out_of_stock"
    LIMIT_REACHED = "limit_reached"
    DEBT_OUTSTANDING = "debt_outstanding"
    INSUFFICIENT_POINTS = "insufficient_points"


@dataclass(frozen=True)
class RewardView:
    id: int
    program_id: int
    name: str
    type: RewardType
    points_cost: int
    value: str | None
    cause_id: int | None
    stock: int | None
    claimed: int
    per_member_limit: int | None
    valid_from: datetime | None
    valid_until: datetime | None
    tiers: frozenset[str] | None
    channels: frozenset[str] | None
    code_valid_days: int
    active: bool
    starts_at: datetime | None = None  # an experience's start: no place is taken after it

    @property
    def remaining(self) -> int | None:
        return None if self.stock is None else max(self.stock - self.claimed, 0)

    def on_offer(self, now: datetime) -> bool:
        """Active, inside its window, and for an experience, not started: a place taken at
        an event already under way could neither be used nor cancelled."""
        return (
            self.active
            and (self.valid_from is None or self.valid_from <= now)
            and (self.valid_until is None or now < self.valid_until)
            and (self.starts_at is None or now < self.starts_at)
        )


@dataclass(frozen=True)
class MemberStanding:
    """What eligibility looks at about one member, read once per listing or redemption."""

    available: int
    debt: int
    tier: str | None
    redeemed: dict[int, int]  # reward id -> redemptions that still count against the limit


def refusals(
    reward: RewardView, member: MemberStanding, *, now: datetime, channel: str | None = None
) -> list[Refusal]:
    """Every reason the member cannot redeem `reward` now, most fundamental first; empty when
    they can. The first one is what a redemption answers."""
    found: list[Refusal] = []
    if not reward.on_offer(now):
        found.append(Refusal.REWARD_INACTIVE)
    wrong_tier = reward.tiers is not None and member.tier not in reward.tiers
    # A reward limited to channels needs the caller to say where the member is: leaving the
    # channel out must not open an app-only reward to the web shop.
    wrong_channel = reward.channels is not None and channel not in reward.channels
    if wrong_tier or wrong_channel:
        found.append(Refusal.NOT_ELIGIBLE)
    if reward.remaining == 0:
        found.append(Refusal.OUT_OF_STOCK)
    limit = reward.per_member_limit
    if limit is not None and member.redeemed.get(reward.id, 0) >= limit:
        found.append(Refusal.LIMIT_REACHED)
    if member.debt > 0:
        found.append(Refusal.DEBT_OUTSTANDING)
    elif member.available < reward.points_cost:
        found.append(Refusal.INSUFFICIENT_POINTS)
    return found


# --- what each type's `value` and `details` must be ---------------------------------------

MAX_POINTS_COST = 10**12
MAX_AMOUNT = Decimal("1000000000")  # a discount or gift card beyond this is a typing mistake
MAX_SKU = 200
EXPERIENCE_KINDS = ("early_access", "event")
_CENT = Decimal("0.01")


class RewardRuleError(ValueError):
    """A reward that cannot be offered as described; `field` names the offending field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def _decimal(raw: str | int | float) -> Decimal:
    try:
        number = Decimal(str(raw).strip())
    except InvalidOperation as exc:
        raise RewardRuleError("value", f"{raw!r} is not a number") from exc
    if not number.is_finite():
        raise RewardRuleError("value", "value must be a finite number")
    return number


def _amount(raw: str | int | float) -> str:
    amount = _decimal(raw)
    if not 0 < amount <= MAX_AMOUNT:
        raise RewardRuleError("value", f"the amount must be above 0 and at most {MAX_AMOUNT}")
    if amount != amount.quantize(_CENT):
        raise RewardRuleError("value", "the amount has at most 2 decimals, such as 5.00")
    return str(amount.quantize(_CENT))


def _percent(raw: str | int | float) -> str:
    percent = _decimal(raw)
    if percent != percent.to_integral_value() or not 1 <= percent <= 100:
        raise RewardRuleError("value", "the percentage is a whole number from 1 to 100")
    return str(int(percent))


def _sku(raw: str | int | float) -> str:
    sku = str(raw).strip()
    if not sku or len(sku) > MAX_SKU:
        raise RewardRuleError("value", f"the SKU is 1 to {MAX_SKU} characters")
    return sku


def cause_id_of(raw: str | int | float | None) -> int:
    """A donation's value is the id of the cause it gives to."""
    text = str(raw).strip() if raw is not None and not isinstance(raw, float) else ""
    if not text.isdigit() or not 1 <= int(text) < 2**63:
        raise RewardRuleError("value", "a donation's value is the id of one of the causes")
    return int(text)


def normalise_value(kind: RewardType, raw: str | int | float | None) -> str | None:
    """The value as stored and shown: "5.00" for amounts, "15" for percentages. Free shipping
    and experiences carry none, and refuse one, so a misplaced value is not silently lost."""
    if kind in (RewardType.FREE_SHIPPING, RewardType.EXPERIENCE):
        if raw is not None:
            raise RewardRuleError("value", f"a {kind.value} reward takes no value")
        return None
    if raw is None:
        raise RewardRuleError("value", f"a {kind.value} reward needs a value: {_NEEDS[kind]}")
    if kind in (RewardType.DISCOUNT_AMOUNT, RewardType.GIFT_CARD):
        return _amount(raw)
    if kind is RewardType.DISCOUNT_PERCENT:
        return _percent(raw)
    if kind is RewardType.FREE_PRODUCT:
        return _sku(raw)
    return str(cause_id_of(raw))


_NEEDS = {
    RewardType.DISCOUNT_AMOUNT: "the amount off, such as 5.00",
    RewardType.GIFT_CARD: "the store credit amount, such as 25.00",
    RewardType.DISCOUNT_PERCENT: "the percentage off, 1 to 100",
    RewardType.FREE_PRODUCT: "the product's SKU",
    RewardType.DONATION: "the id of the cause",
}


def _moment(details: dict[str, Any], key: str) -> datetime | None:
    raw = details.get(key)
    if raw is None:
        return None
    try:
        return as_utc(datetime.fromisoformat(str(raw)))
    except ValueError as exc:
        raise RewardRuleError(
            f"details.{key}", "must be a date-time such as 2026-06-01T18:00Z"
        ) from exc


def normalise_details(kind: RewardType, details: dict[str, Any] | None) -> dict[str, Any] | None:
    """Experiences say what they are: early access, or an event with its start (and place);
    the start and end are stored in UTC. Other types keep any details as given."""
    if kind is not RewardType.EXPERIENCE:
        return details
    if details is None or details.get("kind") not in EXPERIENCE_KINDS:
        raise RewardRuleError(
            "details.kind", "an experience needs details.kind: early_access or event"
        )
    result = dict(details)
    starts_at, ends_at = _moment(details, "starts_at"), _moment(details, "ends_at")
    if details["kind"] == "event" and starts_at is None:
        raise RewardRuleError("details.starts_at", "an event needs details.starts_at")
    if starts_at is not None and ends_at is not None and ends_at <= starts_at:
        raise RewardRuleError("details.ends_at", "details.ends_at must be after details.starts_at")
    for key, moment in (("starts_at", starts_at), ("ends_at", ends_at)):
        if moment is not None:
            result[key] = moment.isoformat().replace("+00:00", "Z")
    place = details.get("place")
    if place is not None and (not isinstance(place, str) or not place.strip()):
        raise RewardRuleError("details.place", "details.place is a non-empty text")
    return result


def experience_start(kind: RewardType, details: dict[str, Any] | None) -> datetime | None:
    """When an experience starts, from its stored details (None: no date, or another type)."""
    raw = (details or {}).get("starts_at") if kind is RewardType.EXPERIENCE else None
    if not raw:
        return None
    try:
        return as_utc(datetime.fromisoformat(str(raw)))
    except ValueError:
        return None


def check_window(valid_from: datetime | None, valid_until: datetime | None) -> None:
    if valid_from is not None and valid_until is not None and valid_until <= valid_from:
        raise RewardRuleError("valid_until", "valid_until must be after valid_from")


def impact_text(points_per_unit: int, impact_unit: str, points_name: str) -> str:
    """How a cause's impact reads to members: "1 tree per 500 points"."""
    return f"1 {impact_unit} per {points_per_unit} {points_name}"


@dataclass(frozen=True)
class CauseTotals:
    """What members gave to a cause. Impact units are summed as each donation recorded them
    (to the hundredth), so changing a cause's rate never rewrites past impact."""

    points: int = 0
    impact_units: Decimal = Decimal(0)
    donations: int = 0
    donors: int = 0


def units_text(units: Decimal) -> str:
    """Impact units as donations record them: 2, 0.5, 2.25 (no trailing zeros, no exponent)."""
    text = f"{units.quantize(_CENT):f}"
    return text.rstrip("0").rstrip(".") if "." in text else text
