"""The demo (acceptance): the whole CDNOW master file through the import, the jobs and verify."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from punchcard import migrate
from punchcard.db import Database, open_database, session_scope
from punchcard.demo import DATA, DemoSummary, build_demo
from punchcard.kit.clock import utcnow
from punchcard.members import service as members
from punchcard.models import MemberTier, Reward
from punchcard.models.badge import Badge, MemberBadge
from punchcard.models.challenge import ChallengeRun
from punchcard.models.leaderboard import LeaderboardProfile
from punchcard.models.referral import Referral
from punchcard.models.share import ShareLink
from punchcard.models.streak import MemberStreak
from punchcard.programs import service as programs
from punchcard.redemptions import checkout
from punchcard.redemptions.domain import Verdict
from punchcard.rewards.domain import RewardType
from punchcard.web.admin import users


@pytest.mark.slow
def test_demo_imports_cdnow_and_counts_match_the_file(tmp_path: Path) -> None:
    rows = 0
    spent: dict[str, Decimal] = defaultdict(Decimal)
    for line in DATA.read_text().splitlines()[1:]:
        customer, _, _, value = line.split()
        rows += 1
        spent[customer] += Decimal(value)
    assert len(spent) == 23_570
    buyers = sum(1 for total in spent.values() if total > 0)
    db = open_database(f"sqlite:///{tmp_path / 'demo.db'}")
    migrate.upgrade(db.engine)
    summary = build_demo(db)
    assert summary.imported is not None
    skipped = summary.imported["skipped"]
    assert isinstance(skipped, dict)
    assert summary.imported["orders_read"] == rows
    assert summary.imported["orders_imported"] == rows - sum(skipped.values())
    assert summary.orders == summary.imported["orders_imported"] + 2  # the sample member's two
    assert summary.members == buyers + 1 == 23_570 - 68 + 1  # and the friend member 4 referred
    assert summary.verify_line.startswith("ledger ok")
    with db.reader() as session:
        held = dict(
            session.execute(select(MemberTier.tier, func.count()).group_by(MemberTier.tier)).all()
        )
        kinds = set(session.execute(select(Reward.type)).scalars())
        engaged = _engagement_rows(session, summary.sample_member)
        assert summary.sample_code is not None
        checked = checkout.validate(
            session,
            program_id=summary.program_id,
            code=summary.sample_code,
            now=utcnow(),
            order_total=Decimal("40.00"),
        )
    # Lifetime spend of $100 and $300 and up: the history put members in both upper tiers.
    assert held.get("Collector", 0) > 0
    assert held.get("Audiophile", 0) > 0
    assert "Insider" not in held  # invitation only
    assert kinds == {t.value for t in RewardType}
    assert checked.verdict is Verdict.VALID
    assert checked.discount == {"amount": "5.00"}
    # The game and advocacy features, set up through the API, with the sample member playing.
    assert summary.played is not None
    assert engaged["progress"] == [2]  # two of the challenge's three orders
    assert {"First spin", "One year with us", "Critic"} <= engaged["badges"]
    assert engaged["streak"] == [1]
    assert engaged["listed"] == 11  # ten top fans and the sample member
    assert engaged["referrals"] == ["pending"]
    assert engaged["shares"] == 1
    again = build_demo(db)
    assert again.imported is None
    assert (again.members, again.orders) == (summary.members, summary.orders)
    _check_web(db, summary, again)


def _check_web(db: Database, first: DemoSummary, again: DemoSummary) -> None:
    """The browser logins the demo prints work: the sample member has the e-mail it names, the
    stars have a name in each portal language, and only the latest admin password opens."""
    assert first.web is not None
    assert again.web is not None
    text = again.text(8000)
    assert f"/portal/sign-in?program={again.program_id}" in text
    assert again.web.admin_password in text
    assert again.web.admin_password != first.web.admin_password
    with session_scope(db.writer) as session:
        member = members.get(session, program_id=again.program_id, member_id=again.sample_member)
        program = programs.get_program(session, again.program_id)
        now = utcnow()
        latest = users.authenticate(
            session, email=again.web.admin_email, password=again.web.admin_password, now=now
        )
        old = users.authenticate(
            session, email=first.web.admin_email, password=first.web.admin_password, now=now
        )
    assert member.email == again.web.member_email
    assert member.card_number == again.web.card_number
    assert set(program.points_names) == {"en", "ka", "gu", "fi", "hu"}
    assert latest.outcome is users.Outcome.SIGNED_IN
    assert old.outcome is users.Outcome.WRONG


def _engagement_rows(session: Session, member_id: int) -> dict[str, Any]:
    def of_member(column: Any, *where: Any) -> list[Any]:
        return list(session.execute(select(column).where(*where)).scalars())

    return {
        "progress": [int(v) for v in of_member(ChallengeRun.progress,
                                               ChallengeRun.member_id == member_id)],
        "badges": set(
            session.execute(
                select(Badge.name).join(MemberBadge, MemberBadge.badge_id == Badge.id)
                .where(MemberBadge.member_id == member_id)
            ).scalars()
        ),
        "streak": of_member(MemberStreak.current_length, MemberStreak.member_id == member_id),
        "listed": session.execute(
            select(func.count()).select_from(LeaderboardProfile)
            .where(LeaderboardProfile.opted_in.is_(True))
        ).scalar_one(),
        "referrals": of_member(Referral.status, Referral.referrer_id == member_id),
        "shares": len(of_member(ShareLink.id, ShareLink.member_id == member_id)),
    }  # fmt: skip
