"""Reversals: the only way to undo a transaction, as a new transaction linked to the old one.

A reversed credit takes its points back from wherever they are now: still pending, in the
credit's own lot, in other lots, and what the member already spent becomes debt (which blocks
spending until new credits pay it off: the earn-refund-keep exploit stays closed). A reversed
debit gives points back to the lots it took them from, after paying off any debt.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from punchcard.errors import ConflictError, ForbiddenError
from punchcard.ledger import repository as repo
from punchcard.ledger.domain import (
    CREDIT_KINDS,
    REVERSIBLE_KINDS,
    BalanceView,
    Kind,
    Plan,
    plan_credit_reversal,
    plan_debit_reversal,
)
from punchcard.ledger.errors import (
    AlreadyReversedError,
    NotReversibleError,
    ReversalTooLargeError,
    TransactionNotFoundError,
)
from punchcard.ledger.service import check_points, commit_plan, expire_overdue, lock
from punchcard.models import LedgerTransaction
from punchcard.programs.domain import ProgramSettings


def reverse(
    session: Session,
    *,
    program: ProgramSettings,
    member_id: int,
    transaction_id: int,
    reason: str,
    now: datetime,
    points: int | None = None,
    reference: str | None = None,
    meta: dict[str, Any] | None = None,
    only_kinds: frozenset[Kind] | None = None,
    redemption_ok: bool = False,
) -> int:
    """Reverse all of a transaction, or `points` of it; several partial reversals may follow
    each other until the original is used up. `only_kinds` limits what the caller may reverse.
    The debit of a redemption is reversed only by cancelling the redemption (`redemption_ok`),
    which also voids its code: otherwise points could come back while the code stays usable."""
    balance = lock(session, program.id, member_id)
    original = repo.get_transaction(session, program.id, member_id, transaction_id)
    if original is None:
        raise TransactionNotFoundError(
            f"transaction {transaction_id} not found", details={"transaction_id": transaction_id}
        )
    if only_kinds is not None and original.kind not in only_kinds:
        raise ForbiddenError(
            f"this key may not reverse {original.kind.value} transactions; an admin key can",
            details={"kind": original.kind.value},
        )
    if original.kind not in REVERSIBLE_KINDS:
        raise NotReversibleError(
            f"a {original.kind.value} transaction cannot be reversed",
            details={"kind": original.kind.value},
        )
    if not redemption_ok and original.kind in (Kind.SPEND, Kind.DONATE):
        _refuse_redemption_debit(session, original.id)
    left = original.points - repo.reversed_so_far(session, original.id)
    if left == 0:
        raise AlreadyReversedError(
            f"transaction {original.id} is already fully reversed",
            details={"transaction_id": original.id},
        )
    amount = left if points is None else points
    check_points(amount)
    if amount > left:
        raise ReversalTooLargeError(
            f"only {left} points of transaction {original.id} are left to reverse",
            details={"requested": amount, "reversible": left},
        )
    balance, _ = expire_overdue(
        session, program, member_id, now, balance, repo.open_lots(session, program.id, member_id)
    )
    plan = _plan(session, program, member_id, original, amount, balance)
    header = repo.TransactionHeader(
        program.id, member_id, reason, reference, now, now, reverses_id=original.id, meta=meta
    )
    tx_id = commit_plan(session, header, plan)
    pending = repo.pending_for_transaction(session, original.id)
    if pending is not None and pending.status == "pending":
        status = "voided" if pending.remaining == amount else "pending"
        repo.resolve_pending(session, pending.id, take=amount, status=status, resolved_tx=None)
    if plan.lot_moves and original.kind not in CREDIT_KINDS:
        # Points given back to a lot whose date has passed expire at once.
        expire_overdue(
            session,
            program,
            member_id,
            now,
            balance.after(plan.delta()),
            repo.open_lots(session, program.id, member_id),
        )
    return tx_id


def _refuse_redemption_debit(session: Session, tx_id: int) -> None:
    raw = session.execute(
        select(LedgerTransaction.meta).where(LedgerTransaction.id == tx_id)
    ).scalar_one_or_none()
    if raw and json.loads(raw).get("redemption") is True:
        raise ConflictError(
            f"transaction {tx_id} paid for a redemption: cancel the redemption instead",
            code="use_redemption_cancel",
            details={"transaction_id": tx_id},
        )


def _plan(
    session: Session,
    program: ProgramSettings,
    member_id: int,
    original: repo.TransactionRow,
    amount: int,
    balance: BalanceView,
) -> Plan:
    if original.kind in CREDIT_KINDS:
        pending = repo.pending_for_transaction(session, original.id)
        if pending is not None and pending.status == "pending":
            return plan_credit_reversal(
                original.kind, amount, still_pending=True, own_lots=[], other_lots=[]
            )
        sources = [original.id]
        if pending is not None and pending.resolved_transaction_id is not None:
            sources.append(pending.resolved_transaction_id)
        created = repo.lots_created_by(session, sources)
        own_ids = {lot.id for lot in created}
        others = [
            lot for lot in repo.open_lots(session, program.id, member_id) if lot.id not in own_ids
        ]
        return plan_credit_reversal(
            original.kind,
            amount,
            still_pending=False,
            own_lots=[lot for lot in created if lot.remaining > 0],
            other_lots=others,
            own_expired=repo.expired_unspent(session, original.id, sorted(own_ids)),
        )
    restorable = repo.restorable_lots(session, original.id)
    return plan_debit_reversal(original.kind, amount, balance, restorable)
