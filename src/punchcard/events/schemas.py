"""Event request and response bodies."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field, field_validator, model_validator

from punchcard.api.schemas import Request
from punchcard.kit.clock import as_utc
from punchcard.kit.dates import When
from punchcard.members.domain import Channel

LAST_YEAR = 9000
FIRST_YEAR = 1900  # rolling windows and text dates on SQLite reach back from an event
RESERVED_ID = "tier-change:"  # the source ids of the tier events Punchcard records itself


class MemberRef(Request):
    external_id: str | None = Field(None, min_length=1, max_length=200)
    card_number: str | None = Field(None, min_length=1, max_length=30)
    id: int | None = Field(None, strict=True, ge=1)

    @model_validator(mode="after")
    def _exactly_one(self) -> MemberRef:
        given = [v for v in (self.external_id, self.card_number, self.id) if v is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of external_id, card_number or id")
        return self


class EventIn(Request):
    id: str = Field(min_length=1, max_length=200, description="The source's own event id.")
    type: str = Field(min_length=3, max_length=100, examples=["order.placed"])
    member: MemberRef
    occurred_at: When
    channel: Channel = Channel.OTHER
    store_id: str | None = Field(None, min_length=1, max_length=100)
    data: dict[str, Any] = Field(default_factory=dict)

    @field_validator("id")
    @classmethod
    def _not_reserved(cls, value: str) -> str:
        if value.startswith(RESERVED_ID):
            raise ValueError(f"ids starting with {RESERVED_ID!r} name Punchcard's tier events")
        return value

    @field_validator("occurred_at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("occurred_at needs a time zone, e.g. 2026-11-27T10:00:00Z")
        moment = as_utc(value)
        if moment.year >= LAST_YEAR:  # return windows and expiry dates must still fit after it
            raise ValueError(f"occurred_at must be before the year {LAST_YEAR}")
        if moment.year < FIRST_YEAR:
            raise ValueError(f"occurred_at must be in the year {FIRST_YEAR} or later")
        return moment


class Points(BaseModel):
    awarded: int = Field(description="Available now.")
    pending: int = Field(description="Waiting for the return window.")
    reversed: int = Field(description="Taken back by a refund or cancellation.")


class AwardOut(BaseModel):
    rule_id: str
    rule_version: int | None
    points: int
    reason: str


class EventResult(BaseModel):
    event_id: str
    type: str
    member_id: int | None
    transaction_id: int | None
    points: Points
    awards: list[AwardOut]
    dry_run: bool
    order_id: str | None = None
    order_status: str | None = None
    reversed_awards: list[dict[str, Any]] | None = None


class BatchIn(Request):
    events: list[dict[str, Any]] = Field(min_length=1, max_length=1000)


class BatchItem(BaseModel):
    index: int
    status: int = Field(description="The HTTP status this event alone would have had.")
    result: EventResult | None = None
    error: dict[str, Any] | None = None


class BatchOut(BaseModel):
    accepted: int
    rejected: int
    items: list[BatchItem]


_RESULT_FIELDS = tuple(EventResult.model_fields)
_POINTS_FIELDS = tuple(Points.model_fields)
_AWARD_FIELDS = tuple(AwardOut.model_fields)


def result_body(result: dict[str, Any]) -> dict[str, Any]:
    """A stored or fresh result of the fast path as `EventResult` dumps it (its fields, in
    its order, defaults filled, nothing else), without validating it again: the fast path
    wrote it itself, and a batch's thousand validations were a twentieth of its time."""
    body = {name: result.get(name) for name in _RESULT_FIELDS}
    points: dict[str, Any] = result["points"]
    awards: list[dict[str, Any]] = result["awards"]
    body["points"] = {name: points[name] for name in _POINTS_FIELDS}
    body["awards"] = [{name: a.get(name) for name in _AWARD_FIELDS} for a in awards]
    return body
