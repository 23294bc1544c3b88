"""/v1/referrals and /v1/members/{id}/referral|signals: settings, each member's code and
link, the signals a store reports, and the admin's review of flagged referrals."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel
from sqlalchemy.orm import Session

from punchcard.api import paging
from punchcard.api.deps import Admin, DbDep, IdempotencyKey, NowDep, Reader, Writer
from punchcard.api.params import Id
from punchcard.api.schemas import errors
from punchcard.api.writes import run_write
from punchcard.engagement.writes import run_config_write
from punchcard.kit import cursor as cursors
from punchcard.members import service as members
from punchcard.programs import service as programs
from punchcard.referrals import review, service
from punchcard.referrals.domain import Status
from punchcard.referrals.errors import NoSignalsError
from punchcard.referrals.schemas import (
    ApproveIn,
    MemberReferralOut,
    ReferralOut,
    ReferralPage,
    RejectIn,
    SettingsIn,
    SettingsOut,
    SignalsIn,
    SignalsOut,
)

router = APIRouter(tags=["referrals"])


@router.get("/v1/referrals/settings", response_model=SettingsOut, responses=errors(403))
def get_settings(who: Admin, db: DbDep) -> SettingsOut:
    """The program's referral settings; inactive defaults before the first PUT."""
    with db.reader() as session:
        return SettingsOut.of(service.get_settings(session, program_id=who.program_id))


@router.put("/v1/referrals/settings", response_model=SettingsOut, responses=errors(400, 403, 409))
def put_settings(
    body: SettingsIn,
    request: Request,
    who: Admin,
    db: DbDep,
    now: NowDep,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Replace the settings. 422 `invalid_referral_settings` (with `details.field`) when they
    make no sense. Referrals already made keep the amounts they were made with."""

    def handler(session: Session) -> tuple[int, BaseModel]:
        settings = service.put_settings(
            session, program_id=who.program_id, settings=body.settings(), now=now
        )
        return 200, SettingsOut.of(settings)

    return run_config_write(request, db, who, now, body, handler, idempotency_key)


@router.get(
    "/v1/members/{member_id}/referral",
    response_model=MemberReferralOut,
    responses=errors(403, 404),
    tags=["members"],
)
def member_referral(member_id: Id, who: Reader, db: DbDep, now: NowDep) -> MemberReferralOut:
    """The member's referral code (made on the first ask, the same ever after), their link,
    and how their referrals stand."""
    with db.reader() as session:
        code = service.existing_code(session, program_id=who.program_id, member_id=member_id)
    if code is None:
        with db.writer() as session:
            code = service.code_for(
                session, program_id=who.program_id, member_id=member_id, now=now
            )
            session.commit()
    with db.reader() as session:
        found = service.summary(session, program_id=who.program_id, member_id=member_id, code=code)
    return MemberReferralOut.of(found)


@router.post(
    "/v1/members/{member_id}/signals",
    response_model=SignalsOut,
    responses=errors(400, 403, 404, 409),
    tags=["members"],
)
def report_signals(
    member_id: Id,
    body: SignalsIn,
    request: Request,
    who: Writer,
    db: DbDep,
    now: NowDep,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """What a store saw of the member (at checkout, say): stored only as hashes, compared by
    the referral fraud checks. 422 `no_signals` when the body holds none."""

    def handler(session: Session) -> tuple[int, BaseModel]:
        members.get(session, program_id=who.program_id, member_id=member_id)
        recorded = service.record_signals(
            session, program_id=who.program_id, member_id=member_id, now=now, **body.model_dump()
        )
        if not recorded:
            raise NoSignalsError("give at least one of device_id, payment_fingerprint, address")
        return 200, SignalsOut(member_id=member_id, recorded=[k.value for k in recorded])

    return run_write(request, db, who, now, body, handler, idempotency_key)


@router.get("/v1/referrals", response_model=ReferralPage, responses=errors(403))
def list_referrals(
    who: Admin,
    db: DbDep,
    status: Status | None = None,
    referrer_id: Annotated[int | None, Query(ge=1, le=cursors.MAX_ID)] = None,
    referee_id: Annotated[int | None, Query(ge=1, le=cursors.MAX_ID)] = None,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> ReferralPage:
    """Referrals, newest first, with the fraud checks' reasons and what matched;
    `status=review` is the review queue."""
    before = paging.position(cursor)
    with db.reader() as session:
        rows = review.list_referrals(
            session,
            program_id=who.program_id,
            before_id=before,
            limit=limit + 1,
            status=status,
            referrer_id=referrer_id,
            referee_id=referee_id,
        )
    page = rows[:limit]
    return ReferralPage(
        items=[ReferralOut.of(r) for r in page],
        next_cursor=cursors.encode(page[-1].id) if len(rows) > limit else None,
    )


@router.get("/v1/referrals/{referral_id}", response_model=ReferralOut, responses=errors(403, 404))
def get_referral(referral_id: Id, who: Admin, db: DbDep) -> ReferralOut:
    with db.reader() as session:
        return ReferralOut.of(
            review.get(session, program_id=who.program_id, referral_id=referral_id)
        )


@router.post(
    "/v1/referrals/{referral_id}/approve",
    response_model=ReferralOut,
    responses=errors(400, 403, 404, 409),
)
def approve_referral(
    referral_id: Id,
    body: ApproveIn,
    request: Request,
    who: Admin,
    db: DbDep,
    now: NowDep,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Clear a referral in review: it becomes pending, or rewarded at once if the referee's
    qualifying order already happened. 409 `invalid_referral_transition` otherwise."""

    def handler(session: Session) -> tuple[int, BaseModel]:
        program = programs.get_program(session, who.program_id)
        row = review.approve(
            session, program=program, referral_id=referral_id, note=body.note, now=now
        )
        return 200, ReferralOut.of(row)

    return run_write(request, db, who, now, body, handler, idempotency_key)


@router.post(
    "/v1/referrals/{referral_id}/reject",
    response_model=ReferralOut,
    responses=errors(400, 403, 404, 409),
)
def reject_referral(
    referral_id: Id,
    body: RejectIn,
    request: Request,
    who: Admin,
    db: DbDep,
    now: NowDep,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Close a referral in review (or still pending) for good, with the reason.
    409 `invalid_referral_transition` for one already rewarded, voided or rejected."""

    def handler(session: Session) -> tuple[int, BaseModel]:
        row = review.reject(
            session, program_id=who.program_id, referral_id=referral_id, reason=body.reason,
            now=now,
        )  # fmt: skip
        return 200, ReferralOut.of(row)

    return run_write(request, db, who, now, body, handler, idempotency_key)
