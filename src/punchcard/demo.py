"""`punchcard demo`: a program with members and a year of ledger activity to explore.

The history is generated from a fixed seed and replayed through the same services as live
traffic, with the clock moved through the year, so the jobs, expiry and pending release all
happen as they would in production."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from punchcard.db import Database, session_scope
from punchcard.errors import PunchcardError
from punchcard.kit.clock import utcnow
from punchcard.ledger import queries, reversals, service
from punchcard.ledger.domain import Kind
from punchcard.ledger.tasks import run_ledger_jobs
from punchcard.ledger.verify import verify
from punchcard.members import service as members
from punchcard.members.domain import Channel
from punchcard.programs import service as programs
from punchcard.programs.domain import ExpiryPolicy, ProgramSettings, Scope

DEMO_NAME = "Demo Store"
FIRST = ["Ana", "Giorgi", "Priya", "Aarav", "Aino", "Eero", "Zsófia", "Bence", "Maya", "Leo"]
LAST = ["Beridze", "Patel", "Shah", "Virtanen", "Korhonen", "Nagy", "Kovács", "Smith"]


@dataclass(frozen=True)
class DemoSummary:
    program_id: int
    admin_key: str
    storefront_key: str
    members: int
    transactions: int
    verify_line: str
    sample_member: int

    def text(self, port: int) -> str:
        base = f"http://127.0.0.1:{port}"
        return "\n".join(
            [
                f"Demo program {self.program_id}: {self.members} members, "
                f"{self.transactions} ledger transactions; {self.verify_line}",
                f"admin key:      {self.admin_key}",
                f"storefront key: {self.storefront_key}",
                f"API docs:       {base}/docs",
                "try:",
                f"  curl -H 'Authorization: Bearer {self.admin_key}' "
                f"{base}/v1/members/{self.sample_member}/balance",
                f"  curl -H 'Authorization: Bearer {self.admin_key}' "
                f"{base}/v1/members/{self.sample_member}/transactions",
            ]
        )


def build_demo(
    db: Database, *, now: datetime | None = None, members_count: int = 40
) -> DemoSummary:
    now = now or utcnow()
    with db.reader() as session:
        existing = [p for p in programs.list_programs(session) if p.name == DEMO_NAME]
    if existing:
        program = existing[0]
    else:
        with session_scope(db.writer) as session:
            program = programs.create_program(
                session,
                name=DEMO_NAME,
                now=now - timedelta(days=400),
                points_name="stars",
                expiry_policy=ExpiryPolicy.END_OF_MONTH,
                expiry_value=9,
                pending_days=14,
            )
        _history(db, program, now, members_count)
    with session_scope(db.writer) as session:
        admin = programs.create_api_key(
            session, program_id=program.id, scopes=(Scope.ADMIN,), now=now, name="demo admin"
        )
        store = programs.create_api_key(
            session,
            program_id=program.id,
            scopes=(Scope.STOREFRONT,),
            now=now,
            name="demo storefront",
        )
    with db.reader() as session:
        report = verify(session, program.id)
        sample = members.search(session, program_id=program.id, filters={}, after_id=0, limit=1)
    return DemoSummary(
        program.id,
        admin.api_key,
        store.api_key,
        report.members,
        report.transactions,
        report.summary(),
        sample[0].id if sample else 0,
    )


def _history(db: Database, program: ProgramSettings, now: datetime, count: int) -> None:
    rng = random.Random(20261122)
    start = now - timedelta(days=365)
    plan: list[tuple[datetime, int, str]] = []
    ids = []
    with session_scope(db.writer) as session:
        for n in range(count):
            first, last = rng.choice(FIRST), rng.choice(LAST)
            member, _ = members.enrol(
                session,
                program_id=program.id,
                external_id=f"cust-{1000 + n}",
                email=f"{first.lower()}.{n}@example.com".replace("ó", "o").replace("á", "a"),
                name=f"{first} {last}",
                channel=rng.choice(list(Channel)),
                now=start,
            )
            ids.append(member.id)
    for member_id in ids:
        for _ in range(rng.randint(2, 14)):
            at = start + timedelta(minutes=rng.randint(0, 365 * 24 * 60 - 1))
            plan.append((at, member_id, rng.choice(["earn", "earn", "earn", "spend", "refund"])))
    plan.sort()
    last_jobs = start
    for at, member_id, action in plan:
        if at - last_jobs > timedelta(days=7):
            run_ledger_jobs(db, now=at)
            last_jobs = at
        with session_scope(db.writer) as session:
            _act(session, program, member_id, action, at, rng)
    run_ledger_jobs(db, now=now)


def _act(
    session: Session,
    program: ProgramSettings,
    member_id: int,
    action: str,
    at: datetime,
    rng: random.Random,
) -> None:
    if action == "earn":
        service.credit(
            session,
            program=program,
            member_id=member_id,
            points=rng.randint(10, 250),
            reason="order",
            reference=f"order-{rng.randint(10000, 99999)}",
            now=at,
        )
        return
    balance = queries.balance(session, program.id, member_id)
    if action == "spend":
        if balance.available >= 100 and balance.debt == 0:
            service.debit(
                session,
                program=program,
                member_id=member_id,
                points=100 * rng.randint(1, balance.available // 100),
                reason="reward: $5 off per 100 stars",
                now=at,
            )
        return
    page, _ = queries.transactions_page(session, program.id, member_id, before_id=None, limit=20)
    earned = [t for t in page if t.kind == Kind.EARN.value]
    if earned:
        try:
            reversals.reverse(
                session,
                program=program,
                member_id=member_id,
                transaction_id=rng.choice(earned).id,
                reason="order refunded",
                now=at,
            )
        except PunchcardError:  # already refunded: a second refund is refused, as it should be
            return
