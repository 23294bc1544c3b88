"""/v1/members/{id}/rewards: what a member can redeem now and, for the rest, why not."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from punchcard.db import Database
from punchcard.kit.clock import FixedClock
from tests.conftest import START, Api
from tests.rewards.helpers import (
    create_reward,
    enrol,
    error,
    get,
    give_points,
    hold_tier,
    patch,
    post,
    redeem,
    set_claimed,
    set_tier_policy,
)

DAY = timedelta(days=1)


def iso(days: float) -> str:
    return (START + timedelta(days=days)).isoformat().replace("+00:00", "Z")


def listing(api: Api, member_id: int, **params: Any) -> dict[str, Any]:
    response = get(api, f"/v1/members/{member_id}/rewards", **params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def reasons(body: dict[str, Any]) -> dict[str, list[str]]:
    return {r["name"]: r["reasons"] for r in body["items"]}


def test_each_reward_says_whether_the_member_can_redeem_it_and_why_not(
    api: Api, db: Database
) -> None:
    member = enrol(api)
    give_points(api, member, 700)
    create_reward(api, name="cheap", points_cost=100)
    create_reward(api, name="dear", points_cost=1000)
    gone = create_reward(api, name="gone", points_cost=50, stock=2)
    set_claimed(db, gone["id"], 2)
    create_reward(api, name="gold only", points_cost=10, tiers=["gold"])

    body = listing(api, member)

    assert body["member_id"] == member
    assert body["available"] == 700
    assert body["debt"] == 0
    assert body["tier"] is None
    assert [r["name"] for r in body["items"]] == ["gold only", "gone", "cheap", "dear"]
    assert reasons(body) == {
        "gold only": ["not_eligible"],
        "gone": ["out_of_stock"],
        "cheap": [],
        "dear": ["insufficient_points"],
    }
    assert [r["redeemable"] for r in body["items"]] == [False, False, True, False]
    assert body["items"][1]["remaining"] == 0


def test_a_member_holding_the_tier_may_redeem_a_tier_reward(
    api: Api, db: Database, clock: FixedClock
) -> None:
    set_tier_policy(db, clock, api.program.id, ["silver", "gold"])
    gold, silver = enrol(api), enrol(api)
    hold_tier(db, clock, api.program.id, gold, "gold")
    hold_tier(db, clock, api.program.id, silver, "silver")
    give_points(api, gold, 100)
    give_points(api, silver, 100)
    create_reward(api, name="vip", points_cost=10, tiers=["gold"])

    assert listing(api, gold)["tier"] == "gold"
    assert reasons(listing(api, gold)) == {"vip": []}
    assert reasons(listing(api, silver)) == {"vip": ["not_eligible"]}


def test_the_channel_asked_for_applies_channel_eligibility(api: Api) -> None:
    member = enrol(api)
    give_points(api, member, 100)
    create_reward(api, name="app only", points_cost=10, channels=["app"])

    assert reasons(listing(api, member)) == {"app only": ["not_eligible"]}
    assert reasons(listing(api, member, channel="app")) == {"app only": []}
    assert reasons(listing(api, member, channel="pos")) == {"app only": ["not_eligible"]}
    assert get(api, f"/v1/members/{member}/rewards", channel="fax").status_code == 422


def test_the_per_member_limit_counts_redemptions_that_still_hold(
    api: Api, db: Database, clock: FixedClock
) -> None:
    member = enrol(api)
    give_points(api, member, 100)
    once = create_reward(api, name="once", points_cost=10, per_member_limit=1)
    redeem(db, clock, api.program.id, member, once["id"], status="cancelled")
    assert reasons(listing(api, member)) == {"once": []}

    redeem(db, clock, api.program.id, member, once["id"], status="issued")

    assert reasons(listing(api, member)) == {"once": ["limit_reached"]}


def test_rewards_outside_their_window_are_left_out_unless_asked_for(
    api: Api, clock: FixedClock
) -> None:
    member = enrol(api)
    give_points(api, member, 100)
    create_reward(api, name="now", points_cost=10, valid_from=iso(0), valid_until=iso(1))
    create_reward(api, name="soon", points_cost=20, valid_from=iso(1))
    create_reward(api, name="over", points_cost=30, valid_until=iso(0))
    retired = create_reward(api, name="retired", points_cost=40)
    patch(api, f"/v1/rewards/{retired['id']}", {"active": False})

    assert reasons(listing(api, member)) == {"now": []}
    assert reasons(listing(api, member, include_unavailable="true")) == {
        "now": [],
        "soon": ["reward_inactive"],
        "over": ["reward_inactive"],
    }
    clock.set(START + DAY)
    assert reasons(listing(api, member)) == {"soon": []}


def test_debt_blocks_every_reward(api: Api) -> None:
    member = enrol(api)
    credit = post(api, f"/v1/members/{member}/adjustments", {"points": 100, "reason": "x"}).json()
    spent = post(api, f"/v1/members/{member}/spend", {"points": 80, "reason": "x"})
    assert spent.status_code == 201, spent.text
    reversal = post(
        api, f"/v1/members/{member}/transactions/{credit['id']}/reversals", {"reason": "oops"}
    )
    assert reversal.status_code == 201, reversal.text
    create_reward(api, name="any", points_cost=1)

    body = listing(api, member)

    assert body["debt"] == 80
    assert reasons(body) == {"any": ["debt_outstanding"]}


def test_an_unknown_member_is_404(api: Api) -> None:
    response = get(api, "/v1/members/999999999/rewards")

    assert response.status_code == 404
    assert error(response)["code"] == "member_not_found"


def test_a_program_without_rewards_lists_none(api: Api) -> None:
    member = enrol(api)

    assert listing(api, member)["items"] == []
