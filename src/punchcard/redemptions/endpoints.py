"""HTTP routes of redemptions: the member's side (redeem, wallet, cancel, pay with points,
impact) here, the store's checkout side in `checkout_endpoints`."""

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
from punchcard.kit import cursor as cursors
from punchcard.members import service as members
from punchcard.programs import service as programs
from punchcard.redemptions import grants, payments, service
from punchcard.redemptions import repository as repo
from punchcard.redemptions.checkout_endpoints import router as checkout_router
from punchcard.redemptions.errors import RewardNotFoundError
from punchcard.redemptions.schemas import (
    AttendeeOut,
    AttendeePage,
    CauseImpactOut,
    ImpactOut,
    PointsPaymentIn,
    RedeemIn,
    RedemptionOut,
    RedemptionPage,
)
from punchcard.redemptions.sealing import sealer_for
from punchcard.rewards import repository as rewards_repo

router = APIRouter(tags=["redemptions"])
router.include_router(checkout_router)
MEMBER = "/v1/members/{member_id}"
Limit = Annotated[int, Query(ge=1, le=200)]


@router.post(
    MEMBER + "/redemptions",
    status_code=201,
    response_model=RedemptionOut,
    responses=errors(400, 403, 404, 409),
)
def redeem(
    member_id: Id,
    body: RedeemIn,
    request: Request,
    who: Writer,
    db: DbDep,
    now: NowDep,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Spend points on a reward: the debit, the stock and the benefit in one transaction. Code
    rewards answer with the code, once (a retry with the same Idempotency-Key gets it again);
    409 `insufficient_points`, `out_of_stock`, `limit_reached`, `not_eligible`,
    `reward_inactive`, `debt_outstanding`."""

    def handler(session: Session) -> tuple[int, BaseModel]:
        issued = service.redeem(
            session,
            program=programs.get_program(session, who.program_id),
            member_id=member_id,
            reward_id=body.reward_id,
            channel=body.channel,
            now=now,
        )
        return 201, RedemptionOut.of(issued.redemption, issued.code)

    sealer = sealer_for(request.app.state.settings)
    return run_write(request, db, who, now, body, handler, idempotency_key, sealer)


@router.post(
    MEMBER + "/points-payments",
    status_code=201,
    response_model=RedemptionOut,
    responses=errors(400, 403, 404, 409),
)
def pay_with_points(
    member_id: Id,
    body: PointsPaymentIn,
    request: Request,
    who: Writer,
    db: DbDep,
    now: NowDep,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Points as money off one order: a code for the amount, used at checkout like a
    fixed-amount discount. Send `points` or `amount`; the amount is capped at the program's
    share of `order_total` (the response says `details.capped`). 409 `points_payment_off`."""

    def handler(session: Session) -> tuple[int, BaseModel]:
        issued = payments.pay_with_points(
            session,
            program=programs.get_program(session, who.program_id),
            member_id=member_id,
            order_total=body.order_total,
            points=body.points,
            amount=body.amount,
            now=now,
        )
        return 201, RedemptionOut.of(issued.redemption, issued.code)

    sealer = sealer_for(request.app.state.settings)
    return run_write(request, db, who, now, body, handler, idempotency_key, sealer)


@router.get(MEMBER + "/redemptions", response_model=RedemptionPage, responses=errors(403, 404))
def list_redemptions(
    member_id: Id, who: Reader, db: DbDep, cursor: str | None = None, limit: Limit = 50
) -> RedemptionPage:
    """The member's wallet, newest first. Codes are never shown again: their hint, status
    and expiry are."""
    before = _decode(cursor)
    with db.reader() as session:
        members.get(session, program_id=who.program_id, member_id=member_id)
        rows = repo.page_for_member(
            session, who.program_id, member_id, before_id=before, limit=limit + 1
        )
    more = len(rows) > limit
    rows = rows[:limit]
    return RedemptionPage(
        items=[RedemptionOut.of(r) for r in rows],
        next_cursor=cursors.encode(rows[-1].id) if more else None,
    )


@router.get(
    MEMBER + "/redemptions/{redemption_id}",
    response_model=RedemptionOut,
    responses=errors(403, 404),
)
def get_redemption(member_id: Id, redemption_id: Id, who: Reader, db: DbDep) -> RedemptionOut:
    with db.reader() as session:
        return RedemptionOut.of(
            service.get(
                session, program_id=who.program_id, member_id=member_id, redemption_id=redemption_id
            )
        )


@router.post(
    MEMBER + "/redemptions/{redemption_id}/cancel",
    response_model=RedemptionOut,
    responses=errors(400, 403, 404, 409),
)
def cancel(
    member_id: Id,
    redemption_id: Id,
    request: Request,
    who: Writer,
    db: DbDep,
    now: NowDep,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Give the points back (a reversal linked to the debit) and the stock, once: 409
    `already_cancelled`, `code_used`, `code_expired`, `not_cancellable`."""

    def handler(session: Session) -> tuple[int, BaseModel]:
        row = service.cancel(
            session,
            program=programs.get_program(session, who.program_id),
            member_id=member_id,
            redemption_id=redemption_id,
            now=now,
        )
        return 200, RedemptionOut.of(row)

    return run_write(request, db, who, now, None, handler, idempotency_key)


@router.post(
    MEMBER + "/redemptions/{redemption_id}/code",
    response_model=RedemptionOut,
    responses=errors(400, 403, 404, 409),
)
def reveal_code(
    member_id: Id,
    redemption_id: Id,
    request: Request,
    who: Writer,
    db: DbDep,
    now: NowDep,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """The code of a reward granted free (by a challenge), made now and shown in this
    response only (a retry with the same Idempotency-Key gets it again); 409
    `no_code_to_reveal`, `code_expired`, `already_cancelled`, `code_used`."""

    def handler(session: Session) -> tuple[int, BaseModel]:
        issued = grants.reveal_code(
            session,
            program_id=who.program_id,
            member_id=member_id,
            redemption_id=redemption_id,
            now=now,
        )
        return 200, RedemptionOut.of(issued.redemption, issued.code)

    sealer = sealer_for(request.app.state.settings)
    return run_write(request, db, who, now, None, handler, idempotency_key, sealer)


@router.get(MEMBER + "/impact", response_model=ImpactOut, responses=errors(403, 404))
def impact(member_id: Id, who: Reader, db: DbDep) -> ImpactOut:
    """What the member's donations achieved, per cause."""
    with db.reader() as session:
        members.get(session, program_id=who.program_id, member_id=member_id)
        causes = service.impact(session, program_id=who.program_id, member_id=member_id)
    return ImpactOut(
        member_id=member_id,
        causes=[CauseImpactOut.of(entry, units) for entry, units in causes],
        total_points=sum(entry.points for entry, _ in causes),
        total_donations=sum(entry.donations for entry, _ in causes),
    )


@router.get(
    "/v1/rewards/{reward_id}/attendees", response_model=AttendeePage, responses=errors(403, 404)
)
def attendees(
    reward_id: Id, who: Admin, db: DbDep, cursor: str | None = None, limit: Limit = 100
) -> AttendeePage:
    """Who holds a place (reserved, or used): for an experience, the guest list."""
    after = _decode(cursor)
    with db.reader() as session:
        reward = rewards_repo.get_view(session, who.program_id, reward_id)
        if reward is None:
            raise RewardNotFoundError(
                f"reward {reward_id} not found", details={"reward_id": reward_id}
            )
        rows = repo.attendees(session, who.program_id, reward_id, after_id=after, limit=limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    return AttendeePage(
        reward_id=reward_id,
        capacity=reward.stock,
        taken=reward.claimed,
        items=[AttendeeOut.of(r) for r in rows],
        next_cursor=cursors.encode(rows[-1].redemption_id) if more else None,
    )


def _decode(cursor: str | None) -> int | None:
    return paging.position(cursor)
