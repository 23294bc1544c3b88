"""Challenges moving as events arrive: each shape, each window, repetition, eligibility,
each kind of reward, every earn path, and refunds taking a counted order back out."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from punchcard.db import Database
from punchcard.kit.clock import FixedClock
from punchcard.programs.domain import Scope
from tests.challenges.helpers import (
    balance,
    challenge_credits,
    completion_count,
    create,
    enrol,
    error,
    event,
    join,
    line,
    order,
    order_data,
    send,
    step,
    uid,
    view,
)
from tests.conftest import START, Api
from tests.redemptions.helpers import claimed
from tests.rewards.helpers import create_reward, hold_tier, set_tier_policy

DAY = timedelta(days=1)


def iso(moment: Any) -> str:
    return str(moment.isoformat().replace("+00:00", "Z"))


def test_a_count_challenge_completes_once_and_pays_its_points(api: Api, db: Database) -> None:
    challenge = create(api, reward={"points": 100})
    member = enrol(api)

    order(api, member)
    order(api, member)
    assert view(api, member["id"])[challenge["id"]]["progress_text"] == "2 of 3 orders"
    order(api, member)
    order(api, member)  # once only: a fourth order starts nothing

    seen = view(api, member["id"])[challenge["id"]]
    assert seen["status"] == "completed"
    assert seen["progress_text"] == "3 of 3 orders"
    assert len(seen["completions"]) == 1
    assert balance(api, member["id"]) == 40 + 100
    assert completion_count(db, challenge["id"], member["id"]) == 1
    assert challenge_credits(db, challenge["id"], member["id"]) == 1


def test_a_sum_challenge_reads_as_what_is_left_to_spend(api: Api) -> None:
    challenge = create(api, steps=[step("50", metric="sum", label="spent")])
    member = enrol(api)

    order(api, member, "30.00")
    seen = view(api, member["id"])[challenge["id"]]
    assert (seen["progress_text"], seen["progress"], seen["target"]) == (
        "spend 20.00 more", "30.00", "50.00",
    )  # fmt: skip
    order(api, member, "20.00")
    assert view(api, member["id"])[challenge["id"]]["status"] == "completed"


def test_steps_count_only_in_order(api: Api) -> None:
    challenge = create(
        api,
        steps=[
            step(1, conditions={"min_amount": 20}),
            {"events": ["review.submitted"], "target": 1, "label": "reviews"},
        ],
    )
    member = enrol(api)
    review = event("review.submitted", {"sku": "a"}, customer=member["external_id"])

    send(api, review)  # before the first step is done: it does not count
    order(api, member, "10.00")  # below the step's min_amount
    seen = view(api, member["id"])[challenge["id"]]
    assert (seen["status"], seen["step"], seen["steps"]) == ("available", 1, 2)
    order(api, member, "25.00")
    assert view(api, member["id"])[challenge["id"]]["step"] == 2
    send(api, event("review.submitted", {"sku": "a"}, customer=member["external_id"]))
    assert view(api, member["id"])[challenge["id"]]["status"] == "completed"


def test_a_fixed_window_counts_events_by_when_they_occurred(api: Api) -> None:
    window = {"type": "fixed", "starts_at": iso(START), "ends_at": iso(START + 10 * DAY)}
    challenge = create(api, steps=[step(5)], window=window)
    member = enrol(api)

    order(api, member, at=START - timedelta(seconds=1))  # before the start
    order(api, member, at=START)  # at the start: counts
    order(api, member, at=START + 10 * DAY - timedelta(seconds=1))  # the last second: counts
    order(api, member, at=START + 10 * DAY)  # at the end: does not

    seen = view(api, member["id"])[challenge["id"]]
    assert seen["progress_text"] == "2 of 5 orders"
    assert seen["deadline"] == iso(START + 10 * DAY)


def test_a_rolling_window_starts_at_the_opt_in(api: Api, clock: FixedClock) -> None:
    challenge = create(api, steps=[step(2)], window={"type": "rolling", "days": 7})
    member = enrol(api)

    order(api, member)  # not joined yet: nothing
    assert view(api, member["id"])[challenge["id"]]["status"] == "available"
    clock.set(clock() + DAY)
    joined = join(api, member["id"], challenge["id"])
    assert joined.status_code == 200, joined.text
    assert joined.json()["deadline"] == iso(START + 8 * DAY)
    assert join(api, member["id"], challenge["id"]).json() == joined.json()  # idempotent
    assert view(api, member["id"])[challenge["id"]]["status"] == "joined"
    order(api, member, at=START + DAY / 2)  # before the opt-in
    order(api, member, at=START + 2 * DAY)
    order(api, member, at=START + 8 * DAY)  # after the deadline
    assert view(api, member["id"])[challenge["id"]]["progress_text"] == "1 of 2 orders"
    clock.set(clock() + 7 * DAY)
    assert view(api, member["id"])[challenge["id"]]["status"] == "expired"
    again = join(api, member["id"], challenge["id"])  # a fresh run after an unfinished one
    assert again.json()["run"] == 2


def test_a_repeatable_challenge_completes_up_to_its_maximum(api: Api, db: Database) -> None:
    challenge = create(api, steps=[step(1)], repeatable=True, max_completions=2)
    member = enrol(api)

    for _ in range(4):
        order(api, member)

    seen = view(api, member["id"])[challenge["id"]]
    assert [c["run"] for c in seen["completions"]] == [1, 2]
    assert seen["status"] == "completed"
    assert challenge_credits(db, challenge["id"], member["id"]) == 2


def test_an_unlimited_repeatable_challenge_starts_a_new_run_after_each(api: Api) -> None:
    challenge = create(api, steps=[step(2)], repeatable=True)
    member = enrol(api)

    for _ in range(5):
        order(api, member)

    seen = view(api, member["id"])[challenge["id"]]
    assert len(seen["completions"]) == 2
    assert (seen["run"], seen["status"], seen["progress_text"]) == (
        3,
        "in_progress",
        "1 of 2 orders",
    )


def test_only_members_of_the_tiers_take_part(api: Api, db: Database, clock: FixedClock) -> None:
    set_tier_policy(db, clock, api.program.id, ["silver", "gold"])
    challenge = create(api, steps=[step(1)], eligibility={"tiers": ["gold"]})
    opt_in = create(api, steps=[step(1)], eligibility={"tiers": ["gold"]}, opt_in_required=True)
    silver, gold = enrol(api), enrol(api)
    hold_tier(db, clock, api.program.id, gold["id"], "gold")

    order(api, silver)
    order(api, gold)

    assert challenge["id"] not in view(api, silver["id"])
    assert view(api, gold["id"])[challenge["id"]]["status"] == "completed"
    refused = join(api, silver["id"], opt_in["id"])
    assert (refused.status_code, error(refused)) == (409, "not_eligible")
    assert refused.json()["error"]["details"]["reason"] == "tiers"
    assert join(api, gold["id"], opt_in["id"]).status_code == 200


def test_enrolment_channel_and_date_limit_who_takes_part(api: Api, clock: FixedClock) -> None:
    app_only = create(api, steps=[step(1)], eligibility={"enrolled_channels": ["app"]})
    newcomers = create(api, steps=[step(1)], eligibility={"new_members_within_days": 30})
    web, app, old = enrol(api), enrol(api, channel="app"), enrol(api)

    order(api, web)
    order(api, app)
    assert app_only["id"] not in view(api, web["id"])
    assert view(api, app["id"])[app_only["id"]]["status"] == "completed"
    assert view(api, web["id"])[newcomers["id"]]["status"] == "completed"
    clock.set(clock() + 31 * DAY)
    late = enrol(api)
    order(api, late, at=START + 31 * DAY)
    order(api, old, at=START + 31 * DAY)  # enrolled 31 days before: too late to start now
    assert view(api, late["id"])[newcomers["id"]]["status"] == "completed"
    assert newcomers["id"] not in view(api, old["id"])


def test_a_badge_reward_is_awarded_by_the_badges_module(api: Api) -> None:
    badge = api.client.post(
        "/v1/badges",
        json={"name": "Regular", "criteria": {"kind": "manual"}},
        headers=api.headers(),
    )
    assert badge.status_code == 201, badge.text
    challenge = create(api, steps=[step(1)], reward={"badge_id": badge.json()["id"]})
    member = enrol(api)

    order(api, member)

    completion = view(api, member["id"])[challenge["id"]]["completions"][0]
    assert completion["reward"] == {"badge_id": badge.json()["id"], "awarded": True}
    badges = api.client.get(f"/v1/members/{member['id']}/badges", headers=api.headers())
    earned = badges.json()["earned"]
    assert [b["badge_id"] for b in earned] == [badge.json()["id"]]


def test_a_catalog_reward_is_granted_free_with_its_stock_claimed(api: Api, db: Database) -> None:
    reward = create_reward(api, stock=1, points_cost=500)
    challenge = create(api, steps=[step(1)], reward={"reward_id": reward["id"]}, repeatable=True)
    member = enrol(api)

    order(api, member)
    order(api, member)  # the second completion finds the stock gone

    first, second = view(api, member["id"])[challenge["id"]]["completions"]
    assert first["reward"]["reward_id"] == reward["id"]
    assert first["reward"]["redemption_id"]
    assert second["reward"] == {"reward_id": reward["id"], "error": "out_of_stock"}
    assert claimed(db, reward["id"]) == 1
    redemptions = api.client.get(
        f"/v1/members/{member['id']}/redemptions", headers=api.headers()
    ).json()["items"]
    assert [(r["points"], r["transaction_id"], r["status"]) for r in redemptions] == [
        (0, None, "issued")
    ]
    assert balance(api, member["id"]) == 20  # the order points only: nothing was spent


def test_every_earn_path_moves_progress(api: Api) -> None:
    challenge = create(
        api,
        steps=[{"events": ["order.placed", "review.submitted", "custom.quiz"], "target": 6,
                "label": "actions"}],
    )  # fmt: skip
    member = enrol(api)
    external = member["external_id"]

    order(api, member)  # an order through POST /v1/events
    send(api, event("review.submitted", {"sku": "a"}, customer=external))  # an action
    batch = api.client.post(
        "/v1/events/batch",
        json={"events": [
            event("order.placed", order_data(line("a", 1, "5.00")), customer=external),
            event("review.submitted", {}, customer=external),
        ]},
        headers=api.headers(Scope.STOREFRONT),
    )  # fmt: skip
    assert batch.status_code == 200, batch.text
    assert batch.json()["accepted"] == 2
    send(api, event("custom.quiz", {"score": 3}, customer=external))  # the general path
    card = {"card_number": member["card_number"]}
    send(api, event("order.placed", order_data(line("a", 1, "5.00")), member=card))

    assert view(api, member["id"])[challenge["id"]]["progress_text"] == "6 of 6 actions"
    assert view(api, member["id"])[challenge["id"]]["status"] == "completed"


def test_a_challenge_created_after_events_were_cached_counts_at_once(api: Api) -> None:
    member = enrol(api)
    order(api, member)  # the program had nothing engaging: the express lane took it

    challenge = create(api, steps=[step(1)])
    order(api, member)

    assert view(api, member["id"])[challenge["id"]]["status"] == "completed"


def test_a_cancelled_order_is_taken_out_of_an_open_run(api: Api) -> None:
    challenge = create(api, steps=[step(3)])
    member = enrol(api)
    external = member["external_id"]
    kept, cancelled = uid("order"), uid("order")

    order(api, member, order_id=kept)
    order(api, member, order_id=cancelled)
    send(api, event("order.refunded", {"order_id": kept, "amount": "5.00"}, customer=external))
    assert view(api, member["id"])[challenge["id"]]["progress_text"] == "2 of 3 orders"
    send(api, event("order.cancelled", {"order_id": cancelled}, customer=external))

    assert view(api, member["id"])[challenge["id"]]["progress_text"] == "1 of 3 orders"


def test_a_refund_takes_its_amount_out_of_a_sum(api: Api) -> None:
    challenge = create(api, steps=[step("100", metric="sum", label="spent")])
    member = enrol(api)
    placed = uid("order")

    order(api, member, "60.00", order_id=placed)
    refund = {"order_id": placed, "amount": "15.00"}
    send(api, event("order.refunded", refund, customer=member["external_id"]))

    assert view(api, member["id"])[challenge["id"]]["progress_text"] == "spend 55.00 more"


def test_a_completed_run_stays_completed_after_an_unrelated_refund(api: Api, db: Database) -> None:
    """Refunding an order that did not count (placed before the run) changes nothing."""
    member = enrol(api)
    earlier = uid("order")
    order(api, member, order_id=earlier)
    challenge = create(api, steps=[step(1)])
    order(api, member, at=START + timedelta(minutes=1))
    send(api, event("order.cancelled", {"order_id": earlier}, customer=member["external_id"],
                    at=START + timedelta(minutes=2)))  # fmt: skip

    assert view(api, member["id"])[challenge["id"]]["status"] == "completed"
    assert challenge_credits(db, challenge["id"], member["id"]) == 1


def test_joining_a_closed_or_unknown_challenge_is_refused(api: Api, clock: FixedClock) -> None:
    window = {"type": "fixed", "starts_at": iso(START - 9 * DAY), "ends_at": iso(START + DAY)}
    challenge = create(api, window=window, opt_in_required=True)
    retired = create(api, active=False)
    member = enrol(api)

    gone = join(api, member["id"], retired["id"])
    assert (gone.status_code, error(gone)) == (409, "challenge_closed")
    missing = join(api, member["id"], 999999)
    assert (missing.status_code, error(missing)) == (404, "challenge_not_found")
    nobody = join(api, 999999, challenge["id"])
    assert (nobody.status_code, error(nobody)) == (404, "member_not_found")
    clock.set(clock() + DAY)
    late = join(api, member["id"], challenge["id"])
    assert (late.status_code, error(late)) == (409, "challenge_closed")


def test_the_member_view_lists_completions_with_the_completing_event(api: Api) -> None:
    challenge = create(api, steps=[step(1)], reward={"points": 7})
    member = enrol(api)
    done = event("order.placed", order_data(line("a", 1, "3.00")), customer=member["external_id"])

    send(api, done)

    seen = view(api, member["id"])[challenge["id"]]
    assert seen["completions"] == [
        {
            "run": 1,
            "completed_at": iso(START),
            "source_id": done["id"],
            "reward": {
                "points": 7,
                "transaction_id": seen["completions"][0]["reward"]["transaction_id"],
            },
        }
    ]
    missing = api.client.get("/v1/members/999999/challenges", headers=api.headers())
    assert (missing.status_code, error(missing)) == (404, "member_not_found")
