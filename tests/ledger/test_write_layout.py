"""What each earned event writes beside its rows (migrations b5d9e2f7a1c3, e1c6a4b8d2f9):
postings carry no index by member, which nothing read; SQLite keeps the balances in their
key's own B-tree (`WITHOUT ROWID`), one lookup instead of two. The journal and the balances
stay checked as before: `ledger verify`, the guarded spend, the balances' CHECKs."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from punchcard import migrate
from punchcard.db import Database, session_scope
from punchcard.errors import InsufficientPointsError
from punchcard.kit.clock import FixedClock
from punchcard.ledger.queries import transactions_page
from punchcard.ledger.verify import verify
from punchcard.programs import service as programs
from punchcard.programs.domain import ProgramSettings
from tests.conftest import downgrade
from tests.ledger.helpers import balance, credit, enrol, reverse, spend

BEFORE = "c3e8b1f5a2d7"  # the revision before postings lost their member index


def _posting_indexes(db: Database) -> set[str]:
    with db.engine.connect() as conn:
        if db.is_sqlite:
            rows = conn.execute(text("PRAGMA index_list(postings)")).all()
            return {str(r[1]) for r in rows}
        return set(
            conn.execute(
                text("SELECT indexname FROM pg_indexes WHERE tablename = 'postings'")
            ).scalars()
        )


def _without_rowid(db: Database) -> bool:
    with db.engine.connect() as conn:
        sql = conn.execute(
            text("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'balances'")
        ).scalar_one()
    return "WITHOUT ROWID" in str(sql).upper()


def _balance(db: Database, program: ProgramSettings, member_id: int) -> tuple[int, ...]:
    found = balance(db, program, member_id)
    return found.available, found.pending, found.debt, found.lifetime_earned


def test_the_write_layout_of_a_migrated_database(db: Database) -> None:
    assert "ix_postings_member_account" not in _posting_indexes(db)
    assert "ix_postings_transaction_id" in _posting_indexes(db)
    if db.is_sqlite:
        assert _without_rowid(db)


def test_a_balance_without_rowid_keeps_its_checks_and_its_guarded_spend(
    fresh_db: Database, clock: FixedClock
) -> None:
    db = fresh_db
    with session_scope(db.writer) as session:
        program = programs.create_program(session, name="layout", now=clock())
    member = enrol(db, program, clock())
    credit(db, program, member, 30, clock())
    with pytest.raises(InsufficientPointsError):
        spend(db, program, member, 31, clock())
    spend(db, program, member, 30, clock())
    assert _balance(db, program, member) == (0, 0, 0, 30)
    with pytest.raises(IntegrityError), session_scope(db.writer) as session:
        session.execute(
            text("UPDATE balances SET available = -1 WHERE member_id = :m"), {"m": member}
        )
    with pytest.raises(IntegrityError), session_scope(db.writer) as session:  # one per member
        session.execute(
            text(
                "INSERT INTO balances (program_id, member_id, available, pending, debt, "
                "lifetime_earned) VALUES (:p, :m, 0, 0, 0, 0)"
            ),
            {"p": program.id, "m": member},
        )
    with db.reader() as session:
        assert verify(session, program.id).ok


def test_a_database_with_a_journal_upgrades_and_downgrades(
    unmigrated_db: Database, backend: str, clock: FixedClock
) -> None:
    """From the revision before, with balances and postings in place, and back: the rows and
    what `ledger verify` and a member's history read of them are the same throughout."""
    db = unmigrated_db
    migrate.upgrade(db.engine, BEFORE)
    with session_scope(db.writer) as session:
        program = programs.create_program(session, name="before", now=clock())
    member = enrol(db, program, clock())
    earned = credit(db, program, member, 50, clock())
    assert "ix_postings_member_account" in _posting_indexes(db)
    migrate.upgrade(db.engine)
    assert "ix_postings_member_account" not in _posting_indexes(db)
    assert not db.is_sqlite or _without_rowid(db)
    assert _balance(db, program, member) == (50, 0, 0, 50)
    reverse(db, program, member, earned, clock(), points=10)
    spend(db, program, member, 15, clock())
    assert _balance(db, program, member) == (25, 0, 0, 40)
    with db.reader() as session:
        assert verify(session, program.id).ok
        page, _ = transactions_page(session, program.id, member, before_id=None, limit=10)
        legs = [t.postings for t in page]
    assert [len(p) for p in legs] == [2, 2, 2]
    downgrade(db, BEFORE)
    assert migrate.current_revision(db.engine) == BEFORE
    assert "ix_postings_member_account" in _posting_indexes(db)
    assert not db.is_sqlite or not _without_rowid(db)
    assert _balance(db, program, member) == (25, 0, 0, 40)
    with db.reader() as session:
        assert verify(session, program.id).ok
