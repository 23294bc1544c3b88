"""The `data` each event type carries, checked before anything is written."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from punchcard.errors import InvalidInputError
from punchcard.kit.urls import is_web_url

Money = Annotated[Decimal, Field(ge=0, le=Decimal("1e10"), max_digits=14, decimal_places=2)]
Text = Annotated[str, Field(min_length=1, max_length=200)]
CUSTOM = re.compile(r"^custom\.[a-z0-9_]+(\.[a-z0-9_]+)*$")
RESERVED = ("tier.",)  # types of the events Punchcard records itself (tier.upgraded, ...)


class InvalidEventError(InvalidInputError):
    code = "invalid_event_data"


class UnknownEventTypeError(InvalidInputError):
    code = "unknown_event_type"


class _Data(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class OrderLineIn(_Data):
    sku: Text
    category: Text | None = None
    quantity: int = Field(strict=True, ge=1, le=1_000_000)
    unit_price: Money


class OrderPlaced(_Data):
    order_id: Text
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    total: Money
    lines: list[OrderLineIn] = Field(default_factory=list, max_length=1000)


class RefundLine(_Data):
    sku: Text
    quantity: int = Field(strict=True, ge=1, le=1_000_000)


class OrderRefunded(_Data):
    order_id: Text
    lines: list[RefundLine] | None = Field(None, min_length=1, max_length=1000)
    amount: Money | None = None

    @model_validator(mode="after")
    def _one_of(self) -> OrderRefunded:
        if (self.lines is None) == (self.amount is None):
            raise ValueError("give either lines or amount")
        if self.amount is not None and self.amount <= 0:
            raise ValueError("amount must be above 0")
        return self


class OrderCancelled(_Data):
    order_id: Text


class ReviewSubmitted(_Data):
    review_id: Text | None = None
    sku: Text | None = None
    rating: int | None = Field(None, strict=True, ge=1, le=5)


class SocialShared(_Data):
    platform: Text
    url: str = Field(pattern=r"^https?://\S+$", max_length=2000)

    @field_validator("url")
    @classmethod
    def _parsable(cls, value: str) -> str:
        if not is_web_url(value):
            raise ValueError("must be an http(s) address with a host")
        return value


class RecyclingDroppedOff(_Data):
    items: int = Field(strict=True, ge=1, le=10_000)
    store_id: Text | None = None


class SurveyCompleted(_Data):
    survey_id: Text


class ProductViewed(_Data):
    sku: Text
    category: Text | None = None


class Empty(_Data):
    pass


class MemberBirthday(_Data):
    year: int = Field(strict=True, ge=1900, le=3000)


SCHEMAS: dict[str, type[_Data]] = {
    "order.placed": OrderPlaced,
    "order.refunded": OrderRefunded,
    "order.cancelled": OrderCancelled,
    "review.submitted": ReviewSubmitted,
    "social.shared": SocialShared,
    "recycling.dropped_off": RecyclingDroppedOff,
    "member.signed_up": Empty,
    "member.birthday": MemberBirthday,
    "survey.completed": SurveyCompleted,
    "product.viewed": ProductViewed,
    "app.installed": Empty,
}


def _path(loc: tuple[Any, ...]) -> str:
    path = "data"
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


def check_data(event_type: str, data: dict[str, Any]) -> BaseModel | dict[str, Any]:
    """The validated data of a known type; custom.* events keep their data as given."""
    if CUSTOM.match(event_type):
        return data
    if event_type.startswith(RESERVED):
        raise UnknownEventTypeError(
            f"{event_type!r} is written by Punchcard itself (tier changes), not sent to it",
            details={"known": sorted(SCHEMAS), "custom": "custom.<name>"},
        )
    schema = SCHEMAS.get(event_type)
    if schema is None:
        raise UnknownEventTypeError(
            f"unknown event type {event_type!r}",
            details={"known": sorted(SCHEMAS), "custom": "custom.<name>"},
        )
    try:
        return schema.model_validate(data)
    except ValidationError as exc:
        problems = [
            {"path": _path(tuple(e["loc"])), "message": e["msg"].removeprefix("Value error, ")}
            for e in exc.errors()
        ]
        raise InvalidEventError(
            f"{problems[0]['path']}: {problems[0]['message']}", details={"errors": problems}
        ) from exc
