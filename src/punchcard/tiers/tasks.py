"""The tier re-evaluation job: members whose period (and grace) ended are renewed or moved down
by the program's policy, judged at the end of the period, not on the day the job runs.

A page of members is one transaction, under the same balance-row locks as every earning event,
so the job can run twice, concurrently, or beside live traffic: a second runner finds every
member's validity in the future. A member several periods behind (the job did not run for two
years) is judged period by period, each at its own boundary; each round of a page asks for
every member's metric in one statement. A page that fails is redone one member at a time, each
on its own savepoint, so one bad member never blocks the others."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.orm import Session

from punchcard.db import Database, session_scope
from punchcard.ledger import bulk
from punchcard.tiers import domain, service
from punchcard.tiers import repository as repo
from punchcard.tiers.domain import Held, Policy

log = logging.getLogger("punchcard.jobs")


def reevaluate_members(
    session: Session, *, program_id: int, member_ids: list[int], now: datetime
) -> int:
    """Bring these members' tiers up to `now`; returns how many were due."""
    policy = service.policy_of(session, program_id)
    if policy is None:
        return 0
    bulk.lock_balances(session, program_id, member_ids)
    stored = repo.stored_tiers(session, program_id, member_ids)
    todo = {m: held for m, held in stored.items() if domain.due(policy, held, now)}
    count = len(todo)
    while todo:
        todo = _round(session, program_id, policy, todo, now)
    return count


def _round(
    session: Session, program_id: int, policy: Policy, todo: dict[int, Held], now: datetime
) -> dict[int, Held]:
    """One period for each member: every metric in one statement, then each decision."""
    members = sorted(todo)
    spans = []
    for member_id in members:
        boundary = todo[member_id].valid_until
        assert boundary is not None
        spans.append((member_id, *domain.span_closing(policy.window, boundary)))
    values = repo.metrics(session, program_id, policy.metric, spans)
    left: dict[int, Held] = {}
    for member_id, value in zip(members, values, strict=True):
        before = todo[member_id]
        change = domain.at_boundary(policy, before, value)
        after = service.record(session, program_id, member_id, before, change, now)
        if domain.due(policy, after, now):
            left[member_id] = after
    return left


def _page(db: Database, due: list[tuple[int, int]], now: datetime) -> int:
    by_program: dict[int, list[int]] = {}
    for program_id, member_id in due:
        by_program.setdefault(program_id, []).append(member_id)
    done = 0
    with session_scope(db.writer) as session:
        for program_id, members in by_program.items():
            done += reevaluate_members(session, program_id=program_id, member_ids=members, now=now)
    return done


def _one_by_one(
    db: Database, due: list[tuple[int, int]], now: datetime, failures: list[str]
) -> int:
    done = 0
    with session_scope(db.writer) as session:
        for program_id, member_id in due:
            savepoint = session.begin_nested()
            try:
                done += reevaluate_members(
                    session, program_id=program_id, member_ids=[member_id], now=now
                )
            except Exception as exc:  # one member's failure must not stop the others
                savepoint.rollback()
                log.exception("tier job failed for member %s of program %s", member_id, program_id)
                failures.append(f"program {program_id} member {member_id}: {exc}")
            else:
                savepoint.commit()
    return done


def reevaluate(
    db: Database,
    *,
    now: datetime,
    batch_size: int = 500,
    program_id: int | None = None,
    failures: list[str] | None = None,
) -> int:
    """Re-evaluate every member whose tier's period and grace have ended by `now`, a page at a
    time; returns how many members were re-evaluated."""
    failures = failures if failures is not None else []
    done = 0
    after = (0, 0)
    while True:
        with db.reader() as session:
            due = repo.due_members(session, now, batch_size, after, program_id)
        if not due:
            return done
        after = due[-1]
        try:
            done += _page(db, due, now)
        except Exception:  # find the member at fault, and do all the others
            log.warning("a tier job page failed; retrying its members one by one", exc_info=True)
            done += _one_by_one(db, due, now, failures)
