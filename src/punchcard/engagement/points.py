"""Bonus points given by an engagement feature (a challenge completed, a streak length
reached, a referral, a share): a ledger credit like any other, also counted on the
leaderboards, which rank points earned."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from punchcard.engagement.context import EventSeen
from punchcard.leaderboards import hooks as leaderboards
from punchcard.ledger import service as ledger
from punchcard.ledger.domain import Kind
from punchcard.programs.domain import ProgramSettings

ORDER_EVENT = "order.placed"


def order_window(seen: EventSeen) -> int:
    """The pending days of a bonus the event triggers: an order's return window for a bonus
    earned by an order (so a return inside the window can void it, as it voids the order's
    own points), none for other events."""
    return seen.program.pending_days if seen.type == ORDER_EVENT else 0


def award_points(
    session: Session,
    *,
    program: ProgramSettings,
    member_id: int,
    points: int,
    reason: str,
    reference: str,
    occurred_at: datetime,
    now: datetime,
    pending_days: int = 0,
    meta: dict[str, Any] | None = None,
) -> int:
    """The ledger transaction's id. `reason` names the feature ("challenge", "streak",
    "referral", "share"), `reference` the thing that earned it (challenge id and run, ...)."""
    tx_id = ledger.credit(
        session,
        program=program,
        member_id=member_id,
        points=points,
        reason=reason,
        reference=reference,
        now=now,
        occurred_at=occurred_at,
        kind=Kind.EARN,
        pending_days=pending_days,
        meta=meta,
    )
    leaderboards.add_points(
        session, program_id=program.id, member_id=member_id, points=points, occurred_at=occurred_at
    )
    return tx_id
