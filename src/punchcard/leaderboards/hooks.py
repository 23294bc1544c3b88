"""What the earn paths and the other engagement features tell leaderboards: points an event
earned (or a refund took back), bonus points, and a challenge's metric moving. Each runs in
the caller's transaction, under the member's balance lock, as one statement for every board
of the program it feeds."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy.orm import Session

from punchcard.engagement.context import EventSeen
from punchcard.leaderboards import service


def configured(session: Session, program_id: int) -> bool:
    """Any active board: events then go the careful way, which calls `on_event`."""
    return service.configured(session, program_id)


def on_event(session: Session, seen: EventSeen) -> None:
    """Add the points the event earned (`seen.points`, negative for a refund)."""
    service.add_points(
        session,
        program_id=seen.program.id,
        member_id=seen.member_id,
        points=seen.points,
        occurred_at=seen.occurred_at,
    )


def add_points(
    session: Session, *, program_id: int, member_id: int, points: int, occurred_at: datetime
) -> None:
    """Bonus points given outside the event's own earning (`engagement.points`)."""
    service.add_points(
        session, program_id=program_id, member_id=member_id, points=points, occurred_at=occurred_at
    )


def challenge_progress(
    session: Session,
    *,
    program_id: int,
    challenge_id: int,
    member_id: int,
    delta: Decimal,
    occurred_at: datetime,
) -> None:
    """A challenge's metric moved by `delta` for the member (leaderboards by challenge)."""
    service.challenge_progress(
        session,
        program_id=program_id,
        challenge_id=challenge_id,
        member_id=member_id,
        delta=delta,
        occurred_at=occurred_at,
    )
