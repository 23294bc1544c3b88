"""`punchcard demo`: a program with a realistic rule set and the real CDNOW order history.

The history goes through the same import path and rules as any merchant's would; then a few
reviews, shares, recycling drop-offs and a refund show the other ways to earn, and the jobs run
up to the end of the data (pending points released). The demo's points never expire: the data
is from 1997-98, and any expiry date would have passed long before anyone looks at it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from punchcard.db import Database, session_scope
from punchcard.events import service as events
from punchcard.events.importer import ImportReport, import_orders
from punchcard.events.sources import read
from punchcard.kit.clock import utcnow
from punchcard.ledger.tasks import run_ledger_jobs
from punchcard.ledger.verify import verify
from punchcard.members import service as members
from punchcard.models import Order
from punchcard.programs import service as programs
from punchcard.programs.domain import ExpiryPolicy, ProgramSettings, Scope
from punchcard.rules import service as rules

DEMO_NAME = "Demo Store"
DATA = Path(__file__).resolve().parents[2] / "data" / "cdnow" / "CDNOW_master.txt"
END_OF_DATA = datetime(1998, 7, 1, tzinfo=UTC)
DEMO_RULES = {
    "rules": [
        {
            "id": "base",
            "name": "1 star per dollar",
            "events": ["order.placed"],
            "effect": {"type": "per_currency_unit", "points": 1, "rounding": "down"},
        },
        {
            "id": "weekend-double",
            "name": "Double stars at the weekend",
            "events": ["order.placed"],
            "conditions": {"days_of_week": ["sat", "sun"]},
            "effect": {"type": "multiplier", "factor": 2},
        },
        {
            "id": "first-order",
            "name": "Welcome bonus on the first order",
            "events": ["order.placed"],
            "conditions": {"first_order": True},
            "effect": {"type": "fixed", "points": 50},
        },
        {
            "id": "review",
            "name": "Stars for a review",
            "events": ["review.submitted"],
            "effect": {"type": "fixed", "points": 20},
            "caps": {"day": 40},
        },
        {
            "id": "share",
            "name": "Stars for sharing",
            "events": ["social.shared"],
            "effect": {"type": "fixed", "points": 10},
            "caps": {"day": 20},
        },
        {
            "id": "recycling",
            "name": "Stars for recycling old CDs",
            "events": ["recycling.dropped_off"],
            "effect": {"type": "fixed", "points": 25},
            "caps": {"day": 50},
        },
    ]
}


@dataclass(frozen=True)
class DemoSummary:
    program_id: int
    admin_key: str
    storefront_key: str
    members: int
    orders: int
    transactions: int
    verify_line: str
    sample_member: int
    imported: dict[str, object] | None

    def text(self, port: int) -> str:
        base = f"http://127.0.0.1:{port}"
        key = self.admin_key
        member = f"{base}/v1/members/{self.sample_member}"
        lines = [f"Demo program {self.program_id} (CDNOW order history, {DATA.name})"]
        if self.imported is not None:
            lines.append(f"import: {json.dumps(self.imported)}")
        lines += [
            f"{self.members} members, {self.orders} orders, {self.transactions} ledger "
            f"transactions; {self.verify_line}",
            f"admin key:      {key}",
            f"storefront key: {self.storefront_key}",
            f"API docs:       {base}/docs",
            "try:",
            f"  curl -H 'Authorization: Bearer {key}' {member}/balance",
            f"  curl -H 'Authorization: Bearer {key}' {member}/transactions",
            f"  curl -H 'Authorization: Bearer {key}' {base}/v1/rules",
        ]
        return "\n".join(lines)


def build_demo(db: Database, *, data: Path = DATA) -> DemoSummary:
    """Build the demo program once; run again, it reuses it and only hands out new keys."""
    now = utcnow()
    with db.reader() as session:
        existing = [p for p in programs.list_programs(session) if p.name == DEMO_NAME]
    report = None
    if existing:
        program = existing[0]
    else:
        program = _create(db, now)
        report = import_orders(
            db, program_id=program.id, rows=read(data, "cdnow"), fmt="cdnow", now=now
        )
        _engagement(db, program, now)
        run_ledger_jobs(db, now=END_OF_DATA)
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
        checked = verify(session, program.id)
        orders = session.execute(
            select(func.count()).select_from(Order).where(Order.program_id == program.id)
        ).scalar_one()
        sample = members.find_ids(session, program_id=program.id, external_ids=["00004"])
    return DemoSummary(
        program.id,
        admin.api_key,
        store.api_key,
        checked.members,
        int(orders),
        checked.transactions,
        checked.summary(),
        sample.get("00004", 1),
        report.as_json() if isinstance(report, ImportReport) else None,
    )


def _create(db: Database, now: datetime) -> ProgramSettings:
    with session_scope(db.writer) as session:
        program = programs.create_program(
            session,
            name=DEMO_NAME,
            now=now,
            points_name="stars",
            expiry_policy=ExpiryPolicy.NEVER,
            expiry_value=0,
            pending_days=30,
        )
        rules.replace(session, program_id=program.id, body=DEMO_RULES, now=now)
    return program


def _engagement(db: Database, program: ProgramSettings, now: datetime) -> None:
    """A few non-order events and a refund, so every kind of line shows in the demo."""
    happenings: list[tuple[str, str, datetime, dict[str, Any]]] = [
        (
            "review.submitted",
            "00004",
            datetime(1997, 3, 2, 18, tzinfo=UTC),
            {"sku": "cd-1", "rating": 5},
        ),
        (
            "review.submitted",
            "00004",
            datetime(1997, 3, 2, 19, tzinfo=UTC),
            {"sku": "cd-2", "rating": 4},
        ),
        (
            "review.submitted",
            "00004",
            datetime(1997, 3, 2, 20, tzinfo=UTC),
            {"sku": "cd-3", "rating": 3},
        ),
        (
            "social.shared",
            "00004",
            datetime(1997, 4, 5, 9, tzinfo=UTC),
            {"platform": "web", "url": "https://example.com/cd-1"},
        ),
        ("recycling.dropped_off", "00009", datetime(1997, 5, 1, 12, tzinfo=UTC), {"items": 3}),
        (
            "order.refunded",
            "00004",
            datetime(1997, 1, 25, 12, tzinfo=UTC),
            {"order_id": "00004-19970118-1", "amount": "10.00"},
        ),
    ]
    with session_scope(db.writer) as session:
        for n, (kind, customer, at, data) in enumerate(happenings):
            events.ingest(
                session,
                program=program,
                event=events.EventInput(
                    f"demo-{n}", kind, {"external_id": customer}, at, data=data
                ),
                now=now,
            )
