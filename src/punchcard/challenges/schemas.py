"""Challenge request and response bodies, and the definition's JSON read back into the domain.

A step's `conditions` are parsed by the rules engine's own parser (`rules.schemas`), so the
JSON a rule takes works in a challenge and is refused with the same messages."""

from __future__ import annotations

import functools
import json
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, Field, StringConstraints

from punchcard.api.schemas import MAX_ID, Page, Request
from punchcard.challenges import domain
from punchcard.challenges.errors import InvalidChallengeError
from punchcard.kit.clock import as_utc
from punchcard.kit.dates import When
from punchcard.members.domain import Channel
from punchcard.rules.schemas import MAX_POINTS, RuleSetError, parse_rule_set

Moment = Annotated[When, AfterValidator(as_utc)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
TierName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)]
RefId = Annotated[int, Field(strict=True, ge=1, le=MAX_ID)]


class StepIn(Request):
    events: list[str] = Field(min_length=1, max_length=50, examples=[["order.placed"]])
    conditions: dict[str, Any] = Field(
        default_factory=dict,
        description="The rules engine's conditions (channels, stores, min_amount, skus, "
        "categories, tiers, first_order, days_of_week, time_from/time_until, ...).",
    )
    metric: Literal["count", "sum"] = Field(
        "count", description="`count`: one per matching event; `sum`: their order amount."
    )
    target: Decimal = Field(gt=0, le=Decimal("1e10"), max_digits=14, decimal_places=2)
    label: str = Field(
        "events",
        min_length=1,
        max_length=50,
        description='The noun of the progress text: "3 of 5 orders".',
    )


class FixedWindow(Request):
    type: Literal["fixed"]
    starts_at: Moment
    ends_at: Moment


class RollingWindow(Request):
    type: Literal["rolling"]
    days: int = Field(strict=True, ge=1, le=3650)


WindowIn = Annotated[FixedWindow | RollingWindow, Field(discriminator="type")]


class EligibilityIn(Request):
    tiers: list[TierName] | None = Field(None, min_length=1, max_length=50)
    enrolled_channels: list[Channel] | None = Field(None, min_length=1)
    new_members_within_days: int | None = Field(None, strict=True, ge=1, le=36500)


class RewardIn(Request):
    points: int | None = Field(None, strict=True, ge=1, le=MAX_POINTS)
    badge_id: RefId | None = None
    reward_id: RefId | None = None


class ChallengeCreate(Request):
    name: Name
    description: str | None = Field(None, max_length=2000)
    active: bool = True
    steps: list[StepIn] = Field(min_length=1, max_length=domain.MAX_STEPS)
    window: WindowIn | None = Field(None, description="None: open while the challenge is active.")
    opt_in_required: bool | None = Field(
        None, description="Members must join first; always so for rolling windows."
    )
    repeatable: bool = False
    max_completions: int | None = Field(None, strict=True, ge=1, le=1_000_000)
    eligibility: EligibilityIn = Field(default_factory=EligibilityIn)
    reward: RewardIn


class ChallengePatch(Request):
    """Fields left out stay as they are; `window: null` removes the window."""

    name: Name | None = None
    description: str | None = Field(None, max_length=2000)
    active: bool | None = None
    steps: list[StepIn] | None = Field(None, min_length=1, max_length=domain.MAX_STEPS)
    window: WindowIn | None = None
    opt_in_required: bool | None = None
    repeatable: bool | None = None
    max_completions: int | None = Field(None, strict=True, ge=1, le=1_000_000)
    eligibility: EligibilityIn | None = None
    reward: RewardIn | None = None


DEFINITION_FIELDS = (
    "steps", "window", "opt_in_required", "repeatable", "max_completions", "eligibility",
    "reward",
)  # fmt: skip


