"""What the engagement features (challenges, badges, streaks, leaderboards, referrals, social
sharing) are told about an event or an enrolment: plain values, built once by the earn path
that recorded it, so every feature sees the same facts on every path."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from punchcard.programs.domain import ProgramSettings
from punchcard.rules.domain import Facts


@dataclass(frozen=True)
class EventSeen:
    """An event just written for a member, in its own transaction, under the member's
    balance lock (so two events of one member never run these hooks at once).

    `facts` are what rule conditions look at (the challenge conditions reuse them), with the
    tier the event earned at. `points` are what the event itself earned (awarded plus
    pending); for a refund or cancellation, minus what it took back."""

    program: ProgramSettings
    member_id: int
    source_id: str
    type: str
    occurred_at: datetime
    channel: str
    store_id: str | None
    data: dict[str, Any]
    facts: Facts
    points: int
    now: datetime

    @property
    def order_id(self) -> str | None:
        value = self.data.get("order_id")
        return None if value is None else str(value)

    @property
    def amount(self) -> Decimal | None:
        return self.facts.amount


@dataclass(frozen=True)
class Signup:
    """What a store may tell about a new member at enrolment, for referrals and share
    attribution. Device ids, payment fingerprints and addresses are only ever stored hashed."""

    referral_code: str | None = None
    share_token: str | None = None
    device_id: str | None = None
    payment_fingerprint: str | None = None
    address: str | None = None

    @property
    def empty(self) -> bool:
        return not any(
            (self.referral_code, self.share_token, self.device_id, self.payment_fingerprint,
             self.address)
        )  # fmt: skip
