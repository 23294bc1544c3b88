"""Challenges: what an event does to them (see `progress`), for the engagement hooks."""

from __future__ import annotations

from sqlalchemy.orm import Session

from punchcard.challenges import progress
from punchcard.challenges import repository as repo
from punchcard.engagement.context import EventSeen


def configured(session: Session, program_id: int) -> bool:
    """Any active challenge in the program: its events then take the careful path."""
    return repo.any_active(session, program_id)


def on_event(session: Session, seen: EventSeen) -> None:
    """Count the event toward the member's challenges; complete and reward a run that
    reaches its last target; take a refunded order's contribution out of open runs."""
    progress.on_event(session, seen)
