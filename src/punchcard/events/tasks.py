"""The daily birthday job: a `member.birthday` event for every member whose birthday it is, at
most once a year (the event id `birthday:<member>:<year>` makes a second run a replay), earning
whatever the program's rules say about birthdays."""

from __future__ import annotations

import calendar
import logging
from datetime import datetime

from sqlalchemy import extract, select
from sqlalchemy.orm import Session

from punchcard.db import Database, session_scope
from punchcard.errors import PunchcardError
from punchcard.events import service
from punchcard.models import Member
from punchcard.programs import service as programs
from punchcard.programs.domain import ProgramSettings

log = logging.getLogger("punchcard.jobs")


def _celebrating(session: Session, now: datetime) -> list[tuple[int, int]]:
    """(program, member) pairs whose birthday is today; 29 February counts on the 28th in
    years without one."""
    days = [now.day]
    if now.month == 2 and now.day == 28 and not calendar.isleap(now.year):
        days.append(29)
    rows = session.execute(
        select(Member.program_id, Member.id)
        .where(
            Member.birthday.is_not(None),
            extract("month", Member.birthday) == now.month,
            extract("day", Member.birthday).in_(days),
        )
        .order_by(Member.program_id, Member.id)
    ).all()
    return [(int(p), int(m)) for p, m in rows]


def birthdays(db: Database, *, now: datetime, batch_size: int = 500) -> int:
    """Send today's birthday events; returns how many were new."""
    with db.reader() as session:
        due = _celebrating(session, now)
    sent = 0
    for start in range(0, len(due), batch_size):
        with session_scope(db.writer) as session:
            cache: dict[int, ProgramSettings] = {}
            for program_id, member_id in due[start : start + batch_size]:
                if program_id not in cache:
                    cache[program_id] = programs.get_program(session, program_id)
                event = service.EventInput(
                    source_id=f"birthday:{member_id}:{now.year}",
                    type="member.birthday",
                    member={"id": member_id},
                    occurred_at=now,
                    data={"year": now.year},
                )
                savepoint = session.begin_nested()
                try:
                    _, replayed = service.ingest_once(
                        session, program=cache[program_id], event=event, now=now
                    )
                except PunchcardError:  # one member's failure must not stop the others
                    savepoint.rollback()
                    log.exception("birthday event failed for member %s", member_id)
                    continue
                savepoint.commit()
                sent += 0 if replayed else 1
    return sent
