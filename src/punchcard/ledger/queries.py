"""The ledger's read side: balances, expiring points and the history with its postings."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from punchcard.ledger.errors import MemberNotFoundError, TransactionNotFoundError
from punchcard.models import Balance, LedgerTransaction, Lot, LotEntry, Posting


@dataclass(frozen=True)
class Expiring:
    points: int
    expires_at: datetime


@dataclass(frozen=True)
class BalanceSummary:
    available: int
    pending: int
    debt: int
    lifetime_earned: int
    expiring: list[Expiring]


def balance(
    session: Session, program_id: int, member_id: int, now: datetime | None = None
) -> BalanceSummary:
    """With `now`, points whose expiry has passed but that the job has not swept yet are left
    out of `available` (the job, or the member's next spend or reversal, expires them);
    without, the stored values."""
    row = session.execute(
        select(Balance.available, Balance.pending, Balance.debt, Balance.lifetime_earned).where(
            Balance.program_id == program_id, Balance.member_id == member_id
        )
    ).one_or_none()
    if row is None:
        raise MemberNotFoundError(f"member {member_id} not found", details={"member_id": member_id})
    expiring = session.execute(
        select(Lot.expires_at, func.sum(Lot.remaining))
        .where(
            Lot.program_id == program_id,
            Lot.member_id == member_id,
            Lot.remaining > 0,
            Lot.expires_at.is_not(None),
        )
        .group_by(Lot.expires_at)
        .order_by(Lot.expires_at)
    ).all()
    lots = [Expiring(int(points), at) for at, points in expiring if at is not None]
    overdue = sum(e.points for e in lots if now is not None and e.expires_at <= now)
    return BalanceSummary(
        row.available - overdue,
        row.pending,
        row.debt,
        row.lifetime_earned,
        [e for e in lots if now is None or e.expires_at > now],
    )


@dataclass
class TransactionDetail:
    id: int
    member_id: int
    kind: str
    points: int
    reason: str
    reference: str | None
    reverses_id: int | None
    occurred_at: datetime
    created_at: datetime
    meta: dict[str, Any] | None
    postings: list[tuple[str, int]] = field(default_factory=list)
    lots: list[tuple[int, int]] = field(default_factory=list)


_COLUMNS = (
    LedgerTransaction.id,
    LedgerTransaction.member_id,
    LedgerTransaction.kind,
    LedgerTransaction.points,
    LedgerTransaction.reason,
    LedgerTransaction.reference,
    LedgerTransaction.reverses_id,
    LedgerTransaction.occurred_at,
    LedgerTransaction.created_at,
    LedgerTransaction.meta,
)


def _detail(row: Any) -> TransactionDetail:
    return TransactionDetail(
        row.id,
        row.member_id,
        row.kind,
        row.points,
        row.reason,
        row.reference,
        row.reverses_id,
        row.occurred_at,
        row.created_at,
        json.loads(row.meta) if row.meta else None,
    )


def _attach(session: Session, details: list[TransactionDetail]) -> list[TransactionDetail]:
    """Two queries for a whole page: its postings and its lot movements."""
    by_id = {d.id: d for d in details}
    if not by_id:
        return details
    legs: dict[int, list[tuple[str, int]]] = defaultdict(list)
    for tx_id, account, amount in session.execute(
        select(Posting.transaction_id, Posting.account, Posting.amount)
        .where(Posting.transaction_id.in_(by_id))
        .order_by(Posting.id)
    ):
        legs[tx_id].append((account, amount))
    moves: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for tx_id, lot_id, amount in session.execute(
        select(LotEntry.transaction_id, LotEntry.lot_id, LotEntry.amount)
        .where(LotEntry.transaction_id.in_(by_id))
        .order_by(LotEntry.id)
    ):
        moves[tx_id].append((lot_id, amount))
    for tx_id, detail in by_id.items():
        detail.postings = legs[tx_id]
        detail.lots = moves[tx_id]
    return details


def transactions_page(
    session: Session, program_id: int, member_id: int, *, before_id: int | None, limit: int
) -> tuple[list[TransactionDetail], int | None]:
    """Newest first; returns the page and the id to continue before, if there is more."""
    query = (
        select(*_COLUMNS)
        .where(LedgerTransaction.program_id == program_id, LedgerTransaction.member_id == member_id)
        .order_by(LedgerTransaction.id.desc())
        .limit(limit + 1)
    )
    if before_id is not None:
        query = query.where(LedgerTransaction.id < before_id)
    rows = session.execute(query).all()
    page = [_detail(r) for r in rows[:limit]]
    more = len(rows) > limit
    return _attach(session, page), (page[-1].id if more and page else None)


def transaction(session: Session, program_id: int, member_id: int, tx_id: int) -> TransactionDetail:
    row = session.execute(
        select(*_COLUMNS).where(
            LedgerTransaction.id == tx_id,
            LedgerTransaction.program_id == program_id,
            LedgerTransaction.member_id == member_id,
        )
    ).one_or_none()
    if row is None:
        raise TransactionNotFoundError(
            f"transaction {tx_id} not found", details={"transaction_id": tx_id}
        )
    return _attach(session, [_detail(row)])[0]
