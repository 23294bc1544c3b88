"""The admin's side: the list of referrals (the review queue is `status=review`), and the
approval or rejection of a flagged one."""

from __future__ import annotations

from datetime import datetime
from typing import NoReturn

from sqlalchemy.orm import Session

from punchcard.programs.domain import ProgramSettings
from punchcard.referrals import repository as repo
from punchcard.referrals.domain import Status
from punchcard.referrals.errors import InvalidTransitionError, ReferralNotFoundError
from punchcard.referrals.repository import ReferralRow
from punchcard.referrals.rewarding import reward

REJECTABLE = (Status.REVIEW, Status.PENDING)


def get(session: Session, *, program_id: int, referral_id: int) -> ReferralRow:
    found = repo.get(session, program_id, referral_id)
    if found is None:
        raise ReferralNotFoundError(
            f"referral {referral_id} not found", details={"referral_id": referral_id}
        )
    return found


def list_referrals(
    session: Session,
    *,
    program_id: int,
    before_id: int | None,
    limit: int,
    status: Status | None = None,
    referrer_id: int | None = None,
    referee_id: int | None = None,
) -> list[ReferralRow]:
    """Newest first."""
    return repo.page(
        session,
        program_id,
        before_id=before_id,
        limit=limit,
        status=None if status is None else status.value,
        referrer_id=referrer_id,
        referee_id=referee_id,
    )


def _refuse(referral: ReferralRow, target: Status, allowed: tuple[Status, ...]) -> NoReturn:
    raise InvalidTransitionError(
        f"referral {referral.id} is {referral.status}; only a referral that is "
        f"{' or '.join(s.value for s in allowed)} can become {target.value}",
        details={"referral_id": referral.id, "status": referral.status, "to": target.value},
    )


def approve(
    session: Session,
    *,
    program: ProgramSettings,
    referral_id: int,
    note: str | None,
    now: datetime,
) -> ReferralRow:
    """Clear a flagged referral: it becomes pending, and if the referee's qualifying order
    already happened, both sides are rewarded now, pending until that order's window closes
    (released at once by the next job run when it has already closed)."""
    referral = get(session, program_id=program.id, referral_id=referral_id)
    if not repo.transition(
        session,
        referral.id,
        from_status=[Status.REVIEW],
        values={
            "status": Status.PENDING.value,
            "review_note": note,
            "reviewed_at": now,
            "updated_at": now,
        },
    ):
        _refuse(get(session, program_id=program.id, referral_id=referral_id), Status.PENDING,
                (Status.REVIEW,))  # fmt: skip
    referral = get(session, program_id=program.id, referral_id=referral_id)
    if referral.qualifying_order_id is not None and referral.qualified_at is not None:
        reward(
            session,
            program,
            referral,
            order_id=referral.qualifying_order_id,
            event_id=referral.qualifying_event_id,
            occurred_at=referral.qualified_at,
            now=now,
        )
    return get(session, program_id=program.id, referral_id=referral_id)


def reject(
    session: Session, *, program_id: int, referral_id: int, reason: str, now: datetime
) -> ReferralRow:
    """Close a referral for good: nothing is ever given for it."""
    get(session, program_id=program_id, referral_id=referral_id)
    if not repo.transition(
        session,
        referral_id,
        from_status=REJECTABLE,
        values={
            "status": Status.REJECTED.value,
            "review_note": reason,
            "reviewed_at": now,
            "updated_at": now,
        },
    ):
        _refuse(get(session, program_id=program_id, referral_id=referral_id), Status.REJECTED,
                REJECTABLE)  # fmt: skip
    return get(session, program_id=program_id, referral_id=referral_id)
