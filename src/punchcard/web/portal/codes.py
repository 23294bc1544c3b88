"""One-time sign-in codes: six random digits, kept only as a keyed hash, valid for a few
minutes, five tries, used once.

Each code belongs to the browser that asked for it (a keyed hash of a random nonce kept in
that browser's session): only that browser can try it, and the newest code of that browser
is the only one that counts, so asking again retires the browser's previous code but nobody
else's. Someone who asks for codes in a member's name and mistypes them uses up their own
codes' tries, never those of the code in the member's own browser."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.orm import Session

from punchcard.config import Settings
from punchcard.db import rowcount
from punchcard.models.web import LoginCode
from punchcard.web.security import code_hash, derived_key

MAX_ATTEMPTS = 5
DIGITS = 6
# More codes than these in an hour and no new one is sent: nobody mail-bombs a member, and a
# stranger asking in a member's name cannot stop the member's own browser from getting one
# unless they ask MAX_CODES_PER_HOUR times an hour (a per-IP limit belongs in the proxy).
MAX_CODES_PER_BROWSER_PER_HOUR = 3
MAX_CODES_PER_HOUR = 10


class Outcome(StrEnum):
    OK = "ok"
    WRONG = "wrong"  # not this code; tries remain
    EXPIRED = "expired"
    USED = "used"  # used already
    LOCKED = "locked"  # too many wrong tries


@dataclass(frozen=True)
class Check:
    outcome: Outcome
    remaining: int = 0
    # The typed code is the browser's code (then a refusal may say why: only someone who
    # read the e-mail learns it). A refusal of a code that did not match says nothing.
    matched: bool = False


def new_code() -> str:
    return str(secrets.randbelow(10**DIGITS)).zfill(DIGITS)


def new_nonce() -> str:
    return secrets.token_urlsafe(24)


def browser_hash(settings: Settings, nonce: str) -> str:
    """The keyed hash of a browser's nonce, as `LoginCode.browser` keeps it."""
    key = derived_key(settings, "punchcard login browser")
    return hmac.new(key, nonce.encode(), hashlib.sha256).hexdigest()


def _recent(session: Session, now: datetime, *where: ColumnElement[bool]) -> int:
    return int(
        session.execute(
            select(func.count())
            .select_from(LoginCode)
            .where(*where, LoginCode.created_at > now - timedelta(hours=1))
        ).scalar_one()
    )


def issue(
    session: Session, settings: Settings, *, member_id: int, browser: str, now: datetime
) -> str | None:
    """A new code for the member and this browser (`browser`: its nonce), written in the
    caller's transaction, or None when too many were asked for within the hour (by this
    browser, or for this member by anyone)."""
    owner = browser_hash(settings, browser)
    mine = LoginCode.member_id == member_id
    if _recent(session, now, mine) >= MAX_CODES_PER_HOUR:
        return None
    if _recent(session, now, mine, LoginCode.browser == owner) >= MAX_CODES_PER_BROWSER_PER_HOUR:
        return None
    code = new_code()
    session.add(
        LoginCode(
            member_id=member_id,
            code_hash=code_hash(settings, member_id, code),
            browser=owner,
            attempts=0,
            expires_at=now + timedelta(minutes=settings.login_code_minutes),
            used_at=None,
            created_at=now,
        )
    )
    session.flush()
    return code


def check(
    session: Session,
    settings: Settings,
    *,
    member_id: int,
    browser: str,
    code: str,
    now: datetime,
) -> Check:
    """Try `code` against the newest code this browser asked for. Every wrong try is counted
    by a guarded update, and success marks the code used by another, so two racing posts of
    the right code sign in once and a sixth guess never gets a look."""
    row = session.execute(
        select(LoginCode)
        .where(
            LoginCode.member_id == member_id, LoginCode.browser == browser_hash(settings, browser)
        )
        .order_by(LoginCode.id.desc())
        .limit(1)
    ).scalar_one_or_none()
    if row is None:
        return Check(Outcome.WRONG)
    matched = hmac.compare_digest(code_hash(settings, member_id, code), row.code_hash)
    tried = row.attempts  # read now: the update below refreshes the row object
    if row.used_at is not None:
        return Check(Outcome.USED, matched=matched)
    if tried >= MAX_ATTEMPTS:
        return Check(Outcome.LOCKED, matched=matched)
    if row.expires_at <= now:
        return Check(Outcome.EXPIRED, matched=matched)
    live = (LoginCode.id == row.id, LoginCode.used_at.is_(None))
    if matched:
        done = session.execute(
            update(LoginCode).where(*live, LoginCode.attempts < MAX_ATTEMPTS).values(used_at=now)
        )
        return Check(Outcome.OK) if rowcount(done) == 1 else Check(Outcome.USED, matched=True)
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
