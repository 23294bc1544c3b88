"""Referral use cases: settings, each member's code, hashed signals, and the referral made at
enrolment with the fraud checks' verdict. Session first, keyword-only after; never commits."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy.orm import Session

from punchcard.engagement.context import Signup
from punchcard.errors import ConflictError
from punchcard.members import service as members
from punchcard.programs.domain import ProgramSettings
from punchcard.referrals import repository as repo
from punchcard.referrals.domain import (
    WEEK_DAYS,
    Evidence,
    Party,
    Settings,
    SignalKind,
    Verdict,
    assess,
    link_for,
    new_code,
    normalise_code,
    normalise_signal,
    settings_problem,
    signal_hash,
)
from punchcard.referrals.errors import InvalidSettingsError

CODE_ATTEMPTS = 8

# --- settings --------------------------------------------------------------------------------


def get_settings(session: Session, *, program_id: int) -> Settings:
    """The program's settings; referrals are off until they are first written."""
    return repo.get_settings(session, program_id) or Settings()


def put_settings(
    session: Session, *, program_id: int, settings: Settings, now: datetime
) -> Settings:
    """Replace the settings. Referrals already made keep the amounts they were made with."""
    settings = replace(settings, min_order_total=Decimal(settings.min_order_total), updated_at=now)
    problem = settings_problem(settings)
    if problem is not None:
        field, message = problem
        raise InvalidSettingsError(message, details={"field": field})
    repo.put_settings(session, program_id, settings)
    return settings


def configured(session: Session, *, program_id: int) -> bool:
    """Whether orders must be shown to referrals: while they are active, and after they were
    switched off as long as a referral made earlier may still be rewarded or voided."""
    return repo.is_active(session, program_id) or repo.has_open_referrals(session, program_id)


# --- codes -----------------------------------------------------------------------------------


def code_for(session: Session, *, program_id: int, member_id: int, now: datetime) -> str:
    """The member's one code, made on the first ask. Two racing first asks end with one code
    (the unique key on the member); a drawn code already taken is drawn again."""
    members.get(session, program_id=program_id, member_id=member_id)
    code = repo.code_of(session, program_id, member_id)
    for _ in range(CODE_ATTEMPTS):
        if code is not None:
            return code
        repo.insert_code(session, program_id, member_id, new_code(), now)
        code = repo.code_of(session, program_id, member_id)
    if code is not None:
        return code
    raise ConflictError(
        "could not allocate a unique referral code; try again", code="referral_code_collision"
    )


def existing_code(session: Session, *, program_id: int, member_id: int) -> str | None:
    members.get(session, program_id=program_id, member_id=member_id)
    return repo.code_of(session, program_id, member_id)


@dataclass(frozen=True)
class Summary:
    member_id: int
    code: str
    link: str | None
    settings: Settings
    stats: dict[str, int]


def summary(session: Session, *, program_id: int, member_id: int, code: str) -> Summary:
    settings = get_settings(session, program_id=program_id)
    stats = repo.referrer_stats(session, program_id, member_id)
    return Summary(member_id, code, link_for(settings.link_template, code), settings, stats)


# --- signals ---------------------------------------------------------------------------------


def signal_hashes(
    program_id: int,
    *,
    device_id: str | None = None,
    payment_fingerprint: str | None = None,
    address: str | None = None,
) -> list[tuple[SignalKind, str]]:
    given = (
        (SignalKind.DEVICE, device_id),
        (SignalKind.PAYMENT, payment_fingerprint),
        (SignalKind.ADDRESS, address),
    )
    return [
        (kind, signal_hash(program_id, kind, value))
        for kind, value in given
        if value is not None and normalise_signal(kind, value)
    ]


def record_signals(
    session: Session,
    *,
    program_id: int,
    member_id: int,
    now: datetime,
    device_id: str | None = None,
    payment_fingerprint: str | None = None,
    address: str | None = None,
) -> list[SignalKind]:
    """Store what a store saw of the member, hashed; the kinds recorded."""
    hashes = signal_hashes(
        program_id, device_id=device_id, payment_fingerprint=payment_fingerprint, address=address
    )
    repo.add_signals(session, program_id, member_id, hashes, now)
    return [kind for kind, _ in hashes]


# --- the referral made at enrolment ------------------------------------------------------------


