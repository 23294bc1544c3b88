"""Ledger use cases. Each takes the session first and never commits: the caller's edge does.

Every write locks the member's balance row first, plans the transaction with the pure rules in
`domain`, then writes it; the guarded balance update and the CHECK constraints are the last line
of defence should a plan ever be wrong.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from punchcard.ledger import repository as repo
from punchcard.ledger.domain import (
    CREDIT_KINDS,
    DEBIT_KINDS,
    MAX_POINTS,
    BalanceView,
    Kind,
    LotView,
    Plan,
    plan_credit,
    plan_debit,
    plan_expiry,
    plan_release,
)
from punchcard.ledger.errors import (
    DebtOutstandingError,
    InsufficientPointsError,
    InvalidPointsError,
    MemberNotFoundError,
)
from punchcard.programs.domain import ProgramSettings, expiry_for


def check_points(points: int) -> None:
    if not 0 < points <= MAX_POINTS:
        raise InvalidPointsError(
            f"points must be between 1 and {MAX_POINTS}", details={"points": points}
        )


def lock(session: Session, program_id: int, member_id: int) -> BalanceView:
    balance = repo.lock_balance(session, program_id, member_id)
    if balance is None:
        raise MemberNotFoundError(f"member {member_id} not found", details={"member_id": member_id})
    return balance


def commit_plan(
    session: Session,
    header: repo.TransactionHeader,
    plan: Plan,
    *,
    lot_expires_at: datetime | None = None,
    lot_earned_at: datetime | None = None,
) -> int:
    if not repo.apply_delta(session, header.program_id, header.member_id, plan.delta()):
        raise InsufficientPointsError("the balance cannot cover this transaction")
    return repo.write_transaction(
        session, header, plan, lot_expires_at=lot_expires_at, lot_earned_at=lot_earned_at
    )


def credit(
    session: Session,
    *,
    program: ProgramSettings,
    member_id: int,
    points: int,
    reason: str,
    now: datetime,
    occurred_at: datetime | None = None,
    kind: Kind = Kind.EARN,
    reference: str | None = None,
    pending_days: int | None = None,
    meta: dict[str, Any] | None = None,
) -> int:
    """Credit points; earned points wait `pending_days` (the program's return window by
    default), adjustments are available at once. Outstanding debt is paid off first."""
    check_points(points)
    if kind not in CREDIT_KINDS:
        raise ValueError(f"{kind} is not a credit")
    occurred = occurred_at or now
    if pending_days is None:
        pending_days = program.pending_days if kind is Kind.EARN else 0
    balance = lock(session, program.id, member_id)
    plan = plan_credit(kind, points, balance, pending=pending_days > 0)
    header = repo.TransactionHeader(
        program.id, member_id, reason, reference, occurred, now, meta=meta
    )
    tx_id = commit_plan(
        session,
        header,
        plan,
        lot_expires_at=expiry_for(program.expiry_policy, program.expiry_value, occurred),
    )
    if pending_days > 0:
        release_at = occurred + timedelta(days=pending_days)
        repo.add_pending_credit(session, header, tx_id, points, release_at)
    return tx_id


def debit(
    session: Session,
    *,
    program: ProgramSettings,
    member_id: int,
    points: int,
    reason: str,
    now: datetime,
    kind: Kind = Kind.SPEND,
    reference: str | None = None,
    meta: dict[str, Any] | None = None,
) -> int:
    """Spend (or debit by hand) available points, nearest-expiry lots first. A member with
    debt cannot spend until new credits have paid it off."""
    check_points(points)
    if kind not in DEBIT_KINDS:
        raise ValueError(f"{kind} is not a debit")
    balance = lock(session, program.id, member_id)
    lots = repo.open_lots(session, program.id, member_id)
    balance, lots = expire_overdue(session, program, member_id, now, balance, lots)
    if kind in (Kind.SPEND, Kind.DONATE) and balance.debt > 0:
        raise DebtOutstandingError(
            f"the member owes {balance.debt} points from a reversal and cannot spend until "
            "new credits pay it off",
            details={"debt": balance.debt},
        )
    if balance.available < points:
        raise InsufficientPointsError(
            f"{points} points requested, {balance.available} available",
            details={"requested": points, "available": balance.available},
        )
    plan = plan_debit(kind, points, balance, lots)
    header = repo.TransactionHeader(program.id, member_id, reason, reference, now, now, meta=meta)
    return commit_plan(session, header, plan)


def expire_overdue(
    session: Session,
    program: ProgramSettings,
    member_id: int,
    now: datetime,
    balance: BalanceView,
    lots: list[LotView],
) -> tuple[BalanceView, list[LotView]]:
    """Expire, inside the caller's transaction, lots whose date has passed but that the job
    has not reached yet: expiry is decided by the clock, never by when the job last ran.
    Costs no query when nothing is overdue (the usual case): the caller's lots are reused."""
    due = [lot for lot in lots if lot.expires_at is not None and lot.expires_at <= now]
    plan = plan_expiry(due)
    if plan is None:
        return balance, lots
    header = repo.TransactionHeader(program.id, member_id, "points expired", None, now, now)
    commit_plan(session, header, plan)
    due_ids = {lot.id for lot in due}
    return balance.after(plan.delta()), [lot for lot in lots if lot.id not in due_ids]


