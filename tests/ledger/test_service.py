"""Ledger use cases on a real database (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from punchcard.db import Database
from punchcard.errors import InsufficientPointsError
from punchcard.kit.clock import FixedClock
from punchcard.ledger import queries
from punchcard.ledger.errors import (
    AlreadyReversedError,
    DebtOutstandingError,
    InvalidPointsError,
    MemberNotFoundError,
    NotReversibleError,
    ReversalTooLargeError,
)
from punchcard.ledger.tasks import run_ledger_jobs
from punchcard.programs.domain import ExpiryPolicy, ProgramSettings
from tests.conftest import ProgramFactory
from tests.ledger.helpers import assert_verified, balance, credit, enrol, reverse, spend


def test_credit_then_spend_nearest_expiry_first(
    db: Database, make_program: ProgramFactory, clock: FixedClock
) -> None:
    program = make_program(expiry_policy=ExpiryPolicy.DAYS_AFTER_EARN, expiry_value=100)
    member = enrol(db, program, clock())
    first = credit(db, program, member, 100, clock())
    clock.set(clock() + timedelta(days=10))
    credit(db, program, member, 50, clock())
    tx = spend(db, program, member, 120, clock())
    with db.reader() as session:
        detail = queries.transaction(session, program.id, member, tx)
        first_lot = queries.transaction(session, program.id, member, first).lots[0][0]
    assert detail.lots[0] == (first_lot, -100)
    assert detail.lots[1][1] == -20
    assert sum(amount for _, amount in detail.postings) == 0
    summary = balance(db, program, member)
    assert (summary.available, summary.lifetime_earned) == (30, 150)
    assert [e.points for e in summary.expiring] == [30]
    assert_verified(db, program)


def test_spend_more_than_available_is_refused_and_writes_nothing(
    db: Database, program: ProgramSettings, clock: FixedClock
) -> None:
    member = enrol(db, program, clock())
    credit(db, program, member, 10, clock())
    with pytest.raises(InsufficientPointsError) as info:
        spend(db, program, member, 11, clock())
    assert info.value.details == {"requested": 11, "available": 10}
    with db.reader() as session:
        page, _ = queries.transactions_page(session, program.id, member, before_id=None, limit=10)
    assert len(page) == 1
    assert balance(db, program, member).available == 10


@pytest.mark.parametrize("points", [0, -5, 10**12 + 1])
def test_points_out_of_range_are_refused(
    db: Database, program: ProgramSettings, clock: FixedClock, points: int
) -> None:
    member = enrol(db, program, clock())
    with pytest.raises(InvalidPointsError):
        credit(db, program, member, points, clock())


def test_unknown_member_is_not_found(
    db: Database, program: ProgramSettings, clock: FixedClock
) -> None:
    with pytest.raises(MemberNotFoundError):
        credit(db, program, 10**9, 5, clock())


def test_pending_points_release_when_window_closes_and_expire_from_release(
    db: Database, make_program: ProgramFactory, clock: FixedClock
) -> None:
    program = make_program(
        pending_days=14, expiry_policy=ExpiryPolicy.DAYS_AFTER_EARN, expiry_value=30
    )
    member = enrol(db, program, clock())
    credit(db, program, member, 80, clock())
    assert (balance(db, program, member).pending, balance(db, program, member).available) == (80, 0)
    run_ledger_jobs(db, now=clock() + timedelta(days=13))
    assert balance(db, program, member).pending == 80
    run_ledger_jobs(db, now=clock() + timedelta(days=14))
    run_ledger_jobs(db, now=clock() + timedelta(days=14))  # twice: nothing more happens
    summary = balance(db, program, member)
    assert (summary.pending, summary.available) == (0, 80)
    assert summary.expiring[0].expires_at == clock() + timedelta(days=44)
    run_ledger_jobs(db, now=clock() + timedelta(days=44))
    assert balance(db, program, member).available == 0
    assert_verified(db, program)


def test_expiry_job_takes_only_due_lots(
    db: Database, make_program: ProgramFactory, clock: FixedClock
) -> None:
    program = make_program(expiry_policy=ExpiryPolicy.DAYS_AFTER_EARN, expiry_value=30)
    member = enrol(db, program, clock())
    credit(db, program, member, 40, clock())
    credit(db, program, member, 60, clock() + timedelta(days=20))
    spend(db, program, member, 30, clock() + timedelta(days=21))
    report = run_ledger_jobs(db, now=clock() + timedelta(days=30))
    assert report.expired >= 1
    assert balance(db, program, member).available == 60
    assert_verified(db, program)


def test_reversal_of_spent_points_creates_debt_that_blocks_spending(
    db: Database, program: ProgramSettings, clock: FixedClock
) -> None:
    member = enrol(db, program, clock())
    earn = credit(db, program, member, 100, clock())
    spend(db, program, member, 70, clock())
    reverse(db, program, member, earn, clock())
    summary = balance(db, program, member)
    assert (summary.available, summary.debt, summary.lifetime_earned) == (0, 70, 0)
    credit(db, program, member, 50, clock())
    with pytest.raises(DebtOutstandingError):
        spend(db, program, member, 1, clock())
    credit(db, program, member, 30, clock())
    summary = balance(db, program, member)
    assert (summary.available, summary.debt) == (10, 0)
    spend(db, program, member, 10, clock())
    assert_verified(db, program)


def test_reversal_of_pending_credit_voids_it_and_release_skips_it(
    db: Database, program: ProgramSettings, clock: FixedClock
) -> None:
    member = enrol(db, program, clock())
    earn = credit(db, program, member, 100, clock(), pending_days=7)
    reverse(db, program, member, earn, clock(), points=40)
    assert balance(db, program, member).pending == 60
    run_ledger_jobs(db, now=clock() + timedelta(days=7))
    assert (balance(db, program, member).pending, balance(db, program, member).available) == (0, 60)
    reverse(db, program, member, earn, clock() + timedelta(days=8))
    summary = balance(db, program, member)
    assert (summary.available, summary.debt, summary.lifetime_earned) == (0, 0, 0)
    with pytest.raises(AlreadyReversedError):
        reverse(db, program, member, earn, clock())
    assert_verified(db, program)


def test_spend_reversal_restores_lots_and_partial_limits(
    db: Database, program: ProgramSettings, clock: FixedClock
) -> None:
    member = enrol(db, program, clock())
    credit(db, program, member, 100, clock())
    tx = spend(db, program, member, 60, clock())
    reverse(db, program, member, tx, clock(), points=25)
    with pytest.raises(ReversalTooLargeError):
        reverse(db, program, member, tx, clock(), points=36)
    reverse(db, program, member, tx, clock())
    assert balance(db, program, member).available == 100
    reversal = reverse(db, program, member, credit(db, program, member, 1, clock()), clock())
    with pytest.raises(NotReversibleError):
        reverse(db, program, member, reversal, clock())
    assert_verified(db, program)


def test_spend_expires_overdue_lots_first_even_when_the_job_is_late(
    db: Database, make_program: ProgramFactory, clock: FixedClock
) -> None:
    program = make_program(expiry_policy=ExpiryPolicy.DAYS_AFTER_EARN, expiry_value=30)
    member = enrol(db, program, clock())
    credit(db, program, member, 100, clock())
    credit(db, program, member, 20, clock() + timedelta(days=20))
    late = clock() + timedelta(days=31)
    with db.reader() as session:
        assert queries.balance(session, program.id, member, late).available == 20
    with pytest.raises(InsufficientPointsError):
        spend(db, program, member, 21, late)
    spend(db, program, member, 20, late)
    summary = balance(db, program, member)
    assert summary.available == 0
    assert_verified(db, program)


def test_reversing_a_credit_that_expired_unspent_leaves_no_debt(
    db: Database, make_program: ProgramFactory, clock: FixedClock
) -> None:
    program = make_program(expiry_policy=ExpiryPolicy.DAYS_AFTER_EARN, expiry_value=30)
    member = enrol(db, program, clock())
    earn = credit(db, program, member, 100, clock())
    spend(db, program, member, 30, clock() + timedelta(days=1))
    run_ledger_jobs(db, now=clock() + timedelta(days=31))
    reverse(db, program, member, earn, clock() + timedelta(days=32), points=50)
    reverse(db, program, member, earn, clock() + timedelta(days=32))
    summary = balance(db, program, member)
    assert (summary.available, summary.debt, summary.lifetime_earned) == (0, 30, 0)
    assert_verified(db, program)