def _conditions(steps: list[StepIn]) -> list[domain.Step]:
    """Each step's events and conditions through the rules parser, its errors as
    `steps[i].conditions...` (422 `invalid_conditions`)."""
    rules = [
        {
            "id": f"step-{i}",
            "events": s.events,
            "conditions": s.conditions,
            "effect": {"type": "fixed", "points": 1},
        }
        for i, s in enumerate(steps)
    ]
    try:
        parsed = parse_rule_set({"rules": rules})
    except RuleSetError as exc:
        errors = [
            {**e, "path": e["path"].replace("rules[", "steps[", 1)}
            for e in exc.errors
            if "effect" not in e["path"]
        ]
        raise InvalidChallengeError(
            f"{errors[0]['path']}: {errors[0]['message']}" if errors else str(exc),
            code="invalid_conditions",
            details={"errors": errors},
        ) from exc
    return [
        domain.Step(
            events=rule.events,
            conditions=rule.conditions,
            metric=domain.Metric(step.metric),
            target=step.target,
            label=step.label,
        )
        for rule, step in zip(parsed.rules, steps, strict=True)
    ]


class Definition(BaseModel):
    """The stored definition, as `ChallengeCreate` checked it."""

    steps: list[StepIn]
    window: WindowIn | None = None
    opt_in_required: bool = False
    repeatable: bool = False
    max_completions: int | None = None
    eligibility: EligibilityIn = Field(default_factory=EligibilityIn)
    reward: RewardIn


def _window(window: FixedWindow | RollingWindow | None) -> domain.Window | None:
    if window is None:
        return None
    if isinstance(window, FixedWindow):
        return domain.Window("fixed", starts_at=window.starts_at, ends_at=window.ends_at)
    return domain.Window("rolling", days=window.days)


def _frozen(values: list[str] | None) -> frozenset[str] | None:
    return None if values is None else frozenset(values)


def to_spec(definition: Definition) -> domain.Spec:
    rules = definition.eligibility
    reward = definition.reward
    return domain.Spec(
        steps=tuple(_conditions(definition.steps)),
        window=_window(definition.window),
        opt_in_required=definition.opt_in_required,
        repeatable=definition.repeatable,
        max_completions=definition.max_completions,
        eligibility=domain.Eligibility(
            tiers=_frozen(rules.tiers),
            channels=_frozen([c.value for c in rules.enrolled_channels])
            if rules.enrolled_channels is not None
            else None,
            new_members_within_days=rules.new_members_within_days,
        ),
        reward=domain.Prize(reward.points, reward.badge_id, reward.reward_id),
    )


@functools.lru_cache(maxsize=2048)
def stored_spec(raw: str) -> domain.Spec:
    """A stored definition read back: cached on its text, as every event reads them all."""
    return to_spec(Definition.model_validate(json.loads(raw)))


# --- responses -----------------------------------------------------------------------------


class ChallengeOut(BaseModel):
    id: int
    name: str
    description: str | None
    active: bool
    steps: list[dict[str, Any]]
    window: dict[str, Any] | None
    opt_in_required: bool
    repeatable: bool
    max_completions: int | None
    eligibility: dict[str, Any]
    reward: dict[str, Any]
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, row: Any) -> ChallengeOut:
        definition = json.loads(row.definition)
        return cls(
            id=row.id,
            name=row.name,
            description=row.description,
            active=bool(row.active),
            created_at=row.created_at,
            updated_at=row.updated_at,
            **{k: definition.get(k) for k in DEFINITION_FIELDS},
        )


class ChallengePage(Page):
    items: list[ChallengeOut]


class CompletionOut(BaseModel):
    run: int
    completed_at: datetime
    source_id: str = Field(description="The event that completed the run.")
    reward: dict[str, Any]


class MemberChallengeOut(BaseModel):
    challenge_id: int
    name: str
    description: str | None
    status: domain.Status
    opt_in_required: bool
    run: int | None = Field(description="The member's current run (1, 2, ...); null: none yet.")
    step: int = Field(description="The current step, from 1.")
    steps: int
    progress: str = Field(description="Progress in the current step: a count or an amount.")
    target: str
    progress_text: str = Field(examples=["3 of 5 orders", "spend 20.00 more"])
    deadline: datetime | None
    completions: list[CompletionOut]


class MemberChallengeList(BaseModel):
    member_id: int
    items: list[MemberChallengeOut]


class JoinOut(BaseModel):
    challenge_id: int
    member_id: int
    run: int
    started_at: datetime
    deadline: datetime | None
