"""Races on PostgreSQL: many transactions (real commits, separate connections) recording
events of one member at once, on the fast path and the general path, and challenges giving
the same badge at once. Each badge is awarded once and its points paid once.

SQLite runs one writer at a time, so nothing races there; these tests skip it."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from punchcard.badges import hooks, service
from punchcard.db import Database, session_scope
from punchcard.events import fastpath
from punchcard.events import service as events
from punchcard.events.service import EventInput
from punchcard.kit.clock import FixedClock
from punchcard.members import service as members
from punchcard.models import LedgerTransaction
from punchcard.models.badge import MemberBadge
from punchcard.programs.domain import ProgramSettings
from punchcard.rules import service as rules
from tests.events.test_events_api import line, order_data, uid
from tests.ledger.helpers import assert_verified
from tests.redemptions.test_concurrency import race

THREADS = 24


@pytest.fixture(autouse=True)
def _postgresql_only(backend: str) -> None:
    if backend == "sqlite":
        pytest.skip("SQLite serialises writers: there is no race to test")


def _badge(db: Database, program: ProgramSettings, criteria: dict[str, object], points: int,
           clock: FixedClock) -> int:  # fmt: skip
    with session_scope(db.writer) as session:
        row = service.create_badge(
            session,
            program_id=program.id,
            fields={"name": uid("b"), "criteria": criteria, "points": points},
            now=clock(),
        )
    return int(row.id)


def _awards(db: Database, program: ProgramSettings) -> tuple[Counter[int], Counter[str]]:
    with db.reader() as session:
        badges = session.execute(
            select(MemberBadge.badge_id, func.count())
            .where(MemberBadge.program_id == program.id)
            .group_by(MemberBadge.badge_id)
        ).all()
        credits = session.execute(
            select(LedgerTransaction.reference, func.count())
            .where(LedgerTransaction.program_id == program.id, LedgerTransaction.reason == "badge")
            .group_by(LedgerTransaction.reference)
        ).all()
    return Counter({b: n for b, n in badges}), Counter({str(r): n for r, n in credits})


@pytest.mark.slow
def test_events_of_one_member_at_once_award_each_badge_and_its_points_once(
    db: Database, program: ProgramSettings, clock: FixedClock
) -> None:
    first = _badge(db, program, {"kind": "order_count", "count": 1}, 50, clock)
    tenth = _badge(db, program, {"kind": "order_count", "count": 10}, 70, clock)
    customer = uid("cust")

    def attempt(index: int) -> None:
        event = EventInput(
            source_id=f"evt-{customer}-{index}",
            type="order.placed",
            member={"external_id": customer},
            occurred_at=clock() - timedelta(minutes=index),
            data=order_data(line("sku", 1, "10.00")),
        )
        with session_scope(db.writer) as session:
            if index % 2:  # half on the fast path, half on the general path
                current = rules.in_force(session, program.id)
                (outcome,) = fastpath.ingest_many(
                    session, program=program, rules=current, events=[event], now=clock()
                )
                assert isinstance(outcome, dict), outcome
            else:
                events.ingest(session, program=program, event=event, now=clock())

    outcomes = race(THREADS, attempt)

    assert Counter(outcomes) == {"ok": THREADS}
    badges, credits = _awards(db, program)
    assert badges == {first: 1, tenth: 1}
    assert credits == {f"badge:{first}": 1, f"badge:{tenth}": 1}
    assert_verified(db, program)


@pytest.mark.slow
def test_challenges_giving_one_badge_at_once_give_it_once(
    db: Database, program: ProgramSettings, clock: FixedClock
) -> None:
    badge = _badge(db, program, {"kind": "manual"}, 30, clock)
    with session_scope(db.writer) as session:
        member, _ = members.enrol(
            session, program_id=program.id, external_id=uid("cust"), now=clock()
        )
    won: list[bool] = []

    def attempt(index: int) -> None:
        with session_scope(db.writer) as session:
            won.append(
                hooks.award(
                    session,
                    program_id=program.id,
                    member_id=member.id,
                    badge_id=badge,
                    source_id=f"challenge:{index}",
                    occurred_at=clock(),
                    now=clock(),
                )
            )

    race(THREADS, attempt)

    assert sorted(won) == [False] * (THREADS - 1) + [True]
    badges, credits = _awards(db, program)
    assert badges == {badge: 1}
    assert credits == {f"badge:{badge}": 1}