def expire_member(
    session: Session, *, program: ProgramSettings, member_id: int, now: datetime
) -> int | None:
    """Expire every lot of the member whose date has passed; a second run finds nothing."""
    lock(session, program.id, member_id)
    plan = plan_expiry(repo.due_lots(session, program.id, member_id, now))
    if plan is None:
        return None
    header = repo.TransactionHeader(program.id, member_id, "points expired", None, now, now)
    return commit_plan(session, header, plan)


def release_member(
    session: Session, *, program: ProgramSettings, member_id: int, now: datetime
) -> list[int]:
    """Move pending points whose return window has closed to available (debt first)."""
    balance = lock(session, program.id, member_id)
    released = []
    for pending in repo.due_pending(session, program.id, member_id, now):
        plan = plan_release(pending.remaining, balance)
        header = repo.TransactionHeader(
            program.id,
            member_id,
            "pending points released",
            None,
            pending.release_at,
            now,
            meta={"pending_of": pending.transaction_id},
        )
        tx_id = commit_plan(
            session,
            header,
            plan,
            lot_expires_at=expiry_for(
                program.expiry_policy, program.expiry_value, pending.release_at
            ),
            lot_earned_at=pending.release_at,
        )
        repo.resolve_pending(
            session, pending.id, take=pending.remaining, status="released", resolved_tx=tx_id
        )
        released.append(tx_id)
        balance = balance.after(plan.delta())
    return released


def open_account(session: Session, *, program_id: int, member_id: int) -> None:
    """Every member gets a zero balance row at enrolment; all later writes lock it."""
    repo.create_balance(session, program_id, member_id)


def adjust(
    session: Session,
    *,
    program: ProgramSettings,
    member_id: int,
    points: int,
    reason: str,
    now: datetime,
    reference: str | None = None,
    meta: dict[str, Any] | None = None,
) -> int:
    """A manual correction: positive credits at once, negative debits (never into debt)."""
    if points > 0:
        return credit(
            session,
            program=program,
            member_id=member_id,
            points=points,
            reason=reason,
            now=now,
            kind=Kind.ADJUST_CREDIT,
            reference=reference,
            meta=meta,
        )
    return debit(
        session,
        program=program,
        member_id=member_id,
        points=-points,
        reason=reason,
        now=now,
        kind=Kind.ADJUST_DEBIT,
        reference=reference,
        meta=meta,
    )


def open_accounts(session: Session, *, program_id: int, member_ids: list[int]) -> None:
    repo.create_balances(session, program_id, member_ids)
