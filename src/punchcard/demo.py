"""`punchcard demo`: a program with a realistic rule set and the real CDNOW order history.

The history goes through the same import path and rules as any merchant's would; then a few
reviews, shares, recycling drop-offs and a refund show the other ways to earn, and the jobs run
up to the end of the data (pending points released). The demo's points never expire: the data
is from 1997-98, and any expiry date would have passed long before anyone looks at it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from punchcard import demo_analytics, demo_engagement, demo_web
from punchcard.config import Settings
from punchcard.db import Database, session_scope
from punchcard.demo_engagement import Played
from punchcard.demo_web import WebDemo
from punchcard.events import service as events
from punchcard.events.importer import ImportReport, import_orders
from punchcard.events.sources import read
from punchcard.kit.clock import utcnow
from punchcard.ledger import queries as ledger_queries
from punchcard.ledger import service as ledger
from punchcard.ledger.tasks import run_ledger_jobs
from punchcard.ledger.verify import verify
from punchcard.members import service as members
from punchcard.models import Order
from punchcard.programs import service as programs
from punchcard.programs.domain import ExpiryPolicy, ProgramSettings, Scope
from punchcard.redemptions import service as redemptions
from punchcard.rewards import causes_service
from punchcard.rewards import service as rewards
from punchcard.rewards.causes_schemas import CauseCreate
from punchcard.rewards.schemas import RewardCreate
from punchcard.rules import service as rules
from punchcard.tiers import service as tiers
from punchcard.tiers.schemas import PolicyIn

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

# Lifetime spend, so that the 1997-98 history still means something on today's date.
DEMO_TIERS = {
    "metric": "spend",
    "window": "lifetime",
    "tiers": [
        {"name": "Fan", "threshold": 0, "perks": ["Member prices"]},
        {"name": "Collector", "threshold": 100, "multiplier": 1.25, "perks": ["Free shipping"]},
        {
            "name": "Audiophile",
            "threshold": 300,
            "multiplier": 1.5,
            "perks": ["Free shipping", "Early access to new releases"],
        },
        {"name": "Insider", "threshold": 1000, "multiplier": 2, "invitation_only": True},
    ],
}
TREES = {"name": "Plant trees", "impact_unit": "tree", "points_per_unit": 500}


def demo_rewards(cause_id: int, now: datetime) -> list[dict[str, Any]]:
    party = (now + timedelta(days=30)).replace(hour=19, minute=0, second=0, microsecond=0)
    return [
        {"name": "$5 off", "type": "discount_amount", "points_cost": 500, "value": "5.00"},
        {"name": "Free shipping", "type": "free_shipping", "points_cost": 200},
        {
            "name": "15% off for Audiophiles",
            "type": "discount_percent",
            "points_cost": 1500,
            "value": "15",
            "tiers": ["Audiophile", "Insider"],
        },
        {
            "name": "Sampler CD",
            "type": "free_product",
            "points_cost": 800,
            "value": "cd-sampler",
            "stock": 100,
            "per_member_limit": 1,
        },
        {"name": "$10 store credit", "type": "gift_card", "points_cost": 1000, "value": "10.00"},
        {
            "name": "Listening party",
            "type": "experience",
            "points_cost": 2000,
            "stock": 40,
            "per_member_limit": 1,
            "details": {"kind": "event", "starts_at": party.isoformat(), "place": "The shop"},
        },
        {"name": "Plant a tree", "type": "donation", "points_cost": 500, "value": str(cause_id)},
    ]


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
    sample_code: str | None = None
    played: Played | None = None
    model_line: str | None = None
    web: WebDemo | None = None

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
            f"  curl -H 'Authorization: Bearer {key}' {member}/tier",
            f"  curl -H 'Authorization: Bearer {key}' {member}/rewards",
            f"  curl -H 'Authorization: Bearer {key}' {member}/redemptions",
        ]
        if self.sample_code is not None:
            lines += [
                f"a code the sample member redeemed for $5 off: {self.sample_code}",
                f"  curl -H 'Authorization: Bearer {self.storefront_key}' "
                "-H 'Content-Type: application/json' "
                f'-d \'{{"code": "{self.sample_code}", "order_total": "40.00"}}\' '
                f"{base}/v1/codes/validate",
            ]
        if self.played is not None:
            lines += self._played_lines(base)
        lines += [
            "analytics (see docs/kpis.md and docs/prediction.md):",
            f"  curl -H 'Authorization: Bearer {key}' "
            f"'{base}/v1/analytics/summary?from=1997-01-01&to=1998-06-30'",
            f"  curl -H 'Authorization: Bearer {key}' {base}/v1/analytics/predictions/latest",
            f"  curl -H 'Authorization: Bearer {key}' '{member}/insights?as_of=1998-06-30'",
        ]
        if self.model_line is not None:
            lines.append(f"  {self.model_line}")
        if self.web is not None:
            lines += self.web.lines(base, self.program_id)
        return "\n".join(lines)

    def _played_lines(self, base: str) -> list[str]:
        assert self.played is not None
        key, member = self.admin_key, f"{base}/v1/members/{self.sample_member}"
        board = f"{base}/v1/leaderboards/{self.played.leaderboard_id}"
        lines = [
            "challenges, badges, streaks, leaderboards, referrals and sharing:",
            f"  curl -H 'Authorization: Bearer {key}' {member}/challenges",
            f"  curl -H 'Authorization: Bearer {key}' {member}/badges",
            f"  curl -H 'Authorization: Bearer {key}' {member}/streaks",
            f"  curl -H 'Authorization: Bearer {key}' '{board}?top=10'",
            f"  curl -H 'Authorization: Bearer {key}' {board}/members/{self.sample_member}",
            f"  curl -H 'Authorization: Bearer {key}' {member}/referral",
            f"  curl -H 'Authorization: Bearer {key}' '{base}/v1/referrals?status=pending'",
        ]
        if self.played.share_token is not None:
            lines.append(f"  the sample member's share link: {base}/s/{self.played.share_token}")
        return lines


def build_demo(db: Database, *, data: Path = DATA) -> DemoSummary:
    """Build the demo program once; run again, it reuses it and only hands out new keys."""
    now = utcnow()
    with db.reader() as session:
        existing = [p for p in programs.list_programs(session) if p.name == DEMO_NAME]
    report = None
    five_off = None
    played = None
    model_line = None
    if existing:
        program = existing[0]
    else:
        program = _create(db, now)
        report = import_orders(
            db, program_id=program.id, rows=read(data, "cdnow"), fmt="cdnow", now=now
        )
        _engagement(db, program, now)
        run_ledger_jobs(db, now=END_OF_DATA)
        model_line = demo_analytics.fit(db, program.id, now)
        five_off = _catalog(db, program, now)
        with db.reader() as session:
            found = members.find_ids(session, program_id=program.id, external_ids=["00004"])
        if "00004" in found:
            settings = Settings(database_url=db.url)
            played = demo_engagement.set_up(db, settings, program.id, found["00004"], now)
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
    web = None
    if "00004" in sample:
        web = demo_web.set_up(db, program.id, sample["00004"], now)
    code = None
    if five_off is not None and "00004" in sample:
        code = _sample_redemption(db, program, sample["00004"], five_off, now)
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
        code,
        played,
        model_line,
        web,
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
        tiers.replace_policy(
            session, program_id=program.id, body=PolicyIn.model_validate(DEMO_TIERS), now=now
        )
        return programs.update_program(
            session,
            program.id,
            changes={
                "points_payment_rate": 100,
                "points_payment_max_percent": 50,
                "point_value": Decimal("0.01"),
            },
            now=now,
        )


def _catalog(db: Database, program: ProgramSettings, now: datetime) -> int:
    """A reward of every type, and a cause to donate to; returns the id of "$5 off"."""
    with session_scope(db.writer) as session:
        cause = causes_service.create_cause(
            session,
            program_id=program.id,
            fields=CauseCreate.model_validate(TREES).model_dump(),
            now=now,
        )
        ids = [
            rewards.create_reward(
                session,
                program_id=program.id,
                fields=RewardCreate.model_validate(body).model_dump(),
                now=now,
            ).row.id
            for body in demo_rewards(int(cause.row.id), now)
        ]
    return int(ids[0])


def _sample_redemption(
    db: Database, program: ProgramSettings, member_id: int, reward_id: int, now: datetime
) -> str | None:
    """The sample member turns 500 stars into $5 off, so there is a code to try at checkout
    (topped up by hand first if the history did not earn them enough)."""
    with session_scope(db.writer) as session:
        if ledger_queries.balance(session, program.id, member_id, now).available < 500:
            ledger.adjust(
                session,
                program=program,
                member_id=member_id,
                points=500,
                reason="demo: stars to try a reward",
                now=now,
            )
        issued = redemptions.redeem(
            session, program=program, member_id=member_id, reward_id=reward_id, now=now
        )
    return issued.code


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
