"""Member request and response bodies."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field

from punchcard.api.schemas import Page, Request
from punchcard.engagement.context import Signup
from punchcard.kit.dates import Day
from punchcard.members.domain import Channel
from punchcard.members.repository import MemberRow


class MemberCreate(Request):
    external_id: str = Field(min_length=1, max_length=200, description="The store's customer id.")
    email: str | None = Field(None, max_length=320)
    phone: str | None = Field(None, max_length=32, description="International form: +14155550100")
    name: str | None = Field(None, max_length=200)
    birthday: Day | None = None
    channel: Channel = Field(Channel.OTHER, description="Where the member enrolled.")
    referral_code: str | None = Field(
        None, min_length=1, max_length=40, description="The referring member's code, if any."
    )
    share_token: str | None = Field(
        None,
        min_length=1,
        max_length=40,
        description="The token of the share link the customer came through (`/s/{token}`).",
    )
    device_id: str | None = Field(
        None, min_length=1, max_length=200, description="Stored hashed; for fraud checks."
    )
    payment_fingerprint: str | None = Field(
        None, min_length=1, max_length=200, description="Stored hashed; for fraud checks."
    )
    address: str | None = Field(
        None, min_length=1, max_length=500, description="Stored hashed; for fraud checks."
    )

    def signup(self) -> Signup:
        return Signup(
            referral_code=self.referral_code,
            share_token=self.share_token,
            device_id=self.device_id,
            payment_fingerprint=self.payment_fingerprint,
            address=self.address,
        )

    def profile(self) -> dict[str, Any]:
        return self.model_dump(exclude=set(SIGNUP_FIELDS))


SIGNUP_FIELDS = ("referral_code", "share_token", "device_id", "payment_fingerprint", "address")


class MemberPatch(Request):
    email: str | None = Field(None, max_length=320)
    phone: str | None = Field(None, max_length=32)
    name: str | None = Field(None, max_length=200)
    birthday: Day | None = None


class CardLinks(BaseModel):
    number: str = Field(description="16 digits; the last is a Luhn check digit.")
    qr_token: str = Field(description="What the card's QR code encodes.")
    qr_svg: str
    qr_png: str


class MemberOut(BaseModel):
    id: int
    external_id: str
    email: str | None
    phone: str | None
    name: str | None
    birthday: date | None
    channel: Channel
    card_number: str
    card: CardLinks
    created_at: datetime
    updated_at: datetime
    signup: dict[str, Any] | None = Field(
        None,
        description="Only in the enrolment's answer, when it named a `referral_code` or a "
        '`share_token`: what became of them, e.g. `{"referral": {"status": "pending"}}` or '
        '`{"referral": {"status": "ignored", "reason": "referral_code_unknown"}}`.',
    )

    @classmethod
    def of(cls, row: MemberRow) -> MemberOut:
        base = f"/v1/members/{row.id}"
        return cls(
            id=row.id,
            external_id=row.external_id,
            email=row.email,
            phone=row.phone,
            name=row.name,
            birthday=row.birthday,
            channel=Channel(row.channel),
            card_number=row.card_number,
            card=CardLinks(
                number=row.card_number,
                qr_token=row.qr_token,
                qr_svg=f"{base}/card.svg",
                qr_png=f"{base}/card.png",
            ),
            created_at=row.created_at,
            updated_at=row.updated_at,
        )


class MemberPage(Page):
    items: list[MemberOut]
