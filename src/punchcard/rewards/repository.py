"""Every SQL statement of the rewards catalog and causes."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from sqlalchemy import Numeric, cast, distinct, func, insert, select, update
from sqlalchemy.orm import Session
from sqlalchemy.types import NullType

from punchcard.db import rowcount
from punchcard.models import Cause, Redemption, Reward, TierPolicy
from punchcard.rewards.domain import CauseTotals, RewardType, RewardView, experience_start


def _names(raw: str | None) -> frozenset[str] | None:
    return None if raw is None else frozenset(json.loads(raw))


def view_of(row: Any) -> RewardView:
    kind = RewardType(row.type)
    return RewardView(
        id=row.id,
        program_id=row.program_id,
        name=row.name,
        type=kind,
        points_cost=row.points_cost,
        value=row.value,
        cause_id=row.cause_id,
        stock=row.stock,
        claimed=row.claimed,
        per_member_limit=row.per_member_limit,
        valid_from=row.valid_from,
        valid_until=row.valid_until,
        tiers=_names(row.tiers),
        channels=_names(row.channels),
        code_valid_days=row.code_valid_days,
        active=bool(row.active),
        starts_at=experience_start(kind, json.loads(row.details) if row.details else None),
    )


def get_view(session: Session, program_id: int, reward_id: int) -> RewardView | None:
    """One reward of the program; another program's reward is as absent as a missing one."""
    row = session.execute(
        select(Reward).where(Reward.program_id == program_id, Reward.id == reward_id)
    ).scalar_one_or_none()
    return None if row is None else view_of(row)


# Cancelled redemptions gave their points back and do not count against a per-member limit;
# every other state (issued, used, expired, reserved, completed) does.
COUNTED_STATUSES = ("issued", "used", "expired", "reserved", "completed")


def redeemed_counts(
    session: Session, program_id: int, member_id: int, reward_ids: list[int] | None = None
) -> dict[int, int]:
    """How many times the member has redeemed each reward, as the per-member limit counts."""
    query = (
        select(Redemption.reward_id, func.count())
        .where(
            Redemption.program_id == program_id,
            Redemption.member_id == member_id,
            Redemption.reward_id.is_not(None),
            Redemption.status.in_(COUNTED_STATUSES),
        )
        .group_by(Redemption.reward_id)
    )
    if reward_ids is not None:
        query = query.where(Redemption.reward_id.in_(reward_ids))
    return {int(r): int(n) for r, n in session.execute(query).all() if r is not None}


# --- the catalog --------------------------------------------------------------------------

_REWARDS = Reward.__table__
_CAUSES = Cause.__table__


def reward_row(session: Session, program_id: int, reward_id: int) -> Any | None:
    """Every column of one reward, as a plain row (no ORM identity to go stale after updates)."""
    return session.execute(
        select(_REWARDS).where(_REWARDS.c.program_id == program_id, _REWARDS.c.id == reward_id)
    ).one_or_none()


def reward_page(
    session: Session,
    program_id: int,
    *,
    after_id: int,
    limit: int,
    active: bool | None = None,
    kind: RewardType | None = None,
) -> list[Any]:
    query = (
        select(_REWARDS)
        .where(_REWARDS.c.program_id == program_id, _REWARDS.c.id > after_id)
        .order_by(_REWARDS.c.id)
        .limit(limit)
    )
    if active is not None:
        query = query.where(_REWARDS.c.active.is_(active))
    if kind is not None:
        query = query.where(_REWARDS.c.type == kind.value)
    return list(session.execute(query).all())


def active_rewards(session: Session, program_id: int) -> list[Any]:
    """The program's live catalog, cheapest first."""
    return list(
        session.execute(
            select(_REWARDS)
            .where(_REWARDS.c.program_id == program_id, _REWARDS.c.active.is_(True))
            .order_by(_REWARDS.c.points_cost, _REWARDS.c.id)
        ).all()
    )


def insert_reward(session: Session, values: dict[str, Any]) -> int:
    return int(session.execute(insert(Reward).values(**values).returning(Reward.id)).scalar_one())


def update_reward(
    session: Session, program_id: int, reward_id: int, values: dict[str, Any]
) -> bool:
    """Change a reward. A new stock is guarded in the same statement: False, and nothing
    changed, when more than that has been claimed meanwhile (a redemption may race us)."""
    statement = update(Reward).where(Reward.program_id == program_id, Reward.id == reward_id)
    if values.get("stock") is not None:
        statement = statement.where(Reward.claimed <= values["stock"])
    return rowcount(session.execute(statement.values(**values))) == 1


