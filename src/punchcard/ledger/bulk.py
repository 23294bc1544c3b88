"""Many ledger transactions in one go, for imports, batches and the periodic jobs: the same
plans as `service`, written with a handful of multi-row statements instead of a dozen
statements per transaction.

The members' balance rows are locked together (in id order, so two batches cannot deadlock),
each transaction is planned in order against the running balance (debt is still paid first),
and the journal rows go in with one executemany per table."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session

from punchcard.db import rowcount
from punchcard.errors import InsufficientPointsError
from punchcard.ledger import repository as repo
from punchcard.ledger.domain import (
    BalanceDelta,
    BalanceView,
    LotView,
    Plan,
    plan_expiry,
    plan_release,
    transaction_digest,
)
from punchcard.models import Balance, LedgerTransaction, Lot, LotEntry, PendingCredit, Posting
from punchcard.models.base import table_of
from punchcard.programs.domain import ProgramSettings, expiry_for


@dataclass(frozen=True)
class Planned:
    """One transaction to write: its header fields, its plan, and the lot it may create."""

    member_id: int
    reason: str
    reference: str | None
    occurred_at: datetime
    plan: Plan
    meta: dict[str, Any] | None = None
    lot_earned_at: datetime | None = None
    lot_expires_at: datetime | None = None


def lock_balances(session: Session, program_id: int, members: list[int]) -> dict[int, BalanceView]:
    rows = session.execute(
        select(Balance.member_id, Balance.available, Balance.pending, Balance.debt)
        .where(Balance.program_id == program_id, Balance.member_id.in_(members))
        .order_by(Balance.member_id)
        .with_for_update()
    ).all()
    return {r.member_id: BalanceView(r.available, r.pending, r.debt) for r in rows}


def _digest(program_id: int, item: Planned) -> str:
    return transaction_digest(
        program_id=program_id,
        member_id=item.member_id,
        kind=item.plan.kind.value,
        points=item.plan.points,
        reason=item.reason,
        reference=item.reference,
        reverses_id=None,
        occurred_at=item.occurred_at,
        legs=[(p.account.value, p.amount) for p in item.plan.postings],
    )


_MOVE = (
    update(table_of(Lot))
    .where(
        Lot.id == bindparam("lot"),
        Lot.remaining + bindparam("n") >= 0,
        Lot.remaining + bindparam("n") <= Lot.points,
    )
    .values(remaining=Lot.remaining + bindparam("n"))
)


def write_many(
    session: Session, program_id: int, items: Sequence[Planned], now: datetime
) -> list[int]:
    """Write planned transactions, their postings, lot moves, new lots and the balances."""
    if not items:
        return []
    ids = list(
        session.execute(
            insert(table_of(LedgerTransaction)).returning(
                LedgerTransaction.id, sort_by_parameter_order=True
            ),
            [
                {
                    "program_id": program_id,
                    "member_id": i.member_id,
                    "kind": i.plan.kind.value,
                    "points": i.plan.points,
                    "reason": i.reason,
                    "reference": i.reference,
                    "reverses_id": None,
                    "occurred_at": i.occurred_at,
                    "created_at": now,
                    "meta": json.dumps(i.meta, sort_keys=True) if i.meta else None,
                    "digest": _digest(program_id, i),
                }
                for i in items
            ],
        ).scalars()
    )
    session.execute(
        insert(table_of(Posting)),
        [
            {
                "program_id": program_id,
                "transaction_id": tx_id,
                "member_id": i.member_id,
                "account": p.account.value,
                "amount": p.amount,
            }
            for tx_id, i in zip(ids, items, strict=True)
            for p in i.plan.postings
        ],
    )
    entries = [
        (tx_id, i.member_id, lot, n)
        for tx_id, i in zip(ids, items, strict=True)
        for lot, n in i.plan.lot_moves
    ]
    if entries:
        moved = session.execute(_MOVE, [{"lot": lot, "n": n} for _, _, lot, n in entries])
        if rowcount(moved) != len(entries):
            raise RuntimeError("a lot changed under a batch: ledger state moved concurrently")
    entries += _new_lots(session, program_id, ids, items)
    if entries:
        session.execute(
            insert(table_of(LotEntry)),
            [
                {
                    "program_id": program_id,
                    "member_id": m,
                    "transaction_id": tx,
                    "lot_id": lot,
                    "amount": n,
                }
                for tx, m, lot, n in entries
            ],
        )
    _apply(session, program_id, items)
    return ids


def _new_lots(
    session: Session, program_id: int, ids: list[int], items: Sequence[Planned]
) -> list[tuple[int, int, int, int]]:
    made = [(tx_id, i) for tx_id, i in zip(ids, items, strict=True) if i.plan.new_lot_points]
    if not made:
        return []
    lot_ids = session.execute(
        insert(table_of(Lot)).returning(Lot.id, sort_by_parameter_order=True),
        [
            {
                "program_id": program_id,
                "member_id": i.member_id,
                "transaction_id": tx_id,
                "points": i.plan.new_lot_points,
                "remaining": i.plan.new_lot_points,
                "earned_at": i.lot_earned_at or i.occurred_at,
                "expires_at": i.lot_expires_at,
            }
            for tx_id, i in made
        ],
    ).scalars()
    return [
        (tx_id, i.member_id, lot_id, i.plan.new_lot_points)
        for lot_id, (tx_id, i) in zip(lot_ids, made, strict=True)
    ]


def _apply(session: Session, program_id: int, items: Sequence[Planned]) -> None:
    deltas: dict[int, BalanceDelta] = defaultdict(BalanceDelta)
    for i in items:
        d, e = deltas[i.member_id], i.plan.delta()
        deltas[i.member_id] = BalanceDelta(
            d.available + e.available,
            d.pending + e.pending,
            d.debt + e.debt,
            d.lifetime_earned + e.lifetime_earned,
        )
    for member_id, delta in deltas.items():
        if not repo.apply_delta(session, program_id, member_id, delta):
            raise InsufficientPointsError("the balance cannot cover this batch")


def release_many(
    session: Session, *, program: ProgramSettings, members: list[int], now: datetime
) -> int:
    """`service.release_member` for many members at once; returns how many members had any."""
    balances = lock_balances(session, program.id, sorted(members))
    due = session.execute(
        select(
            PendingCredit.id,
            PendingCredit.member_id,
            PendingCredit.transaction_id,
            PendingCredit.remaining,
            PendingCredit.release_at,
        )
        .where(
            PendingCredit.program_id == program.id,
            PendingCredit.member_id.in_(members),
            PendingCredit.status == "pending",
            PendingCredit.release_at <= now,
        )
        .order_by(PendingCredit.member_id, PendingCredit.release_at, PendingCredit.id)
    ).all()
    items = []
    for row in due:
        plan = plan_release(row.remaining, balances[row.member_id])
        balances[row.member_id] = balances[row.member_id].after(plan.delta())
        expires = expiry_for(program.expiry_policy, program.expiry_value, row.release_at)
        items.append(
            Planned(
                row.member_id,
                "pending points released",
                None,
                row.release_at,
                plan,
                {"pending_of": row.transaction_id},
                row.release_at,
                expires,
            )
        )
    ids = write_many(session, program.id, items, now)
    if due:
        resolved = session.execute(
            update(table_of(PendingCredit))
            .where(PendingCredit.id == bindparam("pid"), PendingCredit.status == "pending")
            .values(status="released", remaining=0, resolved_transaction_id=bindparam("tx")),
            [{"pid": row.id, "tx": tx_id} for row, tx_id in zip(due, ids, strict=True)],
        )
        if rowcount(resolved) != len(due):
            raise RuntimeError("a pending credit was resolved concurrently")
    return len({row.member_id for row in due})


def expire_many(
    session: Session, *, program: ProgramSettings, members: list[int], now: datetime
) -> int:
    """`service.expire_member` for many members at once; returns how many had lots expire."""
    lock_balances(session, program.id, sorted(members))
    rows = session.execute(
        select(Lot.id, Lot.member_id, Lot.remaining, Lot.earned_at, Lot.expires_at)
        .where(
            Lot.program_id == program.id,
            Lot.member_id.in_(members),
            Lot.remaining > 0,
            Lot.expires_at <= now,
        )
        .order_by(Lot.member_id, Lot.expires_at, Lot.id)
    ).all()
    by_member: dict[int, list[LotView]] = defaultdict(list)
    for r in rows:
        by_member[r.member_id].append(LotView(r.id, r.remaining, r.earned_at, r.expires_at))
    items = []
    for member_id, lots in by_member.items():
        plan = plan_expiry(lots)
        if plan is not None:
            items.append(Planned(member_id, "points expired", None, now, plan))
    write_many(session, program.id, items, now)
    return len(items)
