"""Who may redeem what, as pure functions: the catalog listing and the redemption itself ask
the same question, so a member is never shown a reward the redemption would refuse."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


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

    @property
    def remaining(self) -> int | None:
        return None if self.stock is None else max(self.stock - self.claimed, 0)

    def on_offer(self, now: datetime) -> bool:
        return (
            self.active
            and (self.valid_from is None or self.valid_from <= now)
            and (self.valid_until is None or now < self.valid_until)
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
    wrong_channel = channel is not None and reward.channels is not None
    if wrong_tier or (wrong_channel and channel not in (reward.channels or ())):
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
