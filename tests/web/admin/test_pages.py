"""Every console page, with data on it: it answers 200 and passes the page checks (a title,
labelled fields, nothing from outside, nothing the CSP blocks). Also the smaller pages'
forms: settings (points names per language), tiers, rewards and stock, challenges and
badges."""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import select

from punchcard.db import session_scope
from punchcard.ledger import service as ledger
from punchcard.members import service as members
from punchcard.models.badge import Badge
from punchcard.models.challenge import Challenge
from punchcard.models.reward import Reward
from punchcard.programs import service as programs
from punchcard.tiers import service as tiers
from tests.web.admin.conftest import Console
from tests.web.admin.pagecheck import page_problems

TIERS = {
    "metric": "points",
    "window": "lifetime",
    "tiers": [{"name": "Member", "threshold": 0}, {"name": "Gold", "threshold": 500,
                                                     "multiplier": "1.5"}],
}  # fmt: skip
REWARD = {"name": "5 off", "type": "discount_amount", "points_cost": 500, "value": "5.00",
          "stock": 10}  # fmt: skip
BADGE = {"name": "First order", "criteria": {"kind": "order_count", "count": 1}}
CHALLENGE = {
    "name": "Three reviews",
    "steps": [{"events": ["review.submitted"], "target": 3}],
    "reward": {"points": 100},
}


@pytest.fixture
def stocked(console: Console) -> Console:
    """A program with tiers, a reward, a badge, a challenge and a member with points."""
    base = console.base
    assert console.post(f"{base}/tiers", {"policy": json.dumps(TIERS)}).status_code == 303
    assert console.post(f"{base}/rewards", {"reward": json.dumps(REWARD)}, page=f"{base}/rewards"
                        ).status_code == 303  # fmt: skip
    engagement = f"{base}/engagement"
    assert console.post(f"{base}/badges", {"badge": json.dumps(BADGE)}, page=engagement
                        ).status_code == 303  # fmt: skip
    assert console.post(f"{base}/challenges", {"challenge": json.dumps(CHALLENGE)},
                        page=engagement).status_code == 303  # fmt: skip
    with session_scope(console.db.writer) as session:
        member, _ = members.enrol(
            session, program_id=console.program.id, external_id="p-1", now=console.clock()
        )
        ledger.credit(session, program=console.program, member_id=member.id, points=70,
                      reason="order", now=console.clock())  # fmt: skip
    return console


def _pages(console: Console) -> list[str]:
    base = console.base
    with console.db.reader() as session:
        member = members.search(
            session, program_id=console.program.id, filters={"external_id": "p-1"},
            after_id=0, limit=1,
        )[0]  # fmt: skip
    member_page = f"{base}/members/{member.id}"
    tx = re.search(rf'href="({member_page}/transactions/\d+)"', console.get(member_page).text)
    assert tx
    return [
        "/admin/sign-in", "/admin/", f"{base}/settings", f"{base}/rules", f"{base}/tiers",
        f"{base}/rewards", f"{base}/engagement", f"{base}/members", f"{base}/members?q=p-1",
        member_page, tx.group(1), f"{base}/referrals", f"{base}/dashboard",
        f"{base}/members/999999", "/admin/no-such-page",
    ]  # fmt: skip


def test_every_page_passes_the_checks(stocked: Console) -> None:
    for url in _pages(stocked):
        page = stocked.client.get(url)
        assert page.status_code in (200, 404), url
        assert page_problems(page.text) == [], url
        assert "default-src 'self'" in page.headers["content-security-policy"]
    rules = stocked.client.get(f"{stocked.base}/rules")
    bad = stocked.post(f"{stocked.base}/rules", {"rules": "{", "event": "{}"})
    assert bad.status_code == 400
    assert page_problems(bad.text) == []
    assert rules.status_code == 200


