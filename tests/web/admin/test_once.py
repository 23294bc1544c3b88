"""The console's forms that create something are one-time: the same form posted twice (a
double click, a reload) writes once and leads to the same page; the same nonce with other
content, or no nonce, is a 409 page; a refused post leaves the nonce free for the fix."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import func, select

from punchcard.db import session_scope
from punchcard.ledger import queries
from punchcard.ledger import service as ledger
from punchcard.members import service as members
from punchcard.members.repository import MemberRow
from punchcard.models import LedgerTransaction
from punchcard.models.badge import Badge
from punchcard.models.challenge import Challenge
from punchcard.models.reward import Reward
from tests.web.admin.conftest import Console

REWARD = {"name": "5 off", "type": "discount_amount", "points_cost": 500, "value": "5.00"}
BADGE = {"name": "First order", "criteria": {"kind": "order_count", "count": 1}}
CHALLENGE = {
    "name": "Three reviews",
    "steps": [{"events": ["review.submitted"], "target": 3}],
    "reward": {"points": 100},
}


@pytest.fixture
def member(console: Console) -> MemberRow:
    with session_scope(console.db.writer) as session:
        row, _ = members.enrol(
            session, program_id=console.program.id, external_id="once-1", now=console.clock()
        )
        ledger.credit(session, program=console.program, member_id=row.id, points=100,
                      reason="welcome", now=console.clock())  # fmt: skip
    return row


def _count(console: Console, table: Any, **where: Any) -> int:
    query = select(func.count()).select_from(table).where(table.program_id == console.program.id)
    for name, value in where.items():
        query = query.where(getattr(table, name) == value)
    with console.db.reader() as session:
        return int(session.execute(query).scalar_one())


def _twice(console: Console, url: str, page: str, data: dict[str, str]) -> None:
    """Post one form twice, as a double click does: both lead to the same page."""
    form = {**console.form(page), **data}
    first = console.client.post(url, data=form, follow_redirects=False)
    second = console.client.post(url, data=form, follow_redirects=False)
    assert first.status_code == second.status_code == 303, second.text[:300]
    assert first.headers["location"] == second.headers["location"]


def test_an_adjustment_posted_twice_credits_once(console: Console, member: MemberRow) -> None:
    page = f"{console.base}/members/{member.id}"
    _twice(console, f"{page}/adjust", page, {"points": "25", "reason": "goodwill"})
    assert _count(console, LedgerTransaction, member_id=member.id, kind="adjust_credit") == 1
    with console.db.reader() as session:
        assert queries.balance(session, console.program.id, member.id).available == 125
    # A new page draws a new form: the next adjustment is recorded.
    again = console.post(f"{page}/adjust", {"points": "25", "reason": "goodwill"}, page=page)
    assert again.status_code == 303
    assert _count(console, LedgerTransaction, member_id=member.id, kind="adjust_credit") == 2


def test_a_reward_posted_twice_is_created_once(console: Console) -> None:
    page = f"{console.base}/rewards"
    _twice(console, page, page, {"reward": json.dumps(REWARD)})
    assert _count(console, Reward) == 1


def test_a_badge_and_a_challenge_posted_twice_are_created_once(console: Console) -> None:
    page = f"{console.base}/engagement"
    _twice(console, f"{console.base}/badges", page, {"badge": json.dumps(BADGE)})
    _twice(console, f"{console.base}/challenges", page, {"challenge": json.dumps(CHALLENGE)})
    assert (_count(console, Badge), _count(console, Challenge)) == (1, 1)


def test_the_same_form_with_other_content_is_refused(console: Console, member: MemberRow) -> None:
    page = f"{console.base}/members/{member.id}"
    form = console.form(page)
    first = {**form, "points": "5", "reason": "goodwill"}
    assert console.client.post(f"{page}/adjust", data=first).status_code == 200
    changed = console.client.post(f"{page}/adjust", data={**first, "points": "50"})
    assert changed.status_code == 409
    assert "This form was already used" in changed.text
    with console.db.reader() as session:
        assert queries.balance(session, console.program.id, member.id).available == 105


@pytest.mark.parametrize("nonce", [None, "short", "x" * 65, "not a nonce!!!!!!!!!"])
def test_a_post_without_a_nonce_is_refused(
    console: Console, member: MemberRow, nonce: str | None
) -> None:
    page = f"{console.base}/members/{member.id}"
    form = {"csrf_token": console.form(page)["csrf_token"], "points": "5", "reason": "x"}
    if nonce is not None:
        form["once"] = nonce
    refused = console.client.post(f"{page}/adjust", data=form, follow_redirects=False)
    assert refused.status_code == 409
    reward = console.client.post(
        f"{console.base}/rewards",
        data={**form, "reward": json.dumps(REWARD)},
        follow_redirects=False,
    )
    assert reward.status_code == 409
    assert _count(console, LedgerTransaction, member_id=member.id) == 1
    assert _count(console, Reward) == 0


def test_a_refused_post_leaves_the_form_usable(console: Console, member: MemberRow) -> None:
    """Not enough points: nothing was written, so the corrected form (same nonce) goes."""
    page = f"{console.base}/members/{member.id}"
    form = console.form(page)
    refused = console.client.post(
        f"{page}/adjust", data={**form, "points": "-500", "reason": "oops"}
    )
    assert refused.status_code == 409
    assert "Not enough points" in refused.text
    fixed = console.client.post(
        f"{page}/adjust",
        data={**form, "points": "-50", "reason": "oops"},
        follow_redirects=False,
    )
    assert fixed.status_code == 303
    with console.db.reader() as session:
        assert queries.balance(session, console.program.id, member.id).available == 50
