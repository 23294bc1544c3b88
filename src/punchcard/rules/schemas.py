"""The rule set's JSON form: parsed and checked with pydantic, every error with its path."""

from __future__ import annotations

import re
from datetime import datetime, time
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from punchcard.kit.clock import as_utc
from punchcard.kit.dates import When
from punchcard.rules import domain

MAX_POINTS = 1_000_000
Points = Annotated[int, Field(strict=True, ge=1, le=MAX_POINTS)]
Day = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
_ID = re.compile(r"^[a-z0-9_-]{1,64}$")
_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")

DEFAULT_RULE_SET: dict[str, Any] = {
    "rules": [
        {
            "id": "base",
            "name": "1 point per whole currency unit",
            "events": ["order.placed"],
            "effect": {"type": "per_currency_unit", "points": 1, "unit": 1, "rounding": "down"},
        }
    ]
}


class RuleSetError(Exception):
    """An invalid rule set; `errors` lists each problem with the JSON path it is at."""

    def __init__(self, errors: list[dict[str, str]]) -> None:
        super().__init__("; ".join(f"{e['path']}: {e['message']}" for e in errors))
        self.errors = errors


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ConditionsIn(_Model):
    channels: list[Literal["web", "app", "pos", "other"]] | None = None
    stores: list[str] | None = None
    min_amount: Decimal | None = Field(None, ge=0)
    max_amount: Decimal | None = Field(None, ge=0)
    skus: list[str] | None = None
    categories: list[str] | None = None
    tiers: list[str] | None = None
    first_order: bool | None = None
    starts_at: When | None = None
    ends_at: When | None = None
    days_of_week: list[Day] | None = None
    time_from: str | None = None
    time_until: str | None = None

    @field_validator("time_from", "time_until")
    @classmethod
    def _hhmm(cls, value: str | None) -> str | None:
        if value is not None and not _HHMM.match(value):
            raise ValueError("must be a time as HH:MM, 00:00 to 23:59")
        return value

    @field_validator("starts_at", "ends_at")
    @classmethod
    def _fits_utc(cls, value: datetime | None) -> datetime | None:
        if value is not None:
            as_utc(value)  # a ValueError for moments UTC cannot hold, such as year 10000
        return value

    @model_validator(mode="after")
    def _pairs(self) -> ConditionsIn:
        if (self.time_from is None) != (self.time_until is None):
            raise ValueError("time_from and time_until go together: give both")
        if self.starts_at and self.ends_at and as_utc(self.starts_at) >= as_utc(self.ends_at):
            raise ValueError("starts_at must be before ends_at")
        low, high = self.min_amount, self.max_amount
        if low is not None and high is not None and low > high:
            raise ValueError("min_amount must not exceed max_amount")
        return self


class PerCurrencyUnit(_Model):
    type: Literal["per_currency_unit"]
    points: Points
    unit: Decimal = Field(Decimal(1), gt=0, le=1_000_000)
    rounding: Literal["down", "nearest", "up"] = "down"
    skus: list[str] | None = None
    categories: list[str] | None = None


class PerLine(_Model):
    type: Literal["per_line"]
    points: Points
    skus: list[str] | None = None
    categories: list[str] | None = None


class Fixed(_Model):
    type: Literal["fixed"]
    points: Points


class Multiplier(_Model):
    type: Literal["multiplier"]
    factor: Decimal = Field(gt=1, le=100)


EffectIn = Annotated[PerCurrencyUnit | PerLine | Fixed | Multiplier, Field(discriminator="type")]


class CapsIn(_Model):
    day: int | None = Field(None, strict=True, ge=0)
    week: int | None = Field(None, strict=True, ge=0)
    month: int | None = Field(None, strict=True, ge=0)
    lifetime: int | None = Field(None, strict=True, ge=0)


