"""/v1/codes/...: the store checks a code against an order, then uses it."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel
from sqlalchemy.orm import Session

from punchcard.api.deps import DbDep, IdempotencyKey, NowDep, Writer
from punchcard.api.schemas import errors
from punchcard.api.writes import run_write
from punchcard.redemptions import checkout
from punchcard.redemptions.schemas import (
    RedeemCodeIn,
    RedemptionOut,
    ValidateIn,
    ValidationOut,
)

router = APIRouter(prefix="/v1/codes", tags=["checkout"])


@router.post(
    "/validate",
    response_model=ValidationOut,
    response_model_exclude_none=True,
    responses=errors(400, 403),
)
def validate(body: ValidateIn, who: Writer, db: DbDep, now: NowDep) -> ValidationOut:
    """Is the code good, and what does it take off? Always 200: `{"valid": true, "type",
    "discount", "expires_at", "redemption_id"}` or `{"valid": false, "reason"}` with
    `code_invalid` (unknown, expired or cancelled: one answer) or `code_used`. Codes are read
    in any case, with or without dashes."""
    with db.reader() as session:
        result = checkout.validate(
            session,
            program_id=who.program_id,
            code=body.code,
            order_total=body.order_total,
            now=now,
        )
    return ValidationOut.of(result)


@router.post("/redeem", response_model=RedemptionOut, responses=errors(400, 403, 409))
def redeem(
    body: RedeemCodeIn,
    request: Request,
    who: Writer,
    db: DbDep,
    now: NowDep,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Use the code for `order_id`. The same order again: the same 200 (safe to retry);
    another order: 409 `code_used`; unknown, expired or cancelled: 409 `code_invalid`."""

    def handler(session: Session) -> tuple[int, BaseModel]:
        row = checkout.redeem_code(
            session, program_id=who.program_id, code=body.code, order_id=body.order_id, now=now
        )
        return 200, RedemptionOut.of(row)

    return run_write(request, db, who, now, body, handler, idempotency_key)
