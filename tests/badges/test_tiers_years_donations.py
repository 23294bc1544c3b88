"""Badges for tiers reached (at the event, by a grant and the job), years as a member (at an
event and by the job, in pages, idempotent) and donations (in the donation's transaction)."""

from __future__ import annotations

from datetime import timedelta

from punchcard.badges import tasks
from punchcard.db import Database
from punchcard.kit.clock import FixedClock
from tests.badges.helpers import badge_points, customer_id, earned, make_badge, order
from tests.conftest import START, Api
from tests.events.test_events_api import enrol, uid
from tests.redemptions.helpers import issued, make_cause, make_reward
from tests.rewards.helpers import give_points as fund
from tests.tiers.helpers import history, put_tiers


def test_tier_badges_at_the_upgrading_event_include_the_tiers_below(api: Api) -> None:
    put_tiers(api)
    base = make_badge(api, {"kind": "tier_reached", "tier": "Member"})
    silver = make_badge(api, {"kind": "tier_reached", "tier": "Silver"})
    gold = make_badge(api, {"kind": "tier_reached", "tier": "Gold"}, points=100)
    platinum = make_badge(api, {"kind": "tier_reached", "tier": "Platinum"})
    customer = uid("cust")

    order(api, customer, "50.00")
    member = customer_id(api, customer)
    assert set(earned(api, member)) == {base["id"]}  # the base tier everyone holds
    upgrade = order(api, customer, "600.00", at=START + timedelta(hours=1))  # straight to Gold

    got = earned(api, member)
    assert set(got) == {base["id"], silver["id"], gold["id"]}
    assert got[gold["id"]]["source_id"] == upgrade["event_id"]
    assert platinum["id"] not in got
    assert badge_points(api, member) == [100]


def test_a_granted_tier_is_awarded_by_the_job_once(api: Api, db: Database) -> None:
    put_tiers(api)
    black = make_badge(api, {"kind": "tier_reached", "tier": "Black"}, points=40)
    members = [enrol(api)["id"] for _ in range(3)]
    for member in members:
        response = api.client.post(
            f"/v1/members/{member}/tier",
            json={"tier": "Black", "reason": "VIP"},
            headers=api.headers(),
        )
        assert response.status_code == 200, response.text
    assert all(earned(api, m) == {} for m in members)

    assert tasks.run(db, now=START, batch_size=2) >= 3
    assert tasks.run(db, now=START, batch_size=2) == 0

    for member in members:
        got = earned(api, member)[black["id"]]
        change_id = history(api, member)[0]["id"]
        assert got["source_id"] == f"tier-change:{change_id}"
        assert badge_points(api, member) == [40]


def test_member_years_by_the_job_on_the_anniversary(
    api: Api, db: Database, clock: FixedClock
) -> None:
    loyal = make_badge(api, {"kind": "member_years", "years": 1}, points=25)
    members = [enrol(api)["id"] for _ in range(3)]

    tasks.run(db, now=START + timedelta(days=364), batch_size=2)
    assert all(earned(api, m) == {} for m in members)
    anniversary = START.replace(year=START.year + 1)
    tasks.run(db, now=anniversary, batch_size=2)
    tasks.run(db, now=anniversary + timedelta(days=1), batch_size=2)

    for member in members:
        got = earned(api, member)[loyal["id"]]
        assert got["source_id"] == "job:member-years"
        assert got["occurred_at"].startswith(anniversary.isoformat()[:19])
        assert badge_points(api, member) == [25]


def test_member_years_at_an_event_after_the_anniversary(api: Api, clock: FixedClock) -> None:
    two = make_badge(api, {"kind": "member_years", "years": 2})
    customer = uid("cust")
    order(api, customer)
    member = customer_id(api, customer)
    clock.set(START + timedelta(days=800))

    later = order(api, customer, at=START + timedelta(days=800))

    assert earned(api, member)[two["id"]]["source_id"] == later["event_id"]


def test_donation_badges_in_the_donations_transaction(api: Api, db: Database) -> None:
    giver = make_badge(api, {"kind": "donations", "count": 2}, points=15)
    trees = make_cause(db, api.program)
    reward = make_reward(
        db, api.program, type="donation", value=str(trees), cause_id=trees, points_cost=100
    )
    member = enrol(api)["id"]
    fund(api, member, 500)

    issued(api, member, reward)
    assert earned(api, member) == {}
    second = issued(api, member, reward)

    got = earned(api, member)[giver["id"]]
    assert got["source_id"] == f"donation:{second['id']}"
    assert badge_points(api, member) == [15]