def tier_names(session: Session, program_id: int) -> list[str] | None:
    """The names of the program's tiers, or None when it has no tier policy."""
    raw = session.execute(
        select(TierPolicy.tiers).where(TierPolicy.program_id == program_id)
    ).scalar_one_or_none()
    if raw is None:
        return None
    return [str(t["name"]) for t in json.loads(raw) if isinstance(t, dict) and "name" in t]


# --- causes -------------------------------------------------------------------------------


def cause_row(session: Session, program_id: int, cause_id: int) -> Any | None:
    return session.execute(
        select(_CAUSES).where(_CAUSES.c.program_id == program_id, _CAUSES.c.id == cause_id)
    ).one_or_none()


def causes_by_id(session: Session, program_id: int, cause_ids: set[int]) -> dict[int, Any]:
    if not cause_ids:
        return {}
    rows = session.execute(
        select(_CAUSES).where(_CAUSES.c.program_id == program_id, _CAUSES.c.id.in_(cause_ids))
    ).all()
    return {row.id: row for row in rows}


def cause_page(
    session: Session, program_id: int, *, after_id: int, limit: int, active: bool | None = None
) -> list[Any]:
    query = (
        select(_CAUSES)
        .where(_CAUSES.c.program_id == program_id, _CAUSES.c.id > after_id)
        .order_by(_CAUSES.c.id)
        .limit(limit)
    )
    if active is not None:
        query = query.where(_CAUSES.c.active.is_(active))
    return list(session.execute(query).all())


def insert_cause(session: Session, values: dict[str, Any]) -> int:
    return int(session.execute(insert(Cause).values(**values).returning(Cause.id)).scalar_one())


def update_cause(session: Session, program_id: int, cause_id: int, values: dict[str, Any]) -> None:
    session.execute(
        update(Cause).where(Cause.program_id == program_id, Cause.id == cause_id).values(**values)
    )


def active_rewards_of_cause(session: Session, program_id: int, cause_id: int) -> list[int]:
    return list(
        session.execute(
            select(Reward.id).where(
                Reward.program_id == program_id,
                Reward.cause_id == cause_id,
                Reward.active.is_(True),
            )
        ).scalars()
    )


def _hundredths(raw: Any) -> Decimal:
    return Decimal(str(raw or 0)).quantize(Decimal("0.01"))


def cause_totals(
    session: Session,
    program_id: int,
    cause_ids: list[int] | None = None,
    member_id: int | None = None,
) -> dict[int, CauseTotals]:
    """Completed donations per cause, in one grouped query; only `member_id`'s when given.
    A donation records its impact units as text in `value` ("2", "0.5"); SQLite sums them as
    floating point, which rounding to the hundredth puts right."""
    query = (
        select(
            Redemption.cause_id,
            func.coalesce(func.sum(Redemption.points), 0),
            func.sum(cast(Redemption.value, Numeric), type_=NullType()),  # as the driver reads it
            func.count(),
            func.count(distinct(Redemption.member_id)),
        )
        .where(
            Redemption.program_id == program_id,
            Redemption.cause_id.is_not(None),
            Redemption.status == "completed",
        )
        .group_by(Redemption.cause_id)
    )
    if cause_ids is not None:
        query = query.where(Redemption.cause_id.in_(cause_ids))
    if member_id is not None:
        query = query.where(Redemption.member_id == member_id)
    return {
        int(cause): CauseTotals(int(points), _hundredths(units), int(count), int(donors))
        for cause, points, units, count, donors in session.execute(query).all()
        if cause is not None
    }


def rewards_for_tiers(session: Session, program_id: int, names: set[str]) -> dict[int, list[str]]:
    """Active rewards of the program limited to any of `names`, with the names they use: a
    tier ladder that dropped those tiers would leave the rewards redeemable by no one."""
    if not names:
        return {}
    rows = session.execute(
        select(Reward.id, Reward.tiers).where(
            Reward.program_id == program_id, Reward.active.is_(True), Reward.tiers.is_not(None)
        )
    ).all()
    found: dict[int, list[str]] = {}
    for reward_id, raw in rows:
        used = sorted(names & set(json.loads(raw or "[]")))
        if used:
            found[int(reward_id)] = used
    return found
