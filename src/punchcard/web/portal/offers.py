"""Rewards and codes put into words for members: what a reward gives, why it cannot be
redeemed now, and where a code stands. Numbers, money and dates come from the translator."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from punchcard.kit.clock import as_utc
from punchcard.redemptions.repository import RedemptionRow
from punchcard.rewards.domain import Refusal
from punchcard.rewards.service import MemberOffer
from punchcard.web import i18n


@dataclass(frozen=True)
class OfferView:
    id: int
    name: str
    gives: str
    cost: int
    reasons: list[str]
    remaining: int | None

    @property
    def redeemable(self) -> bool:
        return not self.reasons


def _decimal(raw: str | None) -> Decimal | None:
    try:
        return Decimal(str(raw))
    except (InvalidOperation, ValueError):
        return None


def gives(kind: str, value: str | None, currency: str, cause: str | None = None) -> str:
    """What a reward of this type and value gives, in a few words."""
    _, t = i18n.gettext, i18n.current()
    amount = _decimal(value)
    if kind == "discount_amount" and amount is not None:
        return _("%(amount)s off your order", amount=t.money(amount, currency))
    if kind == "discount_percent" and amount is not None:
        return _("%(percent)s off your order", percent=t.percent(amount / 100))
    if kind == "gift_card" and amount is not None:
        return _("A gift card worth %(amount)s", amount=t.money(amount, currency))
    if kind == "free_shipping":
        return _("Free shipping")
    if kind == "free_product":
        return _("A free product")
    if kind == "experience":
        return _("An experience")
    if kind == "donation":
        return _("A donation to %(cause)s", cause=cause) if cause else _("A donation")
    return _("A reward")


def reason(
    refusal: Refusal, row: Any, *, available: int, tier: str | None, points: str, now: datetime
) -> str:
    """Why the member cannot redeem this reward now, as the member reads it."""
    _, t = i18n.gettext, i18n.current()
    if refusal is Refusal.REWARD_INACTIVE:
        starts = row.valid_from and as_utc(row.valid_from)
        if starts is not None and now < starts:
            return _("Available from %(date)s", date=t.date(starts))
        return _("No longer available")
    if refusal is Refusal.NOT_ELIGIBLE:
        tiers = json.loads(row.tiers) if row.tiers else None
        if tiers and tier not in tiers:
            return _("Only for members of these tiers: %(tiers)s", tiers=", ".join(tiers))
        return _("Not offered in the online portal")
    if refusal is Refusal.OUT_OF_STOCK:
        return _("Out of stock")
    if refusal is Refusal.LIMIT_REACHED:
        return _("You have redeemed this as many times as allowed")
    if refusal is Refusal.DEBT_OUTSTANDING:
        return _("Points are owed after a return: your next points pay that off first")
    missing = max(int(row.points_cost) - available, 0)
    return _("You need %(count)s more %(points)s", count=t.number(missing), points=points)


def offer_view(
    offer: MemberOffer, *, available: int, tier: str | None, points: str, currency: str,
    now: datetime,
) -> OfferView:  # fmt: skip
    row = offer.reward.row
    cause = offer.reward.cause.name if offer.reward.cause is not None else None
    return OfferView(
        id=int(row.id),
        name=str(row.name),
        gives=gives(str(row.type), row.value, currency, cause),
        cost=int(row.points_cost),
        reasons=[
            reason(r, row, available=available, tier=tier, points=points, now=now)
            for r in offer.reasons
        ],
        remaining=offer.reward.remaining,
    )


def status(row: RedemptionRow, now: datetime) -> str:
    """Where a code or a place stands (an issued code past its date is expired already)."""
    _ = i18n.gettext
    expired = row.code_expires_at is not None and as_utc(row.code_expires_at) <= now
    if row.status == "issued":
        return _("Expired") if expired else _("Ready to use")
    return {
        "used": _("Used"),
        "expired": _("Expired"),
        "cancelled": _("Cancelled"),
        "reserved": _("Place reserved"),
        "completed": _("Donated"),
    }.get(row.status, row.status)


def usable(row: RedemptionRow, now: datetime) -> bool:
    return row.status == "issued" and (
        row.code_expires_at is None or as_utc(row.code_expires_at) > now
    )


def title(row: RedemptionRow) -> str:
    """The reward's own name, as the merchant wrote it when it was redeemed."""
    return str((row.details or {}).get("name") or row.type)
