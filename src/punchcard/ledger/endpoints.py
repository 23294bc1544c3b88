"""/v1/members/{id}/...: balance, history, spending, adjustments and reversals."""

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
from punchcard.ledger import queries, reversals, service
from punchcard.ledger.domain import Kind
from punchcard.ledger.schemas import (
    AdjustmentIn,
    BalanceOut,
    ReversalIn,
    SpendIn,
    TransactionOut,
    TransactionPage,
)
from punchcard.programs import service as programs
from punchcard.programs.domain import Scope

router = APIRouter(prefix="/v1/members/{member_id}", tags=["ledger"])


@router.get("/balance", response_model=BalanceOut, responses=errors(403, 404))
def get_balance(member_id: Id, who: Reader, db: DbDep, now: NowDep) -> BalanceOut:
    """What the member can spend now: points past their expiry date are never counted."""
    with db.reader() as session:
        return BalanceOut.of(queries.balance(session, who.program_id, member_id, now))


@router.get("/transactions", response_model=TransactionPage, responses=errors(403, 404))
def list_transactions(
    member_id: Id,
    who: Reader,
    db: DbDep,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> TransactionPage:
    """Newest first, each with its postings and the lots it touched."""
    before = paging.position(cursor)
    with db.reader() as session:
        queries.balance(session, who.program_id, member_id)  # 404 for unknown members
        page, last = queries.transactions_page(
            session, who.program_id, member_id, before_id=before, limit=limit
        )
    return TransactionPage(
        items=[TransactionOut.of(t) for t in page],
        next_cursor=cursors.encode(last) if last is not None else None,
    )


@router.get(
    "/transactions/{transaction_id}", response_model=TransactionOut, responses=errors(403, 404)
)
def get_transaction(member_id: Id, transaction_id: Id, who: Reader, db: DbDep) -> TransactionOut:
    with db.reader() as session:
        return TransactionOut.of(
            queries.transaction(session, who.program_id, member_id, transaction_id)
        )


@router.post(
    "/spend", status_code=201, response_model=TransactionOut, responses=errors(400, 403, 404, 409)
)
def spend(
    member_id: Id,
    body: SpendIn,
    request: Request,
    who: Writer,
    db: DbDep,
    now: NowDep,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Spend available points, nearest-expiry first; 409 `insufficient_points` when short,
    409 `debt_outstanding` while the member owes points from a reversal."""

    def handler(session: Session) -> tuple[int, BaseModel]:
        program = programs.get_program(session, who.program_id)
        tx_id = service.debit(
            session,
            program=program,
            member_id=member_id,
            points=body.points,
            reason=body.reason,
            reference=body.reference,
            now=now,
        )
        return 201, _written(session, program.id, member_id, tx_id)

    return run_write(request, db, who, now, body, handler, idempotency_key)


@router.post(
    "/adjustments",
    status_code=201,
    response_model=TransactionOut,
    responses=errors(400, 403, 404, 409),
)
def adjust(
    member_id: Id,
    body: AdjustmentIn,
    request: Request,
    who: Admin,
    db: DbDep,
    now: NowDep,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Credit (positive) or debit (negative) points by hand, with the reason recorded."""

    def handler(session: Session) -> tuple[int, BaseModel]:
        program = programs.get_program(session, who.program_id)
        tx_id = service.adjust(
            session,
            program=program,
            member_id=member_id,
            points=body.points,
            reason=body.reason,
            reference=body.reference,
            now=now,
            meta={"api_key_id": who.key_id},
        )
        return 201, _written(session, program.id, member_id, tx_id)

    return run_write(request, db, who, now, body, handler, idempotency_key)


@router.post(
    "/transactions/{transaction_id}/reversals",
    status_code=201,
    response_model=TransactionOut,
    responses=errors(400, 403, 404, 409),
)
def reverse(
    member_id: Id,
    transaction_id: Id,
    body: ReversalIn,
    request: Request,
    who: Writer,
    db: DbDep,
    now: NowDep,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Reverse a transaction, wholly or in part, as a new linked transaction. Storefront and
    POS keys may reverse spends (a cancelled checkout); credits and adjustments need admin."""
    only = None if Scope.ADMIN in who.scopes else frozenset({Kind.SPEND})

    def handler(session: Session) -> tuple[int, BaseModel]:
        program = programs.get_program(session, who.program_id)
        tx_id = reversals.reverse(
            session,
            program=program,
            member_id=member_id,
            transaction_id=transaction_id,
            points=body.points,
            reason=body.reason,
            reference=body.reference,
            now=now,
            only_kinds=only,
        )
        return 201, _written(session, program.id, member_id, tx_id)

    return run_write(request, db, who, now, body, handler, idempotency_key)


def _written(session: Session, program_id: int, member_id: int, tx_id: int) -> TransactionOut:
    return TransactionOut.of(queries.transaction(session, program_id, member_id, tx_id))
