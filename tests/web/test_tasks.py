"""The periodic jobs delete members' sign-in codes a day after they were made, and deliver
e-mails a request left in the outbox."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from punchcard import jobs
from punchcard.config import Settings
from punchcard.db import Database, session_scope
from punchcard.members import service as members
from punchcard.models.web import LoginCode, OutboxMessage
from punchcard.outbox import service as outbox
from punchcard.programs import service as programs

NOW = datetime(2026, 5, 1, 12, tzinfo=UTC)


def test_the_jobs_delete_day_old_codes_and_send_what_waits(fresh_db: Database) -> None:
    with session_scope(fresh_db.writer) as session:
        program = programs.create_program(session, name="codes", now=NOW)
        member, _ = members.enrol(session, program_id=program.id, external_id="m", now=NOW)
        for age in (timedelta(days=2), timedelta(hours=25), timedelta(hours=23), timedelta(0)):
            session.add(
                LoginCode(
                    member_id=member.id,
                    code_hash="x" * 64,
                    browser="b" * 64,
                    attempts=0,
                    expires_at=NOW - age + timedelta(minutes=10),
                    created_at=NOW - age,
                )
            )
        outbox.enqueue_email(
            session,
            program_id=program.id,
            recipient="m@example.com",
            subject="left behind",
            body="a request wrote it and died before delivering",
            locale="en",
            now=NOW,
        )
    report = jobs.run_all(fresh_db, now=NOW, settings=Settings(mail_transport="log"))
    assert report.login_codes == 2
    assert report.emails == 1
    assert "deleted 2 old sign-in code(s)" in report.summary()
    with fresh_db.reader() as session:
        ages = sorted(NOW - c for c in session.execute(select(LoginCode.created_at)).scalars())
        sent = session.execute(select(OutboxMessage.sent_at)).scalars().all()
    assert ages == [timedelta(0), timedelta(hours=23)]
    assert sent == [NOW]
