"""Small helpers for ledger tests: enrol a member, write through the services, read back."""

from __future__ import annotations

import uuid
from datetime import datetime

from punchcard.db import Database, session_scope
from punchcard.ledger import queries, reversals, service
from punchcard.ledger.domain import Kind
from punchcard.ledger.queries import BalanceSummary
from punchcard.ledger.verify import verify
from punchcard.members import service as members
from punchcard.programs.domain import ProgramSettings


def enrol(db: Database, program: ProgramSettings, now: datetime) -> int:
    with session_scope(db.writer) as session:
        member, _ = members.enrol(
            session, program_id=program.id, external_id=uuid.uuid4().hex, now=now
        )
    return member.id


def credit(
    db: Database,
    program: ProgramSettings,
    member_id: int,
    points: int,
    now: datetime,
    *,
    pending_days: int | None = None,
    kind: Kind = Kind.EARN,
) -> int:
    with session_scope(db.writer) as session:
        return service.credit(
            session,
            program=program,
            member_id=member_id,
            points=points,
            reason="test credit",
            now=now,
            pending_days=pending_days,
            kind=kind,
        )


def spend(
    db: Database, program: ProgramSettings, member_id: int, points: int, now: datetime
) -> int:
    with session_scope(db.writer) as session:
        return service.debit(
            session, program=program, member_id=member_id, points=points, reason="test", now=now
        )


def reverse(
    db: Database,
    program: ProgramSettings,
    member_id: int,
    tx_id: int,
    now: datetime,
    points: int | None = None,
) -> int:
    with session_scope(db.writer) as session:
        return reversals.reverse(
            session,
            program=program,
            member_id=member_id,
            transaction_id=tx_id,
            points=points,
            reason="test reversal",
            now=now,
        )


def balance(db: Database, program: ProgramSettings, member_id: int) -> BalanceSummary:
    with db.reader() as session:
        return queries.balance(session, program.id, member_id)


def assert_verified(db: Database, program: ProgramSettings) -> None:
    with db.reader() as session:
        report = verify(session, program.id)
    assert report.ok, [str(v) for v in report.violations]
