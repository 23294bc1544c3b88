"""One-time sign-in codes: six random digits, kept only as a keyed hash, valid for a few
minutes, five tries, used once. The newest code of a member is the only one that counts, so
asking for a new code retires the old one."""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from punchcard.config import Settings
from punchcard.db import rowcount
from punchcard.models.web import LoginCode
from punchcard.web.security import code_hash

MAX_ATTEMPTS = 5
DIGITS = 6
# More codes than this in an hour and no new one is sent: nobody mail-bombs a member.
MAX_CODES_PER_HOUR = 5


class Outcome(StrEnum):
    OK = "ok"
    WRONG = "wrong"  # not this code; tries remain
    EXPIRED = "expired"
    USED = "used"  # used already, or no code was ever sent
    LOCKED = "locked"  # too many wrong tries


@dataclass(frozen=True)
class Check:
    outcome: Outcome
    remaining: int = 0


def new_code() -> str:
    return str(secrets.randbelow(10**DIGITS)).zfill(DIGITS)


def issue(session: Session, settings: Settings, *, member_id: int, now: datetime) -> str | None:
    """A new code for the member (written in the caller's transaction), or None when the
    member asked for too many within the hour."""
    recent = session.execute(
        select(func.count())
        .select_from(LoginCode)
        .where(LoginCode.member_id == member_id, LoginCode.created_at > now - timedelta(hours=1))
    ).scalar_one()
    if recent >= MAX_CODES_PER_HOUR:
        return None
    code = new_code()
    session.add(
        LoginCode(
            member_id=member_id,
            code_hash=code_hash(settings, member_id, code),
            attempts=0,
            expires_at=now + timedelta(minutes=settings.login_code_minutes),
            used_at=None,
            created_at=now,
        )
    )
    session.flush()
    return code


def check(
    session: Session, settings: Settings, *, member_id: int, code: str, now: datetime
) -> Check:
    """Try `code` against the member's newest code. Every wrong try is counted by a guarded
    update, and success marks the code used by another, so two racing posts of the right code
    sign in once and a sixth guess never gets a look."""
    row = session.execute(
        select(LoginCode)
        .where(LoginCode.member_id == member_id)
        .order_by(LoginCode.id.desc())
        .limit(1)
    ).scalar_one_or_none()
    if row is None or row.used_at is not None:
        return Check(Outcome.USED)
    tried = row.attempts  # read now: the update below refreshes the row object
    if tried >= MAX_ATTEMPTS:
        return Check(Outcome.LOCKED)
    if row.expires_at <= now:
        return Check(Outcome.EXPIRED)
    live = (LoginCode.id == row.id, LoginCode.used_at.is_(None))
    if hmac.compare_digest(code_hash(settings, member_id, code), row.code_hash):
        done = session.execute(
            update(LoginCode).where(*live, LoginCode.attempts < MAX_ATTEMPTS).values(used_at=now)
        )
        return Check(Outcome.OK) if rowcount(done) == 1 else Check(Outcome.USED)
    counted = session.execute(
        update(LoginCode)
        .where(*live, LoginCode.attempts < MAX_ATTEMPTS)
        .values(attempts=LoginCode.attempts + 1)
    )
    if rowcount(counted) != 1:
        return Check(Outcome.LOCKED)
    remaining = MAX_ATTEMPTS - (tried + 1)
    return Check(Outcome.WRONG, remaining) if remaining > 0 else Check(Outcome.LOCKED)


def well_formed(code: str) -> bool:
    return len(code) == DIGITS and code.isascii() and code.isdigit()
