"""What an event or an enrolment does to referrals: an order may reward a referral, a refund
void one, and an enrolment with a code makes one (after recording the member's signals)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from punchcard.engagement.context import EventSeen, Signup
from punchcard.programs.domain import ProgramSettings
from punchcard.referrals import rewarding, service


def configured(session: Session, program_id: int) -> bool:
    return service.configured(session, program_id=program_id)


def on_event(session: Session, seen: EventSeen) -> None:
    """No query for events other than orders; one for an order of a member who is not a
    referee waiting for a reward."""
    if seen.type == "order.placed":
        rewarding.on_order(session, seen)
    elif seen.type in rewarding.RETURNS:
        rewarding.on_return(session, seen)


def on_enrol(
    session: Session,
    *,
    program: ProgramSettings,
    member_id: int,
    created: bool,
    signup: Signup,
    now: datetime,
) -> dict[str, Any] | None:
    """What became of the sign-up's referral code, for the enrolment's answer: `pending` or
    `review` with the referral's id and reasons, or `ignored` with why (None: no code)."""
    return service.enrol(
        session, program=program, member_id=member_id, created=created, signup=signup, now=now
    )
