"""The points rollup takes rows in, and only rows that can no longer commit inside its bounds:
on PostgreSQL a refresh notes bounds and a later one takes them once the transactions running
at the note have ended; SQLite takes them at once. Figures are the same before and after."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from sqlalchemy import func, select, text

from punchcard.analytics.kpis import bounds, rollup
from punchcard.analytics.kpis.sql import tune
from punchcard.analytics.kpis.tasks import refresh_rollup
from punchcard.db import Database, session_scope
from punchcard.ledger import service as ledger
from punchcard.members import service as members
from punchcard.models.analytics import PointsDaily, Rollup
from punchcard.programs import service as programs
from tests.conftest import _libpq, scratch_pg_database

NOW = datetime(2026, 1, 20, 12, tzinfo=UTC)


def _state(db: Database) -> tuple[int, int]:
    with db.reader() as session:
        rows = session.execute(select(func.count()).select_from(PointsDaily)).scalar_one()
        last = session.execute(select(Rollup.last_id).where(Rollup.name == rollup.NAME)).scalar()
    return int(rows), int(last or 0)


# January 2026, as the summary's parameters.
PARAMS: dict[str, object] = {
    "start": datetime(2026, 1, 1, tzinfo=UTC),
    "stop": datetime(2026, 2, 1, tzinfo=UTC),
    "first": datetime(2026, 1, 1).date(),
    "last": datetime(2026, 1, 31).date(),
}


def _points(db: Database, program_id: int) -> list[rollup.AccountSums]:
    with db.reader() as session:
        return sorted(
            rollup.sums(session, program_id, PARAMS), key=lambda s: (s.channel, s.account)
        )


def test_rows_are_taken_only_once_no_open_transaction_can_commit_inside(
    fresh_db: Database, backend: str
) -> None:
    with session_scope(fresh_db.writer) as session:
        program = programs.create_program(session, name=f"r {uuid.uuid4().hex[:6]}", now=NOW)
        member, _ = members.enrol(session, program_id=program.id, external_id="m", now=NOW)
        ledger.adjust(session, program=program, member_id=member.id, points=9, reason="x", now=NOW)
    before = _points(fresh_db, program.id)

    slow = fresh_db.writer() if backend == "postgresql" else None
    if slow is not None:  # a transaction open across the first refresh
        ledger.adjust(slow, program=program, member_id=member.id, points=4, reason="y", now=NOW)
        slow.flush()
    later = NOW + timedelta(hours=1)
    refresh_rollup(fresh_db, now=later, settle=timedelta(0))
    refresh_rollup(fresh_db, now=later, settle=timedelta(0))
    if slow is not None:
        assert _state(fresh_db) == (0, 0)  # noted, not taken: a transaction was running
        assert _points(fresh_db, program.id) == before  # and the figures are whole
        slow.commit()
        slow.close()
        # A transaction of this test's own database still in its last statement can delay
        # the take a little (never lose anything); try a few times.
        for _ in range(100):
            refresh_rollup(fresh_db, now=later, settle=timedelta(0))
            if _state(fresh_db)[1]:
                break
            time.sleep(0.05)
    rows, last = _state(fresh_db)

    assert rows > 0
    assert last > 0
    after = _points(fresh_db, program.id)
    available = sum(s.to_end for s in after if s.account == "member:available")
    assert available == 9 + (4 if slow is not None else 0)
    if slow is None:
        assert after == before


def test_a_transaction_open_in_another_database_does_not_hold_the_rollup_back(
    fresh_db: Database, backend: str
) -> None:
    """Transaction ids are the server's: a long transaction in another database on the same
    server (a dump, another shop, a parallel test run) has a smaller id than the note, but
    cannot write this database's rows, so the rollup takes its bounds regardless. (It used to
    wait for the server-wide oldest transaction, which stalled a CI run.)"""
    if backend != "postgresql":
        pytest.skip("SQLite takes the bounds at once: no transaction can stay open across a run")
    with session_scope(fresh_db.writer) as session:
        program = programs.create_program(session, name=f"o {uuid.uuid4().hex[:6]}", now=NOW)
        member, _ = members.enrol(session, program_id=program.id, external_id="m", now=NOW)
        ledger.adjust(session, program=program, member_id=member.id, points=9, reason="x", now=NOW)
    later = NOW + timedelta(hours=1)
    with scratch_pg_database("punchcard_other") as url, psycopg.connect(_libpq(url)) as other:
        xid = other.execute("SELECT pg_current_xact_id()::text").fetchone()  # holds an id
        assert xid is not None
        refresh_rollup(fresh_db, now=later, settle=timedelta(0))  # notes, past the other's id
        refresh_rollup(fresh_db, now=later, settle=timedelta(0))  # takes
        assert _state(fresh_db)[1] > 0
        with fresh_db.reader() as session:
            oldest = session.execute(
                text("SELECT pg_snapshot_xmin(pg_current_snapshot())::text")
            ).scalar_one()
        assert int(oldest) <= int(xid[0])  # the other database's transaction was still open
        other.rollback()


def test_a_refresh_committing_while_a_summary_reads_is_never_counted_twice(
    fresh_db: Database,
) -> None:
    with session_scope(fresh_db.writer) as session:
        program = programs.create_program(session, name=f"s {uuid.uuid4().hex[:6]}", now=NOW)
        member, _ = members.enrol(session, program_id=program.id, external_id="m", now=NOW)
        ledger.adjust(session, program=program, member_id=member.id, points=9, reason="x", now=NOW)
    later = NOW + timedelta(hours=1)

    with fresh_db.reader() as reading:
        tune(reading)  # the summary's first statement: one snapshot for all that follow
        before = rollup.sums(reading, program.id, PARAMS)
        for _ in range(100):  # the job takes the rows in meanwhile, and commits
            refresh_rollup(fresh_db, now=later, settle=timedelta(0))
            if _state(fresh_db)[1]:
                break
            time.sleep(0.05)
        assert _state(fresh_db)[1] > 0
        # Still the bounds (and so the rollup rows) of the summary's own snapshot: bounds read
        # after a refresh committed, beside rows read before it, would count its rows twice.
        assert bounds.current(reading, rollup.NAME).last_id == 0
        again = rollup.sums(reading, program.id, PARAMS)

    def available(found: list[rollup.AccountSums]) -> int:
        return sum(s.to_end for s in found if s.account == "member:available")

    assert available(before) == available(again) == 9
    assert available(_points(fresh_db, program.id)) == 9