def enrol(
    session: Session,
    *,
    program: ProgramSettings,
    member_id: int,
    created: bool,
    signup: Signup,
    now: datetime,
) -> dict[str, Any] | None:
    """Record the new member's signals, then the referral if a code came with them, and say
    what became of the code (None without one). A stale code never refuses the sign-up: an
    unknown code, the member's own code or inactive referrals make no referral, and the note
    says `ignored` with the reason. A retried enrolment finds the referral it made before."""
    record_signals(
        session,
        program_id=program.id,
        member_id=member_id,
        now=now,
        device_id=signup.device_id,
        payment_fingerprint=signup.payment_fingerprint,
        address=signup.address,
    )
    if signup.referral_code is None:
        return None
    settings = repo.get_settings(session, program.id)
    if settings is None or not settings.active:
        return ignored(Ignored.INACTIVE)
    found = find_referrer(session, program_id=program.id, text=signup.referral_code)
    if found is None:
        return ignored(Ignored.UNKNOWN)
    referrer_id, code = found
    if referrer_id == member_id:
        return ignored(Ignored.SELF)
    made = repo.find_pair(session, program.id, member_id, referrer_id)
    if made is None:  # not the same enrolment again
        evidence = gather(session, program.id, referrer_id, member_id, created=created, now=now)
        verdict = assess(settings, evidence)
        made = repo.insert_referral(session, _new_referral(program.id, evidence, code, settings,
                                                           verdict, now))  # fmt: skip
        if made is None:  # a racing identical enrolment made it first
            made = repo.find_pair(session, program.id, member_id, referrer_id)
    row = None if made is None else repo.get(session, program.id, made)
    if row is None:  # cannot happen: the pair's unique key holds one row
        return ignored(Ignored.UNKNOWN)
    return {"status": row.status, "reasons": list(row.reasons), "referral_id": row.id}


class Ignored(StrEnum):
    """Why a sign-up's referral code made no referral (the member is enrolled regardless)."""

    UNKNOWN = "referral_code_unknown"
    INACTIVE = "referrals_inactive"
    SELF = "self_referral"


def ignored(reason: Ignored) -> dict[str, Any]:
    return {"status": "ignored", "reason": reason.value}


def find_referrer(session: Session, *, program_id: int, text: str) -> tuple[int, str] | None:
    """The member whose code this is, and the code in canonical form; None for no member's
    code in this program (or text that cannot be a code)."""
    code = normalise_code(text)
    referrer_id = None if code is None else repo.member_of_code(session, program_id, code)
    if code is None or referrer_id is None:
        return None
    return referrer_id, code


def _new_referral(
    program_id: int,
    evidence: Evidence,
    code: str,
    settings: Settings,
    verdict: Verdict,
    now: datetime,
) -> dict[str, object]:
    return {
        "program_id": program_id,
        "referrer_id": evidence.referrer.member_id,
        "referee_id": evidence.referee.member_id,
        "code": code,
        "status": verdict.status.value,
        "reasons": [r.value for r in verdict.reasons],
        "matched": verdict.matched,
        "referrer_points": settings.referrer_points,
        "referee_points": settings.referee_points,
        "min_order_total": settings.min_order_total,
        "created_at": now,
        "updated_at": now,
    }


def gather(
    session: Session,
    program_id: int,
    referrer_id: int,
    referee_id: int,
    *,
    created: bool,
    now: datetime,
    full: bool = True,
) -> Evidence:
    """What the fraud checks look at; not `full`: only what the signal checks need."""
    referrer = members.get(session, program_id=program_id, member_id=referrer_id)
    referee = members.get(session, program_id=program_id, member_id=referee_id)
    signals = repo.signals_of(session, program_id, (referrer_id, referee_id))
    sharing = {
        kind: repo.referees_sharing(
            session, program_id, kind, signals.get(referee_id, {}).get(kind, frozenset()),
            referee_id,
        )
        for kind in (SignalKind.DEVICE, SignalKind.ADDRESS)
    }  # fmt: skip
    return Evidence(
        referrer=Party(referrer_id, referrer.email, referrer.phone, signals.get(referrer_id, {})),
        referee=Party(referee_id, referee.email, referee.phone, signals.get(referee_id, {})),
        created=created,
        referee_has_orders=full and repo.has_orders(session, program_id, referee_id),
        referee_earlier_referrals=repo.count_as_referee(session, program_id, referee_id)
        if full
        else 0,
        referrer_recent_referrals=repo.count_since(
            session, program_id, referrer_id, now - timedelta(days=WEEK_DAYS)
        )
        if full
        else 0,
        sharing=sharing,
    )
