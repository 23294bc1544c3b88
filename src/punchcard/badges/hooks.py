"""badges: what an event, a donation or a challenge does to them.

Called in the caller's transaction, under the member's balance lock (the earn paths and
redemptions hold it; `award` takes it). See `badges.service` for the rules."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from punchcard.badges import service
from punchcard.engagement.context import EventSeen
from punchcard.programs.domain import ProgramSettings


def configured(session: Session, program_id: int) -> bool:
    """Any active badge: events must then reach `on_event`."""
    return service.configured(session, program_id)


def on_event(session: Session, seen: EventSeen) -> None:
    service.on_event(session, seen)


def after_donation(
    session: Session,
    *,
    program: ProgramSettings,
    member_id: int,
    redemption_id: int,
    now: datetime,
) -> None:
    """A donation was just recorded: donation badges, in its transaction."""
    service.after_donation(
        session, program=program, member_id=member_id, redemption_id=redemption_id, now=now
    )


def award(
    session: Session,
    *,
    program_id: int,
    member_id: int,
    badge_id: int,
    source_id: str,
    occurred_at: datetime,
    now: datetime,
) -> bool:
    """Award the badge once (True) or not again (False): for challenges that give a badge.
    False too for a badge that is missing or retired; its points come with the award."""
    return service.award(
        session,
        program_id=program_id,
        member_id=member_id,
        badge_id=badge_id,
        source_id=source_id,
        occurred_at=occurred_at,
        now=now,
    )
