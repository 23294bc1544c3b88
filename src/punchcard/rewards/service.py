"""Rewards use cases. Session first, keyword-only after; never commits."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from punchcard.ledger import queries as ledger_queries
from punchcard.rewards import repository as repo
from punchcard.rewards.domain import MemberStanding
from punchcard.tiers import repository as tiers_repo


def standing(
    session: Session,
    *,
    program_id: int,
    member_id: int,
    now: datetime,
    reward_ids: list[int] | None = None,
) -> MemberStanding:
    """The member as eligibility sees them. A redemption calls this after locking the member's
    balance, so what it reads cannot change before the debit. Unknown member: 404."""
    balance = ledger_queries.balance(session, program_id, member_id, now)
    return MemberStanding(
        available=balance.available,
        debt=balance.debt,
        tier=tiers_repo.held_tier(session, program_id, member_id),
        redeemed=repo.redeemed_counts(session, program_id, member_id, reward_ids),
    )
