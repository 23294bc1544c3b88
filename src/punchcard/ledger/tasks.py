"""Periodic ledger work: release pending points, then expire lots.

A page of due members is handled in one transaction with multi-row writes, under the same
balance-row locks as every other ledger write, so the jobs can run twice, concurrently, or
beside live traffic: a second runner finds nothing left to do. A page that fails is redone one
member at a time, each on its own savepoint, so one bad member never blocks the others."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from punchcard.db import Database, session_scope
from punchcard.ledger import bulk, service
from punchcard.ledger import repository as repo
from punchcard.programs import service as programs
from punchcard.programs.domain import ProgramSettings

log = logging.getLogger("punchcard.jobs")

Finder = Callable[[Session, datetime, int, tuple[int, int]], list[tuple[int, int]]]
Action = Callable[[Session, ProgramSettings, int, datetime], int]
BulkAction = Callable[..., int]


@dataclass
class JobReport:
    released: int = 0
    expired: int = 0
    pruned_keys: int = 0
    birthdays: int = 0
    expired_codes: int = 0
    tiers: int = 0
    badges: int = 0
    emails: int = 0
    login_codes: int = 0
    failures: list[str] = field(default_factory=list)

    def summary(self) -> str:
        text = (
            f"released pending points for {self.released} member(s), expired lots of "
            f"{self.expired}, expired {self.expired_codes} reward code(s), "
            f"sent {self.birthdays} birthday event(s), re-evaluated {self.tiers} tier(s), awarded "
            f"{self.badges} badge(s), forgot "
            f"{self.pruned_keys} old idempotency key(s)"
        )
        if self.emails:
            text += f", sent {self.emails} e-mail(s) left in the outbox"
        if self.login_codes:
            text += f", deleted {self.login_codes} old sign-in code(s)"
        return text + (f", {len(self.failures)} failure(s)" if self.failures else "")


def _release(session: Session, program: ProgramSettings, member_id: int, now: datetime) -> int:
    return len(service.release_member(session, program=program, member_id=member_id, now=now))


def _expire(session: Session, program: ProgramSettings, member_id: int, now: datetime) -> int:
    return int(
        service.expire_member(session, program=program, member_id=member_id, now=now) is not None
    )


def _page(
    db: Database,
    due: list[tuple[int, int]],
    now: datetime,
    bulk_act: BulkAction,
    cache: dict[int, ProgramSettings],
) -> int:
    """The whole page in one transaction with multi-row writes."""
    done = 0
    with session_scope(db.writer) as session:
        by_program: dict[int, list[int]] = {}
        for program_id, member_id in due:
            by_program.setdefault(program_id, []).append(member_id)
        for program_id, members in by_program.items():
            if program_id not in cache:
                cache[program_id] = programs.get_program(session, program_id)
            done += bulk_act(session, program=cache[program_id], members=members, now=now)
    return done


def _one_by_one(
    db: Database,
    due: list[tuple[int, int]],
    now: datetime,
    act: Action,
    cache: dict[int, ProgramSettings],
    report: JobReport,
) -> int:
    """After a page failed: each member on its own savepoint, so only the culprit is left."""
    done = 0
    with session_scope(db.writer) as session:
        for program_id, member_id in due:
            if program_id not in cache:
                cache[program_id] = programs.get_program(session, program_id)
            savepoint = session.begin_nested()
            try:
                done += 1 if act(session, cache[program_id], member_id, now) else 0
            except Exception as exc:  # one member's failure must not stop the others
                savepoint.rollback()
                log.exception("job failed for member %s of program %s", member_id, program_id)
                report.failures.append(f"program {program_id} member {member_id}: {exc}")
            else:
                savepoint.commit()
    return done


def _sweep(
    db: Database,
    now: datetime,
    batch: int,
    find: Finder,
    jobs: tuple[BulkAction, Action],
    report: JobReport,
) -> int:
    """Handle due members a page at a time, each page in one transaction."""
    bulk_act, act = jobs
    done = 0
    after = (0, 0)
    cache: dict[int, ProgramSettings] = {}
    while True:
        with db.reader() as session:
            due = find(session, now, batch, after)
        if not due:
            return done
        after = due[-1]
        try:
            done += _page(db, due, now, bulk_act, cache)
        except Exception:  # find the member at fault, and do all the others
            log.warning("a job page failed; retrying its members one by one", exc_info=True)
            done += _one_by_one(db, due, now, act, cache, report)


def run_ledger_jobs(db: Database, *, now: datetime, batch_size: int = 500) -> JobReport:
    report = JobReport()
    report.released = _sweep(
        db, now, batch_size, repo.members_with_due_pending, (bulk.release_many, _release), report
    )
    report.expired = _sweep(
        db, now, batch_size, repo.members_with_due_lots, (bulk.expire_many, _expire), report
    )
    return report
