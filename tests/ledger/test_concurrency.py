"""Many threads on one member at once: no overdraft, nothing lost, every refusal a 409."""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest

from punchcard.db import Database, session_scope
from punchcard.errors import InsufficientPointsError
from punchcard.kit.clock import FixedClock
from punchcard.ledger import service
from punchcard.ledger.tasks import run_ledger_jobs
from punchcard.members import service as members
from punchcard.programs import service as programs
from punchcard.programs.domain import ExpiryPolicy, ProgramSettings
from tests.ledger.helpers import assert_verified, balance, credit, enrol

THREADS = 32


@pytest.mark.slow
def test_32_threads_spending_from_one_member_never_overdraw(
    db: Database, program: ProgramSettings, clock: FixedClock
) -> None:
    member = enrol(db, program, clock())
    for day in range(10):
        credit(db, program, member, 100, clock() - timedelta(days=day))
    barrier = threading.Barrier(THREADS)

    def spend_once(_: int) -> str:
        barrier.wait()
        try:
            with session_scope(db.writer) as session:
                service.debit(
                    session,
                    program=program,
                    member_id=member,
                    points=40,
                    reason="race",
                    now=clock(),
                )
        except InsufficientPointsError as exc:
            return f"refused {exc.status} {exc.code}"
        return "spent"

    with ThreadPoolExecutor(THREADS) as pool:
        outcomes = Counter(pool.map(spend_once, range(THREADS)))
    assert outcomes == {"spent": 25, "refused 409 insufficient_points": 7}
    summary = balance(db, program, member)
    assert summary.available == 0
    assert summary.lifetime_earned == 1000
    assert_verified(db, program)


@pytest.mark.slow
def test_racing_enrolments_of_one_customer_make_one_member(
    db: Database, program: ProgramSettings, clock: FixedClock
) -> None:
    external_id = uuid.uuid4().hex
    barrier = threading.Barrier(16)

    def enrol_once(_: int) -> tuple[int, bool]:
        barrier.wait()
        with session_scope(db.writer) as session:
            member, created = members.enrol(
                session, program_id=program.id, external_id=external_id, now=clock()
            )
        return member.id, created

    with ThreadPoolExecutor(16) as pool:
        results = list(pool.map(enrol_once, range(16)))
    assert len({member_id for member_id, _ in results}) == 1
    assert sum(created for _, created in results) == 1
    assert_verified(db, program)


@pytest.mark.slow
def test_jobs_running_concurrently_expire_each_lot_once(
    fresh_db: Database, clock: FixedClock
) -> None:
    """On a database of its own: the jobs sweep every program, and the shared test database
    holds other tests' pending points that fall due by the same date."""
    db = fresh_db
    with session_scope(db.writer) as session:
        program = programs.create_program(
            session,
            name="jobs",
            now=clock(),
            expiry_policy=ExpiryPolicy.DAYS_AFTER_EARN,
            expiry_value=10,
            pending_days=5,
        )
    ids = [enrol(db, program, clock()) for _ in range(12)]
    for member in ids:
        credit(db, program, member, 30, clock(), pending_days=0)
        credit(db, program, member, 20, clock())  # pending for 5 days, then 10 to expiry
    later = clock() + timedelta(days=11)
    with ThreadPoolExecutor(3) as pool:
        reports = list(pool.map(lambda _: run_ledger_jobs(db, now=later, batch_size=5), range(3)))
    assert all(not r.failures for r in reports)
    assert sum(r.released for r in reports) == 12
    for member in ids:
        summary = balance(db, program, member)
        assert (summary.available, summary.pending) == (20, 0)
    assert_verified(db, program)
