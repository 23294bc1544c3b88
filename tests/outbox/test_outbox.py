"""The outbox: a message exists exactly when its transaction committed, and is delivered once
(the `log` transport prints it; `none` leaves it for a relay)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from punchcard.db import Database, session_scope
from punchcard.models.web import OutboxMessage
from punchcard.outbox import service as outbox

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)


def _write(db: Database, subject: str, *, fail: bool = False) -> None:
    with session_scope(db.writer) as session:
        outbox.enqueue_email(
            session,
            program_id=None,
            recipient="m@example.com",
            subject=subject,
            body=f"body of {subject}",
            locale="fi",
            now=NOW,
        )
        if fail:
            raise RuntimeError("the change failed")


def test_a_rolled_back_change_sends_nothing_and_a_committed_one_is_sent_once(
    fresh_db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    with pytest.raises(RuntimeError):
        _write(fresh_db, "never", fail=True)
    _write(fresh_db, "hello")
    assert outbox.deliver(fresh_db, transport="none", now=NOW) == 0  # a relay collects them
    with caplog.at_level(logging.INFO, logger="punchcard.outbox"):
        assert outbox.deliver(fresh_db, transport="log", now=NOW) == 1
        assert outbox.deliver(fresh_db, transport="log", now=NOW) == 0
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "hello" in logged
    assert "body of hello" in logged
    assert "never" not in logged
    with fresh_db.reader() as session:
        rows = session.execute(select(OutboxMessage.subject, OutboxMessage.sent_at)).all()
    assert [(r[0], r[1]) for r in rows] == [("hello", NOW)]
    # Sent messages (which may hold a sign-in code) are forgotten after a day.
    assert outbox.prune(fresh_db, now=NOW + timedelta(hours=23)) == 0
    assert outbox.prune(fresh_db, now=NOW + timedelta(hours=25)) == 1
