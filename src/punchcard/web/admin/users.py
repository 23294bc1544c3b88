"""Admin users: creating them (the CLI) and checking a sign-in (the console).

Passwords are hashed with argon2id (argon2-cffi's defaults, parameters inside the hash, so a
change of defaults rehashes at the next sign-in). An unknown e-mail is checked against a dummy
hash, so a wrong address takes as long as a wrong password. Five wrong passwords in a row lock
the account for fifteen minutes: guessing is slow, and a locked-out admin only waits.

A session cookie cannot be taken back, so each admin has a `sessions_valid_after` instant:
sign-out, a lock and a new password move it to just after now, and the console refuses a
session signed in before it. A sign-in is dated no earlier than that instant, so one made in
the same microsecond as a sign-out (a fixed test clock) still counts.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from punchcard.errors import ConflictError, InvalidInputError
from punchcard.models.web import AdminUser

MIN_PASSWORD = 10
MAX_FAILURES = 5
LOCK_FOR = timedelta(minutes=15)
HASHER = PasswordHasher()


class DuplicateAdminError(ConflictError):
    code = "admin_exists"


class WeakPasswordError(InvalidInputError):
    code = "weak_password"


class InvalidEmailError(InvalidInputError):
    code = "invalid_email"


class Outcome(StrEnum):
    SIGNED_IN = "signed_in"
    WRONG = "wrong"  # unknown e-mail or wrong password: the visitor is not told which
    LOCKED = "locked"


@dataclass(frozen=True)
class SignIn:
    outcome: Outcome
    admin_id: int | None = None
    locked_until: datetime | None = None
    at: datetime | None = None  # the sign-in's date, for the session (see session_valid)


@functools.cache
def _dummy_hash() -> str:
    """Verified against for unknown e-mails, so they cost the same time as known ones."""
    return HASHER.hash("punchcard dummy password, never anyone's")


def normalise_email(email: str) -> str:
    cleaned = email.strip().lower()
    local, _, domain = cleaned.partition("@")
    if not local or "." not in domain or " " in cleaned or len(cleaned) > 320:
        raise InvalidEmailError(f"{email.strip()!r} is not an e-mail address")
    return cleaned


def create_user(
    session: Session, *, email: str, password: str, now: datetime, name: str | None = None
) -> int:
    address = normalise_email(email)
    if len(password) < MIN_PASSWORD:
        raise WeakPasswordError(f"the password must be at least {MIN_PASSWORD} characters")
    if session.execute(select(AdminUser.id).where(AdminUser.email == address)).first():
        raise DuplicateAdminError(f"an admin user with e-mail {address} already exists")
    values = {
        "email": address,
        "name": name.strip() if name and name.strip() else None,
        "password_hash": HASHER.hash(password),
        "failed_logins": 0,
        "created_at": now,
    }
    return int(
        session.execute(insert(AdminUser).values(**values).returning(AdminUser.id)).scalar_one()
    )


def _verify(stored: str, password: str) -> bool:
    try:
        return HASHER.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def authenticate(session: Session, *, email: str, password: str, now: datetime) -> SignIn:
    """Check a sign-in and record its outcome (failures, lock, last sign-in) in the caller's
    transaction; the caller commits either way, so failures count."""
    try:
        address = normalise_email(email)
    except InvalidEmailError:
        address = ""
    user = session.execute(
        select(AdminUser).where(AdminUser.email == address).with_for_update()
    ).scalar_one_or_none()
    if user is None:
        _verify(_dummy_hash(), password)
        return SignIn(Outcome.WRONG)
    if user.locked_until is not None and user.locked_until > now:
        _verify(_dummy_hash(), password)  # same cost; the lock holds even for the right one
        return SignIn(Outcome.LOCKED, locked_until=user.locked_until)
    if not _verify(user.password_hash, password):
        failures = user.failed_logins + 1
        locked = now + LOCK_FOR if failures >= MAX_FAILURES else None
        session.execute(
            update(AdminUser)
            .where(AdminUser.id == user.id)
            .values(failed_logins=0 if locked else failures, locked_until=locked)
        )
        if locked is not None:
            _end_sessions(session, user.id, user.sessions_valid_after, now)
            return SignIn(Outcome.LOCKED, locked_until=locked)
        return SignIn(Outcome.WRONG)
    values: dict[str, object] = {"failed_logins": 0, "locked_until": None, "last_login_at": now}
    if HASHER.check_needs_rehash(user.password_hash):
        values["password_hash"] = HASHER.hash(password)
    session.execute(update(AdminUser).where(AdminUser.id == user.id).values(**values))
    at = max(now, user.sessions_valid_after) if user.sessions_valid_after else now
    return SignIn(Outcome.SIGNED_IN, admin_id=user.id, at=at)


def _end_sessions(
    session: Session, admin_id: int, valid_after: datetime | None, now: datetime
) -> None:
    """Every session signed in so far is over: they are dated no later than
    max(now, valid_after), so the bar moves just past that (and never back)."""
    bar = (max(now, valid_after) if valid_after else now) + timedelta(microseconds=1)
    session.execute(
        update(AdminUser).where(AdminUser.id == admin_id).values(sessions_valid_after=bar)
    )


def end_sessions(session: Session, admin_id: int, now: datetime) -> None:
    """Sign-out: every session of this admin, in every browser, is over."""
    valid_after = session.execute(
        select(AdminUser.sessions_valid_after).where(AdminUser.id == admin_id).with_for_update()
    ).scalar_one_or_none()
    _end_sessions(session, admin_id, valid_after, now)


def set_password(session: Session, admin_id: int, password: str, now: datetime) -> None:
    """A new password: the old one's sessions are over, and any lock is lifted."""
    if len(password) < MIN_PASSWORD:
        raise WeakPasswordError(f"the password must be at least {MIN_PASSWORD} characters")
    session.execute(
        update(AdminUser)
        .where(AdminUser.id == admin_id)
        .values(password_hash=HASHER.hash(password), failed_logins=0, locked_until=None)
    )
    end_sessions(session, admin_id, now)


def session_valid(admin: AdminView, signed_in_at: datetime | None) -> bool:
    """Whether a session signed in at `signed_in_at` still counts (None: a cookie without a
    sign-in date, from before dates were kept: it does not)."""
    if signed_in_at is None:
        return False
    return admin.sessions_valid_after is None or signed_in_at >= admin.sessions_valid_after


@dataclass(frozen=True)
class AdminView:
    id: int
    email: str
    name: str | None
    sessions_valid_after: datetime | None = None


def get_user(session: Session, admin_id: int) -> AdminView | None:
    row = session.execute(
        select(AdminUser.id, AdminUser.email, AdminUser.name, AdminUser.sessions_valid_after).where(
            AdminUser.id == admin_id
        )
    ).one_or_none()
    if row is None:
        return None
    return AdminView(row.id, row.email, row.name, row.sessions_valid_after)


def count_users(session: Session) -> int:
    return int(session.execute(select(func.count()).select_from(AdminUser)).scalar_one())
