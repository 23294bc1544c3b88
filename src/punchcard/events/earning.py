"""From an event to awards: the facts rules look at, cap usage, budgets, and the evaluation."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy.orm import Session

from punchcard.events import repository as repo
from punchcard.rules import repository as rules_repo
from punchcard.rules import service as rules
from punchcard.rules.domain import Evaluation, Facts, evaluate
from punchcard.tiers import service as tiers


@dataclass(frozen=True)
class Earned:
    version: int
    evaluation: Evaluation
    budgeted: dict[str, int]  # rule id -> points this evaluation takes from its budget
    facts: Facts  # what the rules saw, with the tier the event earned at


def period_bounds(moment: datetime) -> dict[str, tuple[datetime, datetime]]:
    """Calendar day, ISO week (Monday first) and month of `moment`, in UTC."""
    day = datetime(moment.year, moment.month, moment.day, tzinfo=UTC)
    week = day - timedelta(days=day.weekday())
    month = datetime(moment.year, moment.month, 1, tzinfo=UTC)
    next_month = datetime(moment.year + moment.month // 12, moment.month % 12 + 1, 1, tzinfo=UTC)
    return {
        "day": (day, day + timedelta(days=1)),
        "week": (week, week + timedelta(days=7)),
        "month": (month, next_month),
    }


def earn(
    session: Session,
    *,
    program_id: int,
    member_id: int | None,
    facts: Facts,
    lock_budgets: bool,
    now: datetime | None = None,
) -> Earned:
    """Evaluate the rules in force. Budget counters of the rules that could apply are locked
    (when writing) so that concurrent events never overspend a campaign. `now` (writes only):
    tier periods the clock has ended by the event are judged, and written, first."""
    current = rules.in_force(session, program_id)
    # The tier the member held when the event happened: its multiplier applies, and rules with
    # a `tiers` condition see it (an event that crosses a threshold earns at the old one).
    tier, multiplier = tiers.earning_tier(
        session, program_id=program_id, member_id=member_id, at=facts.occurred_at, now=now
    )
    facts = replace(facts, tier=tier)
    relevant = [r for r in current.rules.rules if r.active and facts.type in r.events]
    capped = [r.id for r in relevant if r.caps]
    budgeted = [r.id for r in relevant if r.budget is not None]
    cap_used = (
        repo.cap_usage(session, program_id, member_id, capped, period_bounds(facts.occurred_at))
        if member_id is not None
        else {}
    )
    if lock_budgets:
        budget_used = rules_repo.lock_budgets(session, program_id, budgeted)
    else:
        budget_used = rules_repo.spent(session, program_id, budgeted)
    evaluation = evaluate(
        current.rules,
        facts,
        cap_used=cap_used,
        budget_used=budget_used,
        tier_multiplier=multiplier,
    )
    spent = {a.rule_id: a.points for a in evaluation.awards if a.rule_id in budgeted}
    return Earned(current.version, evaluation, spent, facts)


def money(value: Decimal | str | int) -> Decimal:
    return Decimal(value).quantize(Decimal("0.01"))
