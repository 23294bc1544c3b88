"""Challenges as pure rules: which event counts for which step, when a run is open, who may
take part, how far a member has come and how it reads. No I/O: every case is unit-tested.

A step's conditions are the rules engine's own (`rules.domain.Conditions`), judged by the
same function (`failed_condition`) on the facts the rules saw, so a condition means the same
thing in a rule and in a challenge."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from punchcard.rules.domain import Conditions, Facts, failed_condition

CENT = Decimal("0.01")
MAX_STEPS = 10


class Metric(StrEnum):
    COUNT = "count"  # one per matching event
    SUM = "sum"  # the order amount of matching events


class Status(StrEnum):
    AVAILABLE = "available"  # may start (opt in, or a first matching event)
    JOINED = "joined"  # opted in, nothing counted yet
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"  # completed, and no further run to come
    EXPIRED = "expired"  # the run's window closed before it was completed


@dataclass(frozen=True)
class Step:
    events: frozenset[str]
    conditions: Conditions
    metric: Metric
    target: Decimal
    label: str  # the noun of the progress text: "3 of 5 orders"

    def delta(self, event_type: str, facts: Facts) -> Decimal | None:
        """What the event adds to this step, or None when it does not count."""
        if event_type not in self.events or failed_condition(self.conditions, facts):
            return None
        if self.metric is Metric.COUNT:
            return Decimal(1)
        if facts.amount is None or facts.amount <= 0:
            return None
        return facts.amount.quantize(CENT)


@dataclass(frozen=True)
class Window:
    """`fixed`: [starts_at, ends_at) for everyone; `rolling`: `days` from each member's
    opt-in. No window: open as long as the challenge is active."""

    type: str  # fixed | rolling
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    days: int | None = None


@dataclass(frozen=True)
class Eligibility:
    tiers: frozenset[str] | None = None
    channels: frozenset[str] | None = None  # the channel the member enrolled through
    new_members_within_days: int | None = None


@dataclass(frozen=True)
class Prize:
    points: int | None = None
    badge_id: int | None = None
    reward_id: int | None = None


@dataclass(frozen=True)
class Spec:
    """A challenge as its definition says, without its name and active flag."""

    steps: tuple[Step, ...]
    window: Window | None
    opt_in_required: bool
    repeatable: bool
    max_completions: int | None
    eligibility: Eligibility
    reward: Prize

    @property
    def events(self) -> frozenset[str]:
        return frozenset().union(*(s.events for s in self.steps))


@dataclass(frozen=True)
class Challenge:
    id: int
    name: str
    description: str | None
    active: bool
    spec: Spec


@dataclass(frozen=True)
class Member:
    """What eligibility looks at: the tier held, the enrolment channel and date."""

    tier: str | None
    channel: str
    enrolled_at: datetime


@dataclass(frozen=True)
class Run:
    challenge_id: int
    run: int
    step: int
    progress: Decimal
    completions: int
    joined: bool
    started_at: datetime
    deadline: datetime | None
    completed_at: datetime | None

    @property
    def open(self) -> bool:
        return self.completed_at is None


def refusal(spec: Spec, member: Member, at: datetime) -> str | None:
    """Why the member may not take part (a field name), or None when they may. Judged when a
    run starts: a member who later leaves the tier keeps the run they began."""
    rules = spec.eligibility
    if rules.tiers is not None and member.tier not in rules.tiers:
        return "tiers"
    if rules.channels is not None and member.channel not in rules.channels:
        return "enrolled_channels"
    days = rules.new_members_within_days
    if days is not None and at - member.enrolled_at > timedelta(days=days):
        return "new_members_within_days"
    return None


def closed(spec: Spec, at: datetime) -> bool:
    """Whether a fixed window has ended at `at` (a rolling one never closes for joining)."""
    window = spec.window
    return window is not None and window.ends_at is not None and at >= window.ends_at


def new_run(
    spec: Spec, challenge_id: int, number: int, completions: int, at: datetime, *, joined: bool
) -> Run | None:
    """The run a member starts at `at` (an opt-in, a first counted event, or the completion
    of the previous run), or None when no more runs are allowed."""
    if completions and not spec.repeatable:
        return None
    if spec.max_completions is not None and completions >= spec.max_completions:
        return None
    window = spec.window
    deadline = None
    started = at
    if window is not None and window.type == "rolling":
        deadline = at + timedelta(days=window.days or 0)
    elif window is not None:
        deadline = window.ends_at
    return Run(challenge_id, number, 0, Decimal(0), completions, joined, started, deadline, None)


def counts_at(spec: Spec, run: Run, at: datetime) -> bool:
    """Whether an event that occurred at `at` falls in the run's window."""
    window = spec.window
    if window is not None and window.type == "fixed":
        if window.starts_at is not None and at < window.starts_at:
            return False
    elif window is not None and at < run.started_at:
        return False  # a rolling window starts at the opt-in
    return run.deadline is None or at < run.deadline


@dataclass(frozen=True)
class Moved:
    """A run after an event: its step and progress, and whether it is now complete."""

    step: int
    progress: Decimal
    completed: bool
    delta: Decimal


def advance(spec: Spec, run: Run, event_type: str, facts: Facts) -> Moved | None:
    """What the event does to the run's current step, or None when it does not count. A step
    that reaches its target passes to the next with nothing carried over: one event counts
    for one step."""
    step = spec.steps[run.step]
    delta = step.delta(event_type, facts)
    if delta is None:
        return None
    progress = run.progress + delta
    if progress < step.target:
        return Moved(run.step, progress, False, delta)
    if run.step + 1 < len(spec.steps):
        return Moved(run.step + 1, Decimal(0), False, delta)
    return Moved(run.step, progress, True, delta)


def to_take(
    metric: Metric,
    amount: Decimal,
    taken: Decimal,
    *,
    refunded: Decimal,
    total: Decimal,
    fully: bool,
) -> Decimal:
    """How much more of a contribution a refund of its order takes out: a counted order goes
    only when the whole order is refunded or cancelled; a summed one loses what was refunded
    (in proportion when the order's total was not all that counted)."""
    if metric is Metric.COUNT:
        target = amount if fully else Decimal(0)
    elif fully or total <= 0:
        target = amount
    else:
        target = min(amount, (amount * refunded / total).quantize(CENT))
    return max(Decimal(0), target - taken)


def money(value: Decimal) -> str:
    return f"{value.quantize(CENT):f}"


def number(value: Decimal) -> str:
    """5, not 5.00, for counts; 12.50 for amounts."""
    return str(int(value)) if value == value.to_integral_value() else money(value)


def progress_text(step: Step, progress: Decimal) -> str:
    """ "3 of 5 orders" for counts; "spend 20.00 more" for sums."""
    if step.metric is Metric.COUNT:
        return f"{number(progress)} of {number(step.target)} {step.label}"
    left = max(Decimal(0), step.target - progress)
    return f"spend {money(left)} more" if left > 0 else "done"


def status(spec: Spec, run: Run | None, at: datetime) -> Status:
    """Where the member stands, from their latest run (None: never started)."""
    if run is None:
        return Status.AVAILABLE
    if run.completed_at is not None:
        return Status.COMPLETED  # the last run was completed and no other was allowed
    if run.deadline is not None and at >= run.deadline:
        return Status.EXPIRED
    if run.step > 0 or run.progress > 0:
        return Status.IN_PROGRESS
    if run.joined:
        return Status.JOINED
    return Status.AVAILABLE
