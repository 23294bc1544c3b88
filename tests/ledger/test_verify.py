"""`ledger verify` catches rows changed behind the engine's back; the journal refuses edits."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from typer.testing import CliRunner

from punchcard.cli import app
from punchcard.db import Database, session_scope
from punchcard.kit.clock import FixedClock
from punchcard.ledger.verify import verify
from punchcard.programs import service as programs
from punchcard.programs.domain import ExpiryPolicy, ProgramSettings
from tests.ledger.helpers import credit, enrol, reverse, spend


def _populate(db: Database, clock: FixedClock) -> tuple[ProgramSettings, int]:
    with session_scope(db.writer) as session:
        program = programs.create_program(
            session,
            name="tamper",
            now=clock(),
            expiry_policy=ExpiryPolicy.DAYS_AFTER_EARN,
            expiry_value=90,
        )
    member = enrol(db, program, clock())
    earn = credit(db, program, member, 100, clock())
    spend(db, program, member, 60, clock() + timedelta(days=1))
    reverse(db, program, member, earn, clock() + timedelta(days=2))
    credit(db, program, member, 25, clock() + timedelta(days=3), pending_days=5)
    credit(db, program, member, 200, clock() + timedelta(days=4), pending_days=0)
    spend(db, program, member, 50, clock() + timedelta(days=5))
    return program, member


def _checks(db: Database) -> set[str]:
    with db.reader() as session:
        return {v.check for v in verify(session).violations}


def _disable_journal_guard(db: Database) -> None:
    with db.engine.begin() as conn:
        if db.is_sqlite:
            conn.execute(text("DROP TRIGGER postings_no_update"))
            conn.execute(text("DROP TRIGGER ledger_transactions_no_update"))
        else:
            conn.execute(text("DROP TRIGGER postings_append_only ON postings"))
            conn.execute(
                text("DROP TRIGGER ledger_transactions_append_only ON ledger_transactions")
            )


def test_clean_ledger_verifies(fresh_db: Database, clock: FixedClock) -> None:
    _populate(fresh_db, clock)
    assert _checks(fresh_db) == set()
    result = CliRunner().invoke(app, ["ledger", "verify", "--db", fresh_db.url])
    assert result.exit_code == 0, result.output
    assert "ledger ok" in result.output


def test_journal_refuses_update_and_delete(fresh_db: Database, clock: FixedClock) -> None:
    _populate(fresh_db, clock)
    for statement in (
        "UPDATE postings SET amount = amount + 1",
        "DELETE FROM lot_entries",
        "UPDATE ledger_transactions SET points = 1",
    ):
        with pytest.raises(DBAPIError), fresh_db.engine.begin() as conn:
            conn.execute(text(statement))


def test_verify_catches_a_changed_balance(fresh_db: Database, clock: FixedClock) -> None:
    _, member = _populate(fresh_db, clock)
    with fresh_db.engine.begin() as conn:
        conn.execute(
            text("UPDATE balances SET available = available + 7 WHERE member_id = :m"),
            {"m": member},
        )
    assert "balance" in _checks(fresh_db)
    result = CliRunner().invoke(app, ["ledger", "verify", "--db", fresh_db.url])
    assert result.exit_code == 1
    assert "stored available" in result.output


def test_verify_catches_a_changed_posting_and_transaction(
    fresh_db: Database, clock: FixedClock
) -> None:
    _populate(fresh_db, clock)
    _disable_journal_guard(fresh_db)
    with fresh_db.engine.begin() as conn:
        conn.execute(
            text(
                "UPDATE postings SET amount = amount + 5 WHERE id = (SELECT MIN(id) FROM postings)"
            )
        )
    assert {"balanced", "immutable", "balance"} <= _checks(fresh_db)


def test_verify_catches_a_rewritten_reason(fresh_db: Database, clock: FixedClock) -> None:
    _populate(fresh_db, clock)
    _disable_journal_guard(fresh_db)
    with fresh_db.engine.begin() as conn:
        conn.execute(text("UPDATE ledger_transactions SET reason = 'nothing to see'"))
    assert _checks(fresh_db) == {"immutable"}


def test_verify_catches_a_changed_lot(fresh_db: Database, clock: FixedClock) -> None:
    _populate(fresh_db, clock)
    with fresh_db.engine.begin() as conn:
        conn.execute(text("UPDATE lots SET remaining = remaining - 1 WHERE remaining > 0"))
    assert {"lots", "balance"} <= _checks(fresh_db)
