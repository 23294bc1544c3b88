"""Every SQL statement of the rewards catalog and causes."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from punchcard.models import Redemption, Reward
from punchcard.rewards.domain import RewardType, RewardView


def _names(raw: str | None) -> frozenset[str] | None:
    return None if raw is None else frozenset(json.loads(raw))


def view_of(row: Any) -> RewardView:
    return RewardView(
        id=row.id,
        program_id=row.program_id,
        name=row.name,
        type=RewardType(row.type),
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
