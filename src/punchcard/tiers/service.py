"""Tier use cases: the policy, the tier of a member, upgrades at earning events, grants.
Session first, keyword-only after; never commits."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from punchcard.db import Database
from punchcard.errors import ConflictError, InvalidInputError, NotFoundError
from punchcard.ledger import service as ledger
from punchcard.members import service as members
from punchcard.models import TierChange
from punchcard.rewards import repository as rewards_repo
from punchcard.tiers import domain
from punchcard.tiers import repository as repo
from punchcard.tiers.domain import Change, Held, Metric, Policy, Tier
from punchcard.tiers.schemas import PolicyIn


class TiersNotConfiguredError(NotFoundError):
    code = "tiers_not_configured"


class InvalidTiersError(InvalidInputError):
    code = "invalid_tiers"


class TierInUseError(ConflictError):
    code = "tier_in_use"


class UnknownTierError(InvalidInputError):
    code = "unknown_tier"


def _policy(row: repo.PolicyRow) -> Policy:
    return Policy(
        metric=domain.Metric(row.metric),
        window=domain.Window(row.window),
        downgrade=domain.Downgrade(row.downgrade),
        grace_days=row.grace_days,
        version=row.version,
        tiers=tuple(
            Tier(
                name=t["name"],
                threshold=Decimal(str(t["threshold"])),
                multiplier=Decimal(str(t.get("multiplier", "1"))),
                perks=tuple(t.get("perks", ())),
                invitation_only=bool(t.get("invitation_only", False)),
            )
            for t in row.tiers
        ),
    )


def policy_of(session: Session, program_id: int) -> Policy | None:
    row = repo.get_policy(session, program_id)
    return None if row is None else _policy(row)


def cached_policy(db: Database, program_id: int) -> Policy | None:
    """The policy from the process cache (None, cached too, for a program without tiers): the
    earn path asks on every event, and most programs have none."""

    def load() -> Policy | None:
        with db.reader() as session:
            return policy_of(session, program_id)

    return db.caches.get(("tiers", program_id), load)


def require_policy(session: Session, program_id: int) -> tuple[Policy, datetime]:
    row = repo.get_policy(session, program_id)
    if row is None:
        raise TiersNotConfiguredError("this program has no tiers yet: PUT /v1/tiers first")
    return _policy(row), row.updated_at


def show(policy: Policy, value: Decimal) -> str | int:
    """A threshold or metric as the API gives it: money as a string with cents, points whole."""
    return policy.show(value) if policy.metric is Metric.SPEND else int(value)


def replace_policy(session: Session, *, program_id: int, body: PolicyIn, now: datetime) -> Policy:
    """A new version of the policy. Refused when it drops a tier some member holds (say who
    goes where with grants first) or that active rewards are limited to."""
    policy = Policy(
        metric=body.metric,
        window=body.window,
        downgrade=body.downgrade,
        grace_days=body.grace_days,
        tiers=tuple(
            Tier(t.name, t.threshold, t.multiplier, tuple(t.perks), t.invitation_only)
            for t in body.tiers
        ),
    )
    problems = domain.problems(policy)
    if problems:
        raise InvalidTiersError(
            f"the tiers have {len(problems)} problem(s); first: {problems[0]['path']}: "
            f"{problems[0]['message']}",
            details={"errors": problems},
        )
    names = {t.name for t in policy.tiers}
    removed = sorted(repo.tiers_held(session, program_id) - names)
    if removed:
        raise TierInUseError(
            f"members hold {', '.join(removed)}: grant them another tier before removing it",
            details={"tiers": removed},
        )
    current = policy_of(session, program_id)
    dropped = {t.name for t in current.tiers} - names if current is not None else set()
    offers = rewards_repo.rewards_for_tiers(session, program_id, dropped)
    if offers:
        raise TierInUseError(
            f"active rewards are limited to {', '.join(sorted(dropped))}: change or retire "
            f"rewards {', '.join(map(str, sorted(offers)))} before removing the tier",
            details={"tiers": sorted({n for used in offers.values() for n in used}),
                     "rewards": sorted(offers)},
        )  # fmt: skip
    values: dict[str, Any] = {
        "metric": policy.metric.value,
        "qualification_window": policy.window.value,
        "downgrade": policy.downgrade.value,
        "grace_days": policy.grace_days,
        "tiers": _tiers_json(policy),
    }
    version = repo.save_policy(session, program_id, values, now)
    return replace(policy, version=version)


def _tiers_json(policy: Policy) -> str:
    return json.dumps(
        [
            {
                "name": t.name,
                "threshold": show(policy, t.threshold),
                "multiplier": str(t.multiplier),
                "perks": list(t.perks),
                "invitation_only": t.invitation_only,
            }
            for t in policy.tiers
        ]
    )


def held(session: Session, policy: Policy, program_id: int, member_id: int) -> Held:
    return domain.held_or_base(policy, repo.stored_tier(session, program_id, member_id))


def earning_tier(
    session: Session,
    *,
    program_id: int,
    member_id: int | None,
    at: datetime,
    now: datetime | None = None,
) -> tuple[str | None, Decimal | None]:
    """The tier an event earns at, the one its member held when it happened, and its
    multiplier (None when it adds nothing); (None, None) for a program without tiers.

    With `now` (a write), periods the clock has ended by the event are judged first, as the
    job would have, and written; a dry run (no `now`) writes nothing and reads the stored
    tier. A late event, dated before the member reached the tier held now, asks the history."""
    policy = policy_of(session, program_id)
    if policy is None:
        return None, None
    if member_id is None:
        return policy.base, multiplier_of(policy, policy.base)
    current = held(session, policy, program_id, member_id)
    if now is not None and domain.due(policy, current, min(at, now)):
        ledger.lock(session, program_id, member_id)  # one member's tier decisions queue here
        current = catch_up(session, program_id, member_id, policy, current, min(at, now), now)
    name = current.tier
    if current.since is not None and at < current.since:
        found, earlier = repo.tier_at(session, program_id, member_id, at)
        name = earlier if found else policy.base
    return name, multiplier_of(policy, name)


def multiplier_of(policy: Policy, name: str | None) -> Decimal | None:
    tier = policy.get(name)
    return tier.multiplier if tier is not None and tier.multiplier > 1 else None


def record(
    session: Session, program_id: int, member_id: int, before: Held, change: Change, now: datetime
) -> Held:
    after = domain.apply(before, change)
    repo.save_held(session, program_id, member_id, after, now)
    repo.record_change(session, program_id, member_id, change, now)
    return after


def after_earning(
    session: Session,
    *,
    program_id: int,
    member_id: int,
    occurred_at: datetime,
    now: datetime,
    cause: str = "",
) -> Change | None:
    """Upgrade (or renew) at an earning event, once its rows are written: the metric then
    counts the event itself. Never a downgrade: that waits for the end of the period."""
    policy = policy_of(session, program_id)
    if policy is None:
        return None
    ledger.lock(session, program_id, member_id)  # one member's tier decisions queue here
    before = held(session, policy, program_id, member_id)
    judged_by = min(occurred_at, now)  # periods the clock has ended, not a future event's
    if domain.due(policy, before, judged_by):
        before = catch_up(session, program_id, member_id, policy, before, judged_by, now)
    span = domain.span_at(policy.window, occurred_at)
    (value,) = repo.metrics(session, program_id, policy.metric, [(member_id, *span)])
    change = domain.at_event(policy, before, value, occurred_at, cause)
    if change is not None:
        record(session, program_id, member_id, before, change, now)
    return change


def catch_up(
    session: Session,
    program_id: int,
    member_id: int,
    policy: Policy,
    current: Held,
    moment: datetime,
    now: datetime,
) -> Held:
    """Judge, as the job would have, every period (and grace) of the member that ended by
    `moment`, each at its own boundary: an event after the end of a period is weighed
    against the tier the member holds then, whether or not the job has run since."""

    def metric_at(boundary: datetime) -> Decimal:
        span = domain.span_closing(policy.window, boundary)
        (value,) = repo.metrics(session, program_id, policy.metric, [(member_id, *span)])
        return value

    _, changes = domain.catch_up(policy, current, moment, metric_at)
    for change in changes:
        current = record(session, program_id, member_id, current, change, now)
    return current


def grant(
    session: Session,
    *,
    program_id: int,
    member_id: int,
    tier: str,
    reason: str,
    now: datetime,
    valid_until: datetime | None = None,
) -> Change:
    policy, _ = require_policy(session, program_id)
    ledger.lock(session, program_id, member_id)  # 404 for an unknown member
    if policy.get(tier) is None:
        raise UnknownTierError(
            f"no tier {tier!r} in this program", details={"tiers": [t.name for t in policy.tiers]}
        )
    if valid_until is not None and valid_until <= now:
        raise InvalidInputError("valid_until must be in the future", details={"now": str(now)})
    before = held(session, policy, program_id, member_id)
    change = domain.grant(policy, before, tier, reason=reason, now=now, valid_until=valid_until)
    record(session, program_id, member_id, before, change, now)
    return change


@dataclass(frozen=True)
class Standing:
    """A member's tier as the API shows it."""

    policy: Policy
    held: Held
    value: Decimal
    in_grace_until: datetime | None
    progress: domain.Progress | None


def standing(session: Session, *, program_id: int, member_id: int, now: datetime) -> Standing:
    policy, _ = require_policy(session, program_id)
    members.get(session, program_id=program_id, member_id=member_id)  # 404 for strangers
    current = held(session, policy, program_id, member_id)
    span = domain.span_at(policy.window, now)
    (value,) = repo.metrics(session, program_id, policy.metric, [(member_id, *span)])
    grace_end = None
    if current.valid_until is not None and current.valid_until <= now:
        grace_end = current.valid_until + timedelta(days=policy.grace_days)
        grace_end = grace_end if now < grace_end else None
    return Standing(policy, current, value, grace_end, domain.progress(policy, current, value, now))


def history(
    session: Session, *, program_id: int, member_id: int, before_id: int | None, limit: int
) -> list[TierChange]:
    """Newest first; 404 for a member of another program."""
    members.get(session, program_id=program_id, member_id=member_id)
    return repo.history(session, program_id, member_id, before_id=before_id, limit=limit)
