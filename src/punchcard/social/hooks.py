"""What an event or an enrolment does to social sharing: attribution of sign-ups and orders
to the sharer (see `social.attribution`). Shares and clicks earn through their own routes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from punchcard.engagement.context import EventSeen, Signup
from punchcard.programs.domain import ProgramSettings
from punchcard.social import attribution
from punchcard.social import service as social


def configured(session: Session, program_id: int) -> bool:
    """Sharing is active: orders must then go through the path that attributes them."""
    return social.configured(session, program_id)


def on_event(session: Session, seen: EventSeen) -> None:
    attribution.on_event(session, seen)


def on_enrol(
    session: Session,
    *,
    program: ProgramSettings,
    member_id: int,
    created: bool,
    signup: Signup,
    now: datetime,
) -> dict[str, Any] | None:
    """What became of the sign-up's share token, for the enrolment's answer: `attributed`,
    `rejected` with the reason, or `ignored` with why (None: no token)."""
    return attribution.on_enrol(
        session, program=program, member_id=member_id, created=created, signup=signup, now=now
    )
