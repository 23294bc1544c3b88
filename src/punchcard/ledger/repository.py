"""Every SQL statement that writes or reads the journal, lots and balances."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, func, insert, select, update
from sqlalchemy.orm import Session

from punchcard.db import rowcount
from punchcard.ledger.domain import (
    BalanceDelta,
    BalanceView,
    Kind,
    LotView,
    Plan,
    transaction_digest,
)
from punchcard.models import Balance, LedgerTransaction, Lot, LotEntry, PendingCredit, Posting
from punchcard.models.base import table_of


@dataclass(frozen=True)
class TransactionHeader:
    program_id: int
    member_id: int
    reason: str
    reference: str | None
    occurred_at: datetime
    created_at: datetime
    reverses_id: int | None = None
    meta: dict[str, Any] | None = None


# Hot statements are built once: constructing SQLAlchemy expressions per call costs more CPU
# than executing the cached statement.
_LOCK = (
    select(Balance.available, Balance.pending, Balance.debt)
    .where(Balance.program_id == bindparam("p"), Balance.member_id == bindparam("m"))
    .with_for_update()
)
_APPLY = (
    update(Balance)
    .where(
        Balance.program_id == bindparam("p"),
        Balance.member_id == bindparam("m"),
        Balance.available + bindparam("da") >= 0,
        Balance.pending + bindparam("dp") >= 0,
        Balance.debt + bindparam("dd") >= 0,
    )
    .values(
        available=Balance.available + bindparam("da"),
        pending=Balance.pending + bindparam("dp"),
        debt=Balance.debt + bindparam("dd"),
        lifetime_earned=Balance.lifetime_earned + bindparam("dl"),
    )
)
_INSERT_TX = insert(table_of(LedgerTransaction)).returning(LedgerTransaction.id)
_INSERT_LOT = insert(table_of(Lot)).returning(Lot.id)
_MOVE_LOT = (
    update(Lot)
    .where(
        Lot.id == bindparam("lot"),
        Lot.member_id == bindparam("m"),
        Lot.remaining + bindparam("n") >= 0,
        Lot.remaining + bindparam("n") <= Lot.points,
    )
    .values(remaining=Lot.remaining + bindparam("n"))
)
_OPEN_LOTS = select(Lot.id, Lot.remaining, Lot.earned_at, Lot.expires_at).where(
    Lot.program_id == bindparam("p"), Lot.member_id == bindparam("m"), Lot.remaining > 0
)


def create_balance(session: Session, program_id: int, member_id: int) -> None:
    session.execute(
        insert(table_of(Balance)).values(
            program_id=program_id,
            member_id=member_id,
            available=0,
            pending=0,
            debt=0,
            lifetime_earned=0,
        )
    )


def lock_balance(session: Session, program_id: int, member_id: int) -> BalanceView | None:
    """Row-lock the member's balance: every ledger write takes this lock first, so writes to
    one member queue up and lots are never consumed twice."""
    row = session.execute(_LOCK, {"p": program_id, "m": member_id}).one_or_none()
    return None if row is None else BalanceView(row.available, row.pending, row.debt)


def apply_delta(session: Session, program_id: int, member_id: int, delta: BalanceDelta) -> bool:
    """Guarded update: refuses (returns False) rather than let any balance go negative."""
    result = session.execute(
        _APPLY,
        {
            "p": program_id,
            "m": member_id,
            "da": delta.available,
            "dp": delta.pending,
            "dd": delta.debt,
            "dl": delta.lifetime_earned,
        },
    )
    return rowcount(result) == 1


def open_lots(session: Session, program_id: int, member_id: int) -> list[LotView]:
    rows = session.execute(_OPEN_LOTS, {"p": program_id, "m": member_id}).all()
    return [LotView(r.id, r.remaining, r.earned_at, r.expires_at) for r in rows]


def write_transaction(
    session: Session,
    header: TransactionHeader,
    plan: Plan,
    *,
    lot_expires_at: datetime | None = None,
    lot_earned_at: datetime | None = None,
) -> int:
    """Insert the transaction, its postings, its lot moves and new lot; returns its id."""
    digest = transaction_digest(
        program_id=header.program_id,
        member_id=header.member_id,
        kind=plan.kind.value,
        points=plan.points,
        reason=header.reason,
        reference=header.reference,
        reverses_id=header.reverses_id,
        occurred_at=header.occurred_at,
        legs=[(p.account.value, p.amount) for p in plan.postings],
    )
    tx_id: int = session.execute(
        _INSERT_TX,
        {
            "program_id": header.program_id,
            "member_id": header.member_id,
            "kind": plan.kind.value,
            "points": plan.points,
            "reason": header.reason,
            "reference": header.reference,
            "reverses_id": header.reverses_id,
            "occurred_at": header.occurred_at,
            "created_at": header.created_at,
            "meta": json.dumps(header.meta, sort_keys=True) if header.meta else None,
            "digest": digest,
        },
    ).scalar_one()
    session.execute(
        insert(table_of(Posting)),
        [
            {
                "program_id": header.program_id,
                "transaction_id": tx_id,
                "member_id": header.member_id,
                "account": p.account.value,
                "amount": p.amount,
            }
            for p in plan.postings
        ],
    )
    entries = list(plan.lot_moves)
    for lot_id, amount in plan.lot_moves:
        params = {"lot": lot_id, "m": header.member_id, "n": amount}
        if rowcount(session.execute(_MOVE_LOT, params)) != 1:
            raise RuntimeError(f"lot {lot_id} cannot move by {amount}: ledger state changed")
    if plan.new_lot_points:
        # A new lot starts full; its creating entry keeps "remaining = sum of entries" true.
        lot_id = session.execute(
            _INSERT_LOT,
            {
                "program_id": header.program_id,
                "member_id": header.member_id,
                "transaction_id": tx_id,
                "points": plan.new_lot_points,
                "remaining": plan.new_lot_points,
                "earned_at": lot_earned_at or header.occurred_at,
                "expires_at": lot_expires_at,
            },
        ).scalar_one()
        entries.append((lot_id, plan.new_lot_points))
    if entries:
        _record_lot_entries(session, header, tx_id, entries)
    return tx_id


def _record_lot_entries(
    session: Session, header: TransactionHeader, tx_id: int, moves: Sequence[tuple[int, int]]
) -> None:
    session.execute(
        insert(table_of(LotEntry)),
        [
            {
                "program_id": header.program_id,
                "member_id": header.member_id,
                "transaction_id": tx_id,
                "lot_id": lot_id,
                "amount": amount,
            }
            for lot_id, amount in moves
        ],
    )


def add_pending_credit(
    session: Session, header: TransactionHeader, tx_id: int, points: int, release_at: datetime
) -> None:
    session.execute(
        insert(table_of(PendingCredit)).values(
            program_id=header.program_id,
            member_id=header.member_id,
            transaction_id=tx_id,
            points=points,
            remaining=points,
            release_at=release_at,
            status="pending",
        )
    )


@dataclass(frozen=True)
class PendingView:
    id: int
    transaction_id: int
    remaining: int
    release_at: datetime
    status: str
    resolved_transaction_id: int | None


def _pending_select() -> Any:
    return select(
        PendingCredit.id,
        PendingCredit.transaction_id,
        PendingCredit.remaining,
        PendingCredit.release_at,
        PendingCredit.status,
        PendingCredit.resolved_transaction_id,
    )


def due_pending(
    session: Session, program_id: int, member_id: int, now: datetime
) -> list[PendingView]:
    rows = session.execute(
        _pending_select()
        .where(
            PendingCredit.program_id == program_id,
            PendingCredit.member_id == member_id,
            PendingCredit.status == "pending",
            PendingCredit.release_at <= now,
        )
        .order_by(PendingCredit.release_at, PendingCredit.id)
    ).all()
    return [PendingView(*row) for row in rows]


def pending_for_transaction(session: Session, tx_id: int) -> PendingView | None:
    row = session.execute(
        _pending_select().where(PendingCredit.transaction_id == tx_id)
    ).one_or_none()
    return None if row is None else PendingView(*row)


def resolve_pending(
    session: Session, pending_id: int, *, take: int, status: str, resolved_tx: int | None
) -> None:
    """Guarded: a pending credit is released or voided exactly once, even by racing jobs."""
    values: dict[str, Any] = {"remaining": PendingCredit.remaining - take}
    if status != "pending":
        values["status"] = status
    if resolved_tx is not None:
        values["resolved_transaction_id"] = resolved_tx
    result = session.execute(
        update(PendingCredit)
        .where(
            PendingCredit.id == pending_id,
            PendingCredit.status == "pending",
            PendingCredit.remaining >= take,
        )
        .values(**values)
    )
    if rowcount(result) != 1:
        raise RuntimeError(f"pending credit {pending_id} was resolved concurrently")


@dataclass(frozen=True)
class TransactionRow:
    id: int
    member_id: int
    kind: Kind
    points: int
    reverses_id: int | None


def get_transaction(
    session: Session, program_id: int, member_id: int, tx_id: int
) -> TransactionRow | None:
    row = session.execute(
        select(
            LedgerTransaction.id,
            LedgerTransaction.member_id,
            LedgerTransaction.kind,
            LedgerTransaction.points,
            LedgerTransaction.reverses_id,
        ).where(
            LedgerTransaction.id == tx_id,
            LedgerTransaction.program_id == program_id,
            LedgerTransaction.member_id == member_id,
        )
    ).one_or_none()
    if row is None:
        return None
    return TransactionRow(row.id, row.member_id, Kind(row.kind), row.points, row.reverses_id)


def reversed_so_far(session: Session, tx_id: int) -> int:
    total = session.execute(
        select(func.coalesce(func.sum(LedgerTransaction.points), 0)).where(
            LedgerTransaction.reverses_id == tx_id
        )
    ).scalar_one()
    return int(total)


def lots_created_by(session: Session, tx_ids: Sequence[int]) -> list[LotView]:
    rows = session.execute(
        select(Lot.id, Lot.remaining, Lot.earned_at, Lot.expires_at).where(
            Lot.transaction_id.in_(tx_ids)
        )
    ).all()
    return [LotView(r.id, r.remaining, r.earned_at, r.expires_at) for r in rows]


def expired_unspent(session: Session, original_id: int, lot_ids: Sequence[int]) -> int:
    """Points of these lots that expired unspent, less what earlier reversals of the original
    credit already wrote back from the expired account."""
    expired = session.execute(
        select(func.coalesce(func.sum(LotEntry.amount), 0))
        .join(LedgerTransaction, LedgerTransaction.id == LotEntry.transaction_id)
        .where(LotEntry.lot_id.in_(lot_ids), LedgerTransaction.kind == Kind.EXPIRE.value)
    ).scalar_one()
    written_back = session.execute(
        select(func.coalesce(func.sum(Posting.amount), 0))
        .join(LedgerTransaction, LedgerTransaction.id == Posting.transaction_id)
        .where(LedgerTransaction.reverses_id == original_id, Posting.account == "program:expired")
    ).scalar_one()
    return max(0, -int(expired) + int(written_back))


def restorable_lots(session: Session, tx_id: int) -> list[tuple[int, int]]:
    """(lot id, points) a debit took and its earlier reversals have not yet given back,
    in the order the debit consumed them."""
    reversal_ids = select(LedgerTransaction.id).where(LedgerTransaction.reverses_id == tx_id)
    taken = session.execute(
        select(LotEntry.lot_id, LotEntry.amount)
        .where(LotEntry.transaction_id == tx_id)
        .order_by(LotEntry.id)
    ).all()
    given = dict(
        session.execute(
            select(LotEntry.lot_id, func.sum(LotEntry.amount))
            .where(LotEntry.transaction_id.in_(reversal_ids))
            .group_by(LotEntry.lot_id)
        ).all()
    )
    result = []
    for lot_id, amount in taken:
        left = -amount - int(given.get(lot_id, 0))
        result.append((lot_id, max(left, 0)))
    return result


def due_lots(session: Session, program_id: int, member_id: int, now: datetime) -> list[LotView]:
    rows = session.execute(
        select(Lot.id, Lot.remaining, Lot.earned_at, Lot.expires_at)
        .where(
            Lot.program_id == program_id,
            Lot.member_id == member_id,
            Lot.remaining > 0,
            Lot.expires_at <= now,
        )
        .order_by(Lot.expires_at, Lot.id)
    ).all()
    return [LotView(r.id, r.remaining, r.earned_at, r.expires_at) for r in rows]


def members_with_due_lots(
    session: Session, now: datetime, limit: int, after: tuple[int, int] = (0, 0)
) -> list[tuple[int, int]]:
    """(program id, member id) pairs with lots to expire, in key order, for batched jobs."""
    return _due_members(
        session,
        select(Lot.program_id, Lot.member_id)
        .where(Lot.remaining > 0, Lot.expires_at <= now)
        .distinct(),
        Lot,
        limit,
        after,
    )


def members_with_due_pending(
    session: Session, now: datetime, limit: int, after: tuple[int, int] = (0, 0)
) -> list[tuple[int, int]]:
    return _due_members(
        session,
        select(PendingCredit.program_id, PendingCredit.member_id)
        .where(PendingCredit.status == "pending", PendingCredit.release_at <= now)
        .distinct(),
        PendingCredit,
        limit,
        after,
    )


def _due_members(
    session: Session, query: Any, table: Any, limit: int, after: tuple[int, int]
) -> list[tuple[int, int]]:
    program_id, member_id = after
    query = query.where(
        (table.program_id > program_id)
        | and_(table.program_id == program_id, table.member_id > member_id)
    ).order_by(table.program_id, table.member_id)
    return [(int(r[0]), int(r[1])) for r in session.execute(query.limit(limit)).all()]


def create_balances(session: Session, program_id: int, member_ids: list[int]) -> None:
    if member_ids:
        session.execute(
            insert(table_of(Balance)),
            [
                {
                    "program_id": program_id,
                    "member_id": m,
                    "available": 0,
                    "pending": 0,
                    "debt": 0,
                    "lifetime_earned": 0,
                }
                for m in member_ids
            ],
        )
