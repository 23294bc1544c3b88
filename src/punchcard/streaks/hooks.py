"""streaks: what an event does to them (see `streaks.service`), in the event's transaction."""

from __future__ import annotations

from sqlalchemy.orm import Session

from punchcard.engagement.context import EventSeen
from punchcard.streaks import service


def configured(session: Session, program_id: int) -> bool:
    """Any active streak: events must then reach `on_event`."""
    return service.configured(session, program_id)


def on_event(session: Session, seen: EventSeen) -> None:
    service.on_event(session, seen)
