"""Many credits in one go, for imports and batches: the same plans as `service.credit`, written
with a handful of multi-row statements instead of a dozen statements per credit.

The members' balance rows are locked together (in id order, so two batches cannot deadlock),
each credit is planned in order against the running balance (debt is still paid first), and
the journal rows go in with one executemany per table."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from punchcard.errors import InsufficientPointsError
from punchcard.ledger import repository as repo
from punchcard.ledger.domain import BalanceDelta, BalanceView, Kind, plan_credit, transaction_digest
from punchcard.ledger.service import check_points
from punchcard.models import Balance, LedgerTransaction, Lot, LotEntry, PendingCredit, Posting
from punchcard.models.base import table_of
from punchcard.programs.domain import ProgramSettings, expiry_for


@dataclass(frozen=True)
class CreditRequest:
    member_id: int
    points: int
    reason: str
    reference: str | None
    occurred_at: datetime
    meta: dict[str, Any] | None = None


def _lock(session: Session, program_id: int, members: list[int]) -> dict[int, BalanceView]:
    rows = session.execute(
        select(Balance.member_id, Balance.available, Balance.pending, Balance.debt)
        .where(Balance.program_id == program_id, Balance.member_id.in_(members))
        .order_by(Balance.member_id)
        .with_for_update()
    ).all()
    return {r.member_id: BalanceView(r.available, r.pending, r.debt) for r in rows}


def credit_many(
    session: Session, *, program: ProgramSettings, credits: Sequence[CreditRequest], now: datetime
) -> list[int]:
    """Earn credits (pending for the program's return window); returns their transaction ids."""
    if not credits:
        return []
    for c in credits:
        check_points(c.points)
    balances = _lock(session, program.id, sorted({c.member_id for c in credits}))
    pending = program.pending_days > 0
    plans = []
    deltas: dict[int, BalanceDelta] = defaultdict(BalanceDelta)
    for c in credits:
        plan = plan_credit(Kind.EARN, c.points, balances[c.member_id], pending=pending)
        delta = plan.delta()
        balances[c.member_id] = balances[c.member_id].after(delta)
        d = deltas[c.member_id]
        deltas[c.member_id] = BalanceDelta(
            d.available + delta.available,
            d.pending + delta.pending,
            d.debt + delta.debt,
            d.lifetime_earned + delta.lifetime_earned,
        )
        plans.append(plan)
    tx_rows = [
        {
            "program_id": program.id,
            "member_id": c.member_id,
            "kind": plan.kind.value,
            "points": plan.points,
            "reason": c.reason,
            "reference": c.reference,
            "reverses_id": None,
            "occurred_at": c.occurred_at,
            "created_at": now,
            "meta": json.dumps(c.meta, sort_keys=True) if c.meta else None,
            "digest": transaction_digest(
                program_id=program.id,
                member_id=c.member_id,
                kind=plan.kind.value,
                points=plan.points,
                reason=c.reason,
                reference=c.reference,
                reverses_id=None,
                occurred_at=c.occurred_at,
                legs=[(p.account.value, p.amount) for p in plan.postings],
            ),
        }
        for c, plan in zip(credits, plans, strict=True)
    ]
    ids = list(
        session.execute(
            insert(table_of(LedgerTransaction)).returning(
                LedgerTransaction.id, sort_by_parameter_order=True
            ),
            tx_rows,
        ).scalars()
    )
    session.execute(
        insert(table_of(Posting)),
        [
            {
                "program_id": program.id,
                "transaction_id": tx_id,
                "member_id": c.member_id,
                "account": p.account.value,
                "amount": p.amount,
            }
            for tx_id, c, plan in zip(ids, credits, plans, strict=True)
            for p in plan.postings
        ],
    )
    _lots(session, program, ids, credits, plans)
    if pending:
        session.execute(
            insert(table_of(PendingCredit)),
            [
                {
                    "program_id": program.id,
                    "member_id": c.member_id,
                    "transaction_id": tx_id,
                    "points": c.points,
                    "remaining": c.points,
                    "release_at": c.occurred_at + timedelta(days=program.pending_days),
                    "status": "pending",
                }
                for tx_id, c in zip(ids, credits, strict=True)
            ],
        )
    for member_id, delta in deltas.items():
        if not repo.apply_delta(session, program.id, member_id, delta):
            raise InsufficientPointsError("the balance cannot cover this batch")
    return ids


def _lots(
    session: Session,
    program: ProgramSettings,
    ids: list[int],
    credits: Sequence[CreditRequest],
    plans: list[Any],
) -> None:
    made = [
        (tx_id, c, plan.new_lot_points)
        for tx_id, c, plan in zip(ids, credits, plans, strict=True)
        if plan.new_lot_points
    ]
    if not made:
        return
    lot_ids = list(
        session.execute(
            insert(table_of(Lot)).returning(Lot.id, sort_by_parameter_order=True),
            [
                {
                    "program_id": program.id,
                    "member_id": c.member_id,
                    "transaction_id": tx_id,
                    "points": points,
                    "remaining": points,
                    "earned_at": c.occurred_at,
                    "expires_at": expiry_for(
                        program.expiry_policy, program.expiry_value, c.occurred_at
                    ),
                }
                for tx_id, c, points in made
            ],
        ).scalars()
    )
    session.execute(
        insert(table_of(LotEntry)),
        [
            {
                "program_id": program.id,
                "member_id": c.member_id,
                "transaction_id": tx_id,
                "lot_id": lot_id,
                "amount": points,
            }
            for lot_id, (tx_id, c, points) in zip(lot_ids, made, strict=True)
        ],
    )