class RuleIn(_Model):
    id: str
    name: str | None = Field(None, max_length=200)
    active: bool = True
    events: list[str] = Field(min_length=1)
    conditions: ConditionsIn = ConditionsIn()
    effect: EffectIn
    priority: int = Field(0, strict=True, ge=-1_000_000, le=1_000_000)
    stacking: Literal["stack", "best_of", "exclusive"] = "stack"
    caps: CapsIn = CapsIn()
    budget: int | None = Field(None, strict=True, ge=0)

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        if not _ID.match(value):
            raise ValueError("must be 1 to 64 characters of a-z, 0-9, _ and -")
        return value

    @field_validator("events")
    @classmethod
    def _events(cls, value: list[str]) -> list[str]:
        for name in value:
            if not re.match(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$", name):
                raise ValueError(f"{name!r} is not an event type such as order.placed")
        return value


class RuleSetIn(_Model):
    rules: list[RuleIn] = Field(max_length=500)


_EFFECT_TAGS = {"per_currency_unit", "per_line", "fixed", "multiplier"}


def _path(loc: tuple[Any, ...]) -> str:
    path = ""
    previous: Any = None
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif not (previous == "effect" and part in _EFFECT_TAGS):
            path += f".{part}" if path else str(part)
        previous = part
    return path or "$"


def _frozen(values: list[str] | None) -> frozenset[str] | None:
    return None if values is None else frozenset(values)


def _time(value: str | None) -> time | None:
    return None if value is None else time.fromisoformat(value)


def _to_domain(rule: RuleIn) -> domain.Rule:
    c = rule.conditions
    e = rule.effect
    effect = domain.Effect(
        type=e.type,
        points=getattr(e, "points", 0),
        unit=getattr(e, "unit", Decimal(1)),
        rounding=getattr(e, "rounding", "down"),
        factor=getattr(e, "factor", Decimal(1)),
        skus=_frozen(getattr(e, "skus", None)),
        categories=_frozen(getattr(e, "categories", None)),
    )
    conditions = domain.Conditions(
        channels=_frozen(list(c.channels) if c.channels is not None else None),
        stores=_frozen(c.stores),
        min_amount=c.min_amount,
        max_amount=c.max_amount,
        skus=_frozen(c.skus),
        categories=_frozen(c.categories),
        tiers=_frozen(c.tiers),
        first_order=c.first_order,
        starts_at=as_utc(c.starts_at) if c.starts_at else None,
        ends_at=as_utc(c.ends_at) if c.ends_at else None,
        days_of_week=_frozen(list(c.days_of_week) if c.days_of_week is not None else None),
        time_from=_time(c.time_from),
        time_until=_time(c.time_until),
    )
    caps = {k: v for k, v in rule.caps.model_dump().items() if v is not None}
    return domain.Rule(
        id=rule.id,
        name=rule.name or rule.id,
        events=frozenset(rule.events),
        effect=effect,
        conditions=conditions,
        active=rule.active,
        priority=rule.priority,
        stacking=domain.Stacking(rule.stacking),
        caps=caps,
        budget=rule.budget,
    )


def _duplicates(data: object) -> list[dict[str, str]]:
    """Read from the raw JSON, so duplicates are reported together with every other problem."""
    rules = data.get("rules") if isinstance(data, dict) else None
    if not isinstance(rules, list):
        return []
    seen: set[str] = set()
    found = []
    for index, rule in enumerate(rules):
        rule_id = rule.get("id") if isinstance(rule, dict) else None
        if isinstance(rule_id, str):
            if rule_id in seen:
                found.append({"path": f"rules[{index}].id", "message": f"duplicate id {rule_id!r}"})
            seen.add(rule_id)
    return found


def parse_rule_set(data: object) -> domain.RuleSet:
    """Check a rule set and build it; raise RuleSetError listing every problem with its path."""
    problems = _duplicates(data)
    try:
        parsed = RuleSetIn.model_validate(data)
    except ValidationError as exc:
        problems += [
            {"path": _path(tuple(e["loc"])), "message": e["msg"].removeprefix("Value error, ")}
            for e in exc.errors()
        ]
        raise RuleSetError(sorted(problems, key=lambda p: p["path"])) from exc
    if problems:
        raise RuleSetError(problems)
    return domain.RuleSet(tuple(_to_domain(r) for r in parsed.rules))
