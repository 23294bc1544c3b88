"""A dry run of a rule set (saved or not) on a sample event: what the rule engine would award
and why, computed in memory with the same functions live events use; nothing is written.
Caps and budgets are taken as unused, since no member's history is involved."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from punchcard.errors import PunchcardError
from punchcard.events.earnplan import event_facts
from punchcard.events.service import EventInput
from punchcard.events.types import OrderPlaced, check_data
from punchcard.kit.clock import as_utc
from punchcard.members.domain import Channel
from punchcard.rules.domain import Evaluation, RuleSet, evaluate
from punchcard.web.admin.views import JsonTextError, Problem, pydantic_problems


class SampleEvent(BaseModel):
    """An event as the API takes it, less the member; the member's tier and whether this is
    their first order may be given, since rules can depend on them."""

    model_config = ConfigDict(extra="forbid")

    type: str = Field(min_length=3, max_length=100)
    occurred_at: datetime
    channel: Channel = Channel.OTHER
    store_id: str | None = None
    data: dict[str, Any] = Field(default_factory=dict)
    tier: str | None = None
    first_order: bool | None = None

    @field_validator("occurred_at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("needs a time zone, e.g. 2026-11-27T10:00:00Z")
        return as_utc(value)


def sample_event(now: datetime) -> dict[str, Any]:
    return {
        "type": "order.placed",
        "occurred_at": now.replace(microsecond=0).isoformat().replace("+00:00", "Z"),
        "channel": "web",
        "data": {
            "order_id": "sample-1",
            "currency": "USD",
            "total": "42.50",
            "lines": [{"sku": "TEA-1", "category": "tea", "quantity": 2, "unit_price": "21.25"}],
        },
    }


def run(
    rules: RuleSet, body: dict[str, Any], multiplier: Any = None
) -> tuple[Evaluation, SampleEvent]:
    """Evaluate `rules` on the sample `body`; JsonTextError (paths under `event`) when the
    sample is not an event Punchcard would accept. `multiplier(tier)` gives a tier's earn
    multiplier, if the program has tiers."""
    try:
        sample = SampleEvent.model_validate(body)
    except ValidationError as exc:
        raise JsonTextError(pydantic_problems(exc)) from None
    try:
        data = check_data(sample.type, sample.data)
    except PunchcardError as exc:
        listed = exc.details.get("errors") if isinstance(exc.details, dict) else None
        if isinstance(listed, list) and listed:
            raise JsonTextError([Problem(p["path"], p["message"]) for p in listed]) from None
        raise JsonTextError([Problem("type", exc.message)]) from None
    event = EventInput(
        source_id="dry-run",
        type=sample.type,
        member={"id": 1},
        occurred_at=sample.occurred_at,
        channel=sample.channel,
        store_id=sample.store_id,
        data=sample.data,
    )
    order = data if isinstance(data, OrderPlaced) else None
    facts = dataclasses.replace(event_facts(event, order, sample.first_order), tier=sample.tier)
    factor: Decimal | None = multiplier(sample.tier) if multiplier and sample.tier else None
    return evaluate(rules, facts, tier_multiplier=factor), sample
