"""The one place the earn paths call after an event is written, and enrolment calls after a
member is created: each engagement feature reacts in the same transaction.

Every earn path calls `after_event` for each event it records for a member: the general path
(`events.service`), the careful fast path (`events.fastpath`, once per event after the batch's
rows are written) and never the express lane, which hands events of programs with engagement
configured (`cached_configured`) to the careful path. All paths hold the member's balance lock
when they call, so two events of one member never run the hooks at once; the features' unique
keys make a second award impossible even so.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from punchcard.badges import hooks as badges
from punchcard.challenges import hooks as challenges
from punchcard.db import Database
from punchcard.engagement.context import EventSeen, Signup
from punchcard.leaderboards import hooks as leaderboards
from punchcard.programs.domain import ProgramSettings
from punchcard.referrals import hooks as referrals
from punchcard.social import hooks as social
from punchcard.streaks import hooks as streaks

# Referrals and attribution first (they look at the order as it arrived), then progress,
# then the leaderboards, which also count the bonus points the others just gave.
_FEATURES = (
    ("referrals", referrals),
    ("social", social),
    ("challenges", challenges),
    ("badges", badges),
    ("streaks", streaks),
    ("leaderboards", leaderboards),
)

Engaged = frozenset[str]  # the names of the features a program has set up; empty: none


def configured(session: Session, program_id: int) -> Engaged:
    """The features set up for the program: only they run for its events (an empty set: no
    hook at all, and the express lane may take its events)."""
    return frozenset(name for name, feature in _FEATURES if feature.configured(session, program_id))


def cached_configured(db: Database, program_id: int) -> Engaged:
    def load() -> Engaged:
        with db.reader() as session:
            return configured(session, program_id)

    return db.caches.get(("engagement", program_id), load)


def forget(db: Database, program_id: int) -> None:
    """A feature's settings changed: this process routes the program's events again at once,
    other processes within the cache TTL (as for rules)."""
    db.caches.forget(("engagement", program_id))


def after_event(session: Session, seen: EventSeen, features: Engaged | None = None) -> None:
    """`features`: those set up for the program (`configured`); None: ask every one."""
    for name, feature in _FEATURES:
        if features is None or name in features:
            feature.on_event(session, seen)


def after_enrol(
    session: Session,
    *,
    program: ProgramSettings,
    member_id: int,
    created: bool,
    signup: Signup,
    now: datetime,
) -> dict[str, Any]:
    """A member was enrolled through `POST /v1/members` (`created` False: they already were).
    Returns what became of the referral code and share token (`{"referral": {...},
    "share": {...}}`), for the enrolment's answer: a stale code never refuses a sign-up."""
    notes: dict[str, Any] = {}
    if signup.empty:
        return notes
    referral = referrals.on_enrol(
        session, program=program, member_id=member_id, created=created, signup=signup, now=now
    )
    share = social.on_enrol(
        session, program=program, member_id=member_id, created=created, signup=signup, now=now
    )
    if referral is not None:
        notes["referral"] = referral
    if share is not None:
        notes["share"] = share
    return notes
