"""The multi-row job path writes exactly what the one-member-at-a-time services write."""

from __future__ import annotations

from datetime import timedelta

from punchcard.db import Database, session_scope
from punchcard.kit.clock import FixedClock
from punchcard.ledger import queries, service
from punchcard.ledger.tasks import run_ledger_jobs
from punchcard.programs.domain import ExpiryPolicy, ProgramSettings
from tests.conftest import ProgramFactory
from tests.ledger.helpers import assert_verified, credit, enrol, reverse, spend


def _history(db: Database, program: ProgramSettings, clock: FixedClock) -> list[int]:
    members = [enrol(db, program, clock()) for _ in range(4)]
    for n, member in enumerate(members):
        earn = credit(db, program, member, 100 + n, clock(), pending_days=0)
        credit(db, program, member, 50, clock() + timedelta(days=n))  # pending 5 days
        spend(db, program, member, 30, clock() + timedelta(days=1))
        if n % 2:
            reverse(db, program, member, earn, clock() + timedelta(days=2))  # leaves debt
    return members


def _shape(db: Database, program: ProgramSettings, members: list[int]) -> list[object]:
    shape: list[object] = []
    with db.reader() as session:
        for member in members:
            summary = queries.balance(session, program.id, member)
            page, _ = queries.transactions_page(
                session, program.id, member, before_id=None, limit=50
            )
            shape.append(
                (summary.available, summary.pending, summary.debt, summary.lifetime_earned)
            )
            shape.append(
                [(t.kind, t.points, t.reason, t.occurred_at, sorted(t.postings)) for t in page]
            )
    return shape


def test_bulk_jobs_match_the_services(
    db: Database, make_program: ProgramFactory, clock: FixedClock
) -> None:
    settings = {
        "expiry_policy": ExpiryPolicy.DAYS_AFTER_EARN,
        "expiry_value": 10,
        "pending_days": 5,
    }
    one, many = make_program(**settings), make_program(**settings)
    one_members, many_members = _history(db, one, clock), _history(db, many, clock)
    for days in (6, 12, 30):
        now = clock() + timedelta(days=days)
        with session_scope(db.writer) as session:
            for member in one_members:
                service.release_member(session, program=one, member_id=member, now=now)
                service.expire_member(session, program=one, member_id=member, now=now)
        report = run_ledger_jobs(db, now=now, batch_size=3)
        assert not report.failures
    shape_one = _shape(db, one, one_members)
    assert shape_one == _shape(db, many, many_members)
    assert any("release" in str(part) for part in shape_one)
    assert any("expire" in str(part) for part in shape_one)
    assert_verified(db, one)
    assert_verified(db, many)
