"""`punchcard ledger verify`: every invariant of the ledger, checked over the whole database.

The checks read aggregates with a handful of grouped queries and recompute each transaction's
digest in one streamed pass, so a database of millions of postings is checked in seconds.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, aliased

from punchcard.ledger import references
from punchcard.ledger.domain import CREDIT_KINDS, Account, transaction_digest
from punchcard.models import Balance, LedgerTransaction, Lot, LotEntry, PendingCredit, Posting


@dataclass(frozen=True)
class Violation:
    check: str
    message: str

    def __str__(self) -> str:
        return f"{self.check}: {self.message}"


@dataclass(frozen=True)
class Report:
    transactions: int
    members: int
    violations: list[Violation]

    @property
    def ok(self) -> bool:
        return not self.violations

    def summary(self) -> str:
        state = "ok" if self.ok else f"{len(self.violations)} violation(s)"
        return f"ledger {state}: {self.transactions} transactions, {self.members} member balances"


Q = TypeVar("Q", bound=Select[*tuple[Any, ...]])


def _scoped(query: Q, column: Any, program_id: int | None) -> Q:
    return query if program_id is None else query.where(column == program_id)


def verify(session: Session, program_id: int | None = None) -> Report:
    violations = [
        *_unbalanced(session, program_id),
        *_digests(session, program_id),
        *_balances(session, program_id),
        *_lots(session, program_id),
        *(Violation(name, text) for name, text in references.check(session, program_id)),
    ]
    transactions = session.execute(
        _scoped(
            select(func.count()).select_from(LedgerTransaction),
            LedgerTransaction.program_id,
            program_id,
        )
    ).scalar_one()
    members = session.execute(
        _scoped(select(func.count()).select_from(Balance), Balance.program_id, program_id)
    ).scalar_one()
    return Report(int(transactions), int(members), violations)


def _unbalanced(session: Session, program_id: int | None) -> Iterator[Violation]:
    sums = _scoped(
        select(
            LedgerTransaction.id,
            func.coalesce(func.sum(Posting.amount), 0),
            func.count(Posting.id),
        )
        .outerjoin(Posting, Posting.transaction_id == LedgerTransaction.id)
        .group_by(LedgerTransaction.id)
        .having((func.coalesce(func.sum(Posting.amount), 0) != 0) | (func.count(Posting.id) < 2)),
        LedgerTransaction.program_id,
        program_id,
    )
    for tx_id, total, count in session.execute(sums):
        yield Violation(
            "balanced", f"transaction {tx_id} has {count} posting(s) summing to {total}, not 0"
        )
    strays = _scoped(
        select(Posting.id, Posting.transaction_id)
        .join(LedgerTransaction, LedgerTransaction.id == Posting.transaction_id)
        .where(
            (Posting.member_id != LedgerTransaction.member_id)
            | (Posting.program_id != LedgerTransaction.program_id)
        ),
        LedgerTransaction.program_id,
        program_id,
    )
    for posting_id, tx_id in session.execute(strays):
        yield Violation(
            "tenancy",
            f"posting {posting_id} names another member or program than its transaction {tx_id}",
        )


def _digests(session: Session, program_id: int | None) -> Iterator[Violation]:
    legs: dict[int, list[tuple[str, int]]] = defaultdict(list)
    postings = _scoped(
        select(Posting.transaction_id, Posting.account, Posting.amount),
        Posting.program_id,
        program_id,
    )
    for tx_id, account, amount in session.execute(postings):
        legs[tx_id].append((account, amount))
    rows = _scoped(select(LedgerTransaction), LedgerTransaction.program_id, program_id)
    for tx in session.execute(rows.execution_options(yield_per=5000)).scalars():
        expected = transaction_digest(
            program_id=tx.program_id,
            member_id=tx.member_id,
            kind=tx.kind,
            points=tx.points,
            reason=tx.reason,
            reference=tx.reference,
            reverses_id=tx.reverses_id,
            occurred_at=tx.occurred_at,
            legs=legs.get(tx.id, []),
        )
        if expected != tx.digest:
            yield Violation(
                "immutable", f"transaction {tx.id} or its postings changed after it was written"
            )


def _balances(session: Session, program_id: int | None) -> Iterator[Violation]:
    sums: dict[tuple[int, str], int] = {}
    per_account = _scoped(
        select(Posting.member_id, Posting.account, func.sum(Posting.amount))
        .where(
            Posting.account.in_(
                [a.value for a in (Account.AVAILABLE, Account.PENDING, Account.DEBT)]
            )
        )
        .group_by(Posting.member_id, Posting.account),
        Posting.program_id,
        program_id,
    )
    for member_id, account, total in session.execute(per_account):
        sums[(member_id, account)] = int(total)
    lots = _member_totals(
        session,
        _scoped(
            select(Lot.member_id, func.sum(Lot.remaining)).group_by(Lot.member_id),
            Lot.program_id,
            program_id,
        ),
    )
    pending = _member_totals(
        session,
        _scoped(
            select(PendingCredit.member_id, func.sum(PendingCredit.remaining))
            .where(PendingCredit.status == "pending")
            .group_by(PendingCredit.member_id),
            PendingCredit.program_id,
            program_id,
        ),
    )
    earned = _lifetime_earned(session, program_id)
    rows = _scoped(select(Balance), Balance.program_id, program_id)
    for b in session.execute(rows.execution_options(yield_per=5000)).scalars():
        m = b.member_id
        checks = (
            ("available", b.available, sums.get((m, Account.AVAILABLE.value), 0), "its postings"),
            ("pending", b.pending, sums.get((m, Account.PENDING.value), 0), "its postings"),
            ("debt", b.debt, -sums.get((m, Account.DEBT.value), 0), "its postings"),
            ("available", b.available, lots.get(m, 0), "the remainders of its lots"),
            ("pending", b.pending, pending.get(m, 0), "its open pending credits"),
            ("lifetime_earned", b.lifetime_earned, earned.get(m, 0), "its credits less reversals"),
        )
        for name, stored, expected, source in checks:
            if stored != expected:
                yield Violation(
                    "balance",
                    f"member {m}: stored {name} {stored} but {source} give {expected}",
                )


def _member_totals(session: Session, query: Select[*tuple[Any, ...]]) -> dict[int, int]:
    return {int(member): int(total) for member, total in session.execute(query)}


def _lifetime_earned(session: Session, program_id: int | None) -> dict[int, int]:
    credits = [k.value for k in CREDIT_KINDS]
    earned = _member_totals(
        session,
        _scoped(
            select(LedgerTransaction.member_id, func.sum(LedgerTransaction.points))
            .where(LedgerTransaction.kind.in_(credits))
            .group_by(LedgerTransaction.member_id),
            LedgerTransaction.program_id,
            program_id,
        ),
    )
    original = aliased(LedgerTransaction)
    reversed_ = _member_totals(
        session,
        _scoped(
            select(LedgerTransaction.member_id, func.sum(LedgerTransaction.points))
            .join(original, original.id == LedgerTransaction.reverses_id)
            .where(original.kind.in_(credits))
            .group_by(LedgerTransaction.member_id),
            LedgerTransaction.program_id,
            program_id,
        ),
    )
    return {m: earned.get(m, 0) - reversed_.get(m, 0) for m in earned.keys() | reversed_.keys()}


def _lots(session: Session, program_id: int | None) -> Iterator[Violation]:
    moved = _scoped(
        select(Lot.id, Lot.remaining, Lot.points, func.coalesce(func.sum(LotEntry.amount), 0))
        .outerjoin(LotEntry, LotEntry.lot_id == Lot.id)
        .group_by(Lot.id, Lot.remaining, Lot.points),
        Lot.program_id,
        program_id,
    )
    for lot_id, remaining, points, total in session.execute(moved):
        if remaining != total:
            yield Violation(
                "lots", f"lot {lot_id}: remaining {remaining} but its entries give {total}"
            )
        if not 0 <= remaining <= points:
            yield Violation("lots", f"lot {lot_id}: remaining {remaining} outside 0..{points}")