def test_settings_save_points_names_per_language(console: Console) -> None:
    url = f"{console.base}/settings"
    form = {
        "name": "Tea Club", "points_name": "leaves", "points_name_ka": "ფოთლები",
        "points_name_fi": "lehdet", "currency": "EUR", "expiry_policy": "days_after_earn",
        "expiry_value": "365", "pending_days": "14", "auto_enrol": "on", "point_value": "0.01",
        "expected_breakage": "", "points_payment_rate": "", "points_payment_max_percent": "100",
    }  # fmt: skip
    saved = console.post(url, form)
    assert saved.status_code == 303, saved.text
    with console.db.reader() as session:
        program = programs.get_program(session, console.program.id)
    assert (program.name, program.currency, program.pending_days) == ("Tea Club", "EUR", 14)
    assert program.points_names == {"ka": "ფოთლები", "fi": "lehdet"}
    assert program.points_name_in("ka") == "ფოთლები"
    assert program.points_name_in("hu") == "leaves"
    too_long = console.post(url, {**form, "points_name_hu": "x" * 51, "pending_days": "900"})
    assert too_long.status_code == 400
    assert re.search(r'id="e-pending_days"', too_long.text)
    assert 'value="' + "x" * 51 + '"' in too_long.text
    with console.db.reader() as session:
        assert programs.get_program(session, console.program.id).pending_days == 14


def test_points_names_are_checked_by_the_service(console: Console) -> None:
    from punchcard.errors import InvalidInputError

    with session_scope(console.db.writer) as session:
        for bad in ({"xx": "points"}, {"ka": ""}, {"fi": "y" * 51}):
            with pytest.raises(InvalidInputError):
                programs.update_program(
                    session, console.program.id, changes={"points_names": bad}, now=console.clock()
                )


def test_tiers_errors_are_shown_in_place(console: Console) -> None:
    text = json.dumps({**TIERS, "tiers": [{"name": "Gold", "threshold": -1}]})
    refused = console.post(f"{console.base}/tiers", {"policy": text})
    assert refused.status_code == 400
    assert re.search(r'id="e-policy".*tiers\.0\.threshold', refused.text, re.S)
    with console.db.reader() as session:
        assert tiers.policy_of(session, console.program.id) is None
    assert console.post(f"{console.base}/tiers", {"policy": json.dumps(TIERS)}).status_code == 303
    with console.db.reader() as session:
        policy = tiers.policy_of(session, console.program.id)
    assert policy is not None
    assert [t.name for t in policy.tiers] == ["Member", "Gold"]


def test_rewards_stock_and_active(stocked: Console) -> None:
    with stocked.db.reader() as session:
        reward_id = session.execute(
            select(Reward.id).where(Reward.program_id == stocked.program.id)
        ).scalar_one()
    url = f"{stocked.base}/rewards"
    assert stocked.post(f"{url}/{reward_id}", {"stock": "3"}, page=url).status_code == 303
    with stocked.db.reader() as session:
        row = session.execute(select(Reward).where(Reward.id == reward_id)).scalar_one()
        assert (row.stock, row.active) == (3, False)
    assert stocked.post(f"{url}/{reward_id}", {"stock": "-2", "active": "on"}, page=url
                        ).status_code == 400  # fmt: skip
    bad = stocked.post(url, {"reward": json.dumps({**REWARD, "points_cost": 0})}, page=url)
    assert bad.status_code == 400
    assert "points_cost" in bad.text
    assert stocked.post(f"{url}/999999", {"stock": "1"}, page=url).status_code == 404


def test_badges_and_challenges_switch_off_and_on(stocked: Console) -> None:
    page = f"{stocked.base}/engagement"
    with stocked.db.reader() as session:
        badge = session.execute(select(Badge.id).where(Badge.program_id == stocked.program.id)
                                ).scalar_one()  # fmt: skip
        challenge = session.execute(
            select(Challenge.id).where(Challenge.program_id == stocked.program.id)
        ).scalar_one()
    for kind, row_id, table in (("badges", badge, Badge), ("challenges", challenge, Challenge)):
        url = f"{stocked.base}/{kind}/{row_id}/active"
        assert stocked.post(url, {"active": "false"}, page=page).status_code == 303
        with stocked.db.reader() as session:
            assert (
                session.execute(select(table.active).where(table.id == row_id)).scalar_one()
                is False
            )
        assert stocked.post(url, {"active": "true"}, page=page).status_code == 303
        with stocked.db.reader() as session:
            assert (
                session.execute(select(table.active).where(table.id == row_id)).scalar_one() is True
            )
    bad = stocked.post(f"{stocked.base}/badges", {"badge": '{"name": "x"}'}, page=page)
    assert bad.status_code == 400
    assert "criteria" in bad.text
