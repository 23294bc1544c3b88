"""What the member pages say and do: history lines explained and paged (with htmx asking for
rows only), joining a challenge, the leaderboard choice, preferences, and the share links."""

from __future__ import annotations

import re
from html import unescape

from fastapi.testclient import TestClient

from punchcard.db import Database, session_scope
from punchcard.kit.clock import FixedClock
from punchcard.leaderboards import service as leaderboards
from punchcard.ledger import service as ledger
from punchcard.members import service as members
from punchcard.redemptions import service as redemptions
from tests.conftest import Api
from tests.redemptions.helpers import make_reward
from tests.web.portal.helpers import enrol, give, post_form, redeem, rich_member, sign_in, uid


def test_history_explains_each_line_and_pages_with_or_without_htmx(
    portal: TestClient, db: Database, clock: FixedClock, shop_api: Api
) -> None:
    program = shop_api.program
    email = f"{uid('h')}@example.com"
    member = enrol(db, program, clock, email=email)
    give(db, program, clock, member, 900, order_id="ORD-1")
    reward = make_reward(db, program, name="Tote bag", points_cost=100)
    redemption = redeem(db, program, clock, member, reward)
    with session_scope(db.writer) as session:
        redemptions.cancel(
            session, program=program, member_id=member, redemption_id=redemption, now=clock()
        )
        ledger.adjust(session, program=program, member_id=member, points=-5, reason="typo",
                      now=clock())  # fmt: skip
    for n in range(20):
        give(db, program, clock, member, 1 + n)
    sign_in(portal, db, program, email)
    first = unescape(portal.get("/portal/history").text)
    assert len(re.findall(r'href="/portal/history/\d+"', first)) == 20
    older = re.search(r'href="/portal/history\?before=(\d+)"', first)
    assert older is not None
    second = unescape(portal.get(f"/portal/history?before={older.group(1)}").text)
    for text in (
        "Order ORD-1",
        "Reward: Tote bag",
        "Reward cancelled: the points were given back",
        "Adjustment by the store: typo",
    ):
        assert text in second, text
    partial = portal.get(
        f"/portal/history?before={older.group(1)}", headers={"HX-Request": "true"}
    ).text
    assert "<html" not in partial
    assert "<tr>" in partial
    assert 'id="more" hx-swap-oob="true"' in partial


def test_joining_a_challenge_from_the_activity_page(
    portal: TestClient, db: Database, clock: FixedClock, shop_api: Api
) -> None:
    made = shop_api.client.post(
        "/v1/challenges",
        json={"name": "Week of orders", "reward": {"points": 50},
              "window": {"type": "rolling", "days": 7},
              "steps": [{"events": ["order.placed"], "target": 2, "label": "orders"}]},
        headers=shop_api.headers(),
    )  # fmt: skip
    assert made.status_code == 201, made.text
    email = f"{uid('j')}@example.com"
    enrol(db, shop_api.program, clock, email=email)
    sign_in(portal, db, shop_api.program, email)
    page = portal.get("/portal/activity").text
    assert "Open to join" in page
    action = f"/portal/activity/challenges/{made.json()['id']}/join"
    assert action in page
    joined = post_form(portal, action, {}, page="/portal/activity")
    assert joined.status_code == 303
    assert "Joined" in portal.get("/portal/activity").text
    missing = post_form(portal, "/portal/activity/challenges/999999999/join", {})
    assert missing.status_code == 404


def test_leaderboard_choice_and_preferences_are_saved(
    portal: TestClient, db: Database, clock: FixedClock, shop_api: Api
) -> None:
    rich = rich_member(db, clock, shop_api)
    sign_in(portal, db, rich.program, rich.email)
    bad = post_form(portal, "/portal/leaderboards/profile",
                    {"display_name": "me@example.com", "opted_in": "yes"})  # fmt: skip
    assert bad.status_code == 400
    assert "cannot be an e-mail address" in bad.text
    out = post_form(portal, "/portal/leaderboards/profile", {"display_name": "Tiko"})
    assert out.status_code == 303
    with db.reader() as session:
        profile = leaderboards.get_profile(
            session, program_id=rich.program.id, member_id=rich.member_id
        )
    assert (profile.display_name, profile.opted_in) == ("Tiko", False)
    saved = post_form(portal, "/portal/account", {"language": "hu", "marketing": "yes"})
    assert saved.status_code == 303
    assert saved.headers["location"] == "/portal/account?saved=1"
    page = portal.get(saved.headers["location"])
    assert page.headers["content-language"] == "hu"
    assert "A beállításaidat mentettük." in page.text
    with db.reader() as session:
        member = members.get(session, program_id=rich.program.id, member_id=rich.member_id)
    assert (member.locale, member.marketing_consent) == ("hu", True)
    wrong = post_form(portal, "/portal/account", {"language": "hu", "marketing": "maybe"})
    assert wrong.status_code == 400


def test_invite_page_has_the_code_and_plain_share_links(
    portal: TestClient, db: Database, clock: FixedClock, shop_api: Api
) -> None:
    rich = rich_member(db, clock, shop_api)
    sign_in(portal, db, rich.program, rich.email)
    page = unescape(portal.get("/portal/invite").text)
    code = re.search(r'id="referral-code">([0-9A-Z]+)<', page)
    assert code is not None
    assert f"https://shop.example/?ref={code.group(1)}" in page
    for start in ("mailto:?subject=", "https://wa.me/?text=", "https://x.com/intent/post?"):
        assert f'href="{start}' in page, start
    again = unescape(portal.get("/portal/invite").text)
    assert code.group(1) in again  # the same code on every visit


def test_marketing_consent_never_asked_is_not_preselected_and_stays_unanswered(
    portal: TestClient, db: Database, clock: FixedClock, shop_api: Api
) -> None:
    email = f"{uid('mc')}@example.com"
    member_id = enrol(db, shop_api.program, clock, email=email)
    sign_in(portal, db, shop_api.program, email)
    page = portal.get("/portal/account").text
    assert re.search(r'name="marketing"[^>]*checked', page) is None
    saved = post_form(portal, "/portal/account", {"language": "fi"})
    assert saved.status_code == 303
    with db.reader() as session:
        member = members.get(session, program_id=shop_api.program.id, member_id=member_id)
    assert (member.locale, member.marketing_consent) == ("fi", None)
    post_form(portal, "/portal/account", {"language": "fi", "marketing": "no"})
    page = portal.get("/portal/account").text
    assert re.search(r'id="marketing-no"[^>]*checked', page) is not None
    assert re.search(r'id="marketing-yes"[^>]*checked', page) is None
