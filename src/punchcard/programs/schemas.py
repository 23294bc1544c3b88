"""Program settings and API key bodies."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel, Field

from punchcard.api.schemas import Request
from punchcard.programs.domain import ExpiryPolicy, ProgramSettings, Scope


class ProgramOut(BaseModel):
    id: int
    name: str
    points_name: str
    currency: str
    expiry_policy: ExpiryPolicy
    expiry_value: int = Field(description="Days for days_after_earn, months for end_of_*.")
    pending_days: int = Field(description="Return window: earned points wait this long.")
    auto_enrol: bool = Field(description="Events for unknown members enrol them.")
    points_payment_rate: int | None = Field(
        description="Pay with points: how many points make one unit of the currency "
        "(null: not offered)."
    )
    points_payment_max_percent: int = Field(
        description="Pay with points: the largest share of an order, in percent, points may pay."
    )
    point_value: Decimal | None = Field(
        description="What one point costs the merchant when redeemed, in the program's "
        "currency (null: liability and ROI are reported in points only)."
    )
    expected_breakage: Decimal | None = Field(
        description="Share of outstanding points expected never to be redeemed, 0 to 1 "
        "(null: the breakage observed so far is used)."
    )
    points_names: dict[str, str] = Field(
        default_factory=dict,
        description="The points' name per portal language (en, ka, gu, fi, hu); a language "
        "left out uses points_name.",
    )

    @classmethod
    def of(cls, p: ProgramSettings) -> ProgramOut:
        return cls(**p.__dict__)


class ProgramPatch(Request):
    name: str | None = Field(None, min_length=1, max_length=200)
    points_name: str | None = Field(None, min_length=1, max_length=50)
    currency: str | None = Field(None, min_length=3, max_length=3)
    expiry_policy: ExpiryPolicy | None = None
    expiry_value: int | None = Field(None, strict=True, ge=0)
    pending_days: int | None = Field(None, strict=True, ge=0, le=365)
    auto_enrol: bool | None = None
    points_payment_rate: int | None = Field(None, strict=True, ge=1, le=1_000_000)
    points_payment_max_percent: int | None = Field(None, strict=True, ge=1, le=100)
    point_value: Decimal | None = Field(None, ge=0, le=1_000_000, max_digits=12, decimal_places=6)
    expected_breakage: Decimal | None = Field(None, ge=0, le=1, max_digits=5, decimal_places=4)
    points_names: dict[str, str] | None = Field(
        None,
        description="The points' name per language, keys among en, ka, gu, fi, hu, each 1 to "
        "50 characters; {} or null clears them.",
    )


class ApiKeyCreate(Request):
    name: str = Field("default", min_length=1, max_length=100)
    scopes: list[Scope] = Field(min_length=1)


class ApiKeyOut(BaseModel):
    id: int
    name: str
    prefix: str = Field(description="The first characters of the key, to tell keys apart.")
    scopes: list[Scope]
    created_at: datetime
    revoked_at: datetime | None


class NewApiKeyOut(BaseModel):
    id: int
    api_key: str = Field(description="Shown once; only its hash is stored.")
    scopes: list[Scope]


class ApiKeyList(BaseModel):
    items: list[ApiKeyOut]
