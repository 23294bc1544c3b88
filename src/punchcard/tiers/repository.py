"""Every SQL statement of tiers: policies, the tier each member holds, and tier history."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from punchcard.models import MemberTier


def held_tier(session: Session, program_id: int, member_id: int) -> str | None:
    """The name of the tier the member holds now, or None."""
    return session.execute(
        select(MemberTier.tier).where(
            MemberTier.program_id == program_id, MemberTier.member_id == member_id
        )
    ).scalar_one_or_none()
