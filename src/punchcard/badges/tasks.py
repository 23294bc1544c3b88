"""Badges that time or the tier job award, not an event: N years a member (the anniversary
passed) and tiers reached through a grant or the tier job.

Set-based, a page of members per transaction: find the members lacking the badge in one
statement, lock their balance rows (in member order, as every earn path does, so the job
never deadlocks with live events), insert every award of the page in one statement ON
CONFLICT DO NOTHING, then give the points of the rows actually inserted. Running it twice,
or beside live traffic, awards nothing twice."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from punchcard.badges import domain
from punchcard.badges import repository as repo
from punchcard.badges.domain import Definition, Kind
from punchcard.badges.service import Grant, definition_of, grant
from punchcard.db import Database, session_scope
from punchcard.ledger import bulk
from punchcard.programs import service as programs


def run(db: Database, *, now: datetime, batch_size: int) -> int:
    """Badges awarded."""
    with db.reader() as session:
        badges = repo.job_badges(session)
    done = 0
    for row in badges:
        badge = definition_of(row)
        while True:
            with session_scope(db.writer) as session:
                found, awarded = _page(session, row.program_id, badge, now, batch_size)
            done += awarded
            if found < batch_size:
                break
    return done


def _page(
    session: Session, program_id: int, badge: Definition, now: datetime, limit: int
) -> tuple[int, int]:
    """(members found lacking the badge, badges awarded) for one page."""
    candidates = _candidates(session, program_id, badge, now, limit)
    if not candidates:
        return 0, 0
    bulk.lock_balances(session, program_id, sorted(g.member_id for g in candidates))
    program = programs.get_program(session, program_id)
    return len(candidates), grant(session, program, candidates, now)


def _candidates(
    session: Session, program_id: int, badge: Definition, now: datetime, limit: int
) -> list[Grant]:
    criteria = badge.criteria
    if criteria.kind is Kind.MEMBER_YEARS:
        years = int(criteria.years or 0)
        cutoff = domain.add_years(now, -years)
        found = repo.members_since(session, program_id, badge.id, cutoff, limit)
        return [
            Grant(badge, m, "job:member-years", min(domain.add_years(since, years), now))
            for m, since in found
        ]
    names = repo.tier_names(session, program_id) or []
    if criteria.tier not in names:
        return []  # the ladder no longer has the tier: nothing to reach
    reached = names[names.index(str(criteria.tier)) :]
    held = repo.members_holding(session, program_id, badge.id, reached, limit)
    return [Grant(badge, m, _tier_source(change), since) for m, since, change in held]


def _tier_source(change: Any) -> str:
    return "job:tier" if change is None else f"tier-change:{change}"
