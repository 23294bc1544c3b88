"""A challenge bonus earned by orders is part of what those orders earned (DESIGN.md section
4): it waits for the order's return window, and a refund that leaves the run short of its
target takes it back and reopens the run (earn-refund-keep)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from punchcard.db import Database
from punchcard.programs.domain import Scope
from tests.challenges.helpers import (
    challenge_credits,
    completion_count,
    create,
    enrol,
    event,
    order,
    send,
    step,
    uid,
    view,
)
from tests.conftest import START, Api
from tests.leaderboards.helpers import create_board, rank_of
from tests.rewards.helpers import create_reward

MINUTE = timedelta(minutes=1)


@pytest.fixture(autouse=True)
def _secret_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PUNCHCARD_SECRET_KEY", "test-secret-key-for-sealing-0123456789")


def window(api: Api, days: int) -> None:
    patched = api.client.patch("/v1/program", json={"pending_days": days}, headers=api.headers())
    assert patched.status_code == 200, patched.text


def points(api: Api, member_id: int) -> dict[str, int]:
    response = api.client.get(f"/v1/members/{member_id}/balance", headers=api.headers())
    assert response.status_code == 200, response.text
    found = response.json()
    return {k: found[k] for k in ("available", "pending", "debt")}


def cancel(api: Api, member: dict[str, Any], order_id: str, at: Any = START + 5 * MINUTE) -> None:
    send(api, event("order.cancelled", {"order_id": order_id}, customer=member["external_id"],
                    at=at))  # fmt: skip


def test_a_bonus_earned_by_orders_waits_for_their_return_window(api: Api) -> None:
    window(api, 14)
    create(api, steps=[step(1)], reward={"points": 500})
    member = enrol(api)
    order(api, member, "10.00")
    assert points(api, member["id"]) == {"available": 0, "pending": 510, "debt": 0}


def test_a_bonus_earned_by_other_events_is_available_at_once(api: Api) -> None:
    window(api, 14)
    create(api, steps=[step(1, events=["app.installed"], label="installs")],
           reward={"points": 500})  # fmt: skip
    member = enrol(api)
    send(api, event("app.installed", {}, customer=member["external_id"]))
    assert points(api, member["id"]) == {"available": 500, "pending": 0, "debt": 0}


def test_a_cancellation_in_the_window_voids_the_bonus_and_reopens_the_run(
    api: Api, db: Database
) -> None:
    window(api, 14)
    board = create_board(api)
    challenge = create(api, steps=[step(2)], reward={"points": 500})
    member = enrol(api)
    first, second = uid("order"), uid("order")
    order(api, member, "10.00", order_id=first)
    order(api, member, "10.00", order_id=second, at=START + MINUTE)
    assert completion_count(db, challenge["id"], member["id"]) == 1
    assert rank_of(api, board["id"], member["id"])["score"] == 520

    cancel(api, member, first)

    assert points(api, member["id"]) == {"available": 0, "pending": 10, "debt": 0}
    assert rank_of(api, board["id"], member["id"])["score"] == 10
    assert completion_count(db, challenge["id"], member["id"]) == 0
    state = view(api, member["id"])[challenge["id"]]
    assert (state["status"], state["progress_text"]) == ("in_progress", "1 of 2 orders")

    # the member can complete it again, once, with a new order
    order(api, member, "10.00", at=START + 10 * MINUTE)
    assert completion_count(db, challenge["id"], member["id"]) == 1
    assert challenge_credits(db, challenge["id"], member["id"]) == 2  # the voided one, the new
    assert points(api, member["id"])["pending"] == 520
    assert view(api, member["id"])[challenge["id"]]["status"] == "completed"


def test_a_cancellation_after_the_window_reverses_the_bonus_as_it_does_the_order(
    api: Api, db: Database
) -> None:
    """No return window: the bonus was available at once; a cancellation still takes it back
    (spent points would become debt), as it takes back the order's own points."""
    challenge = create(api, steps=[step(1)], reward={"points": 500})
    member = enrol(api)
    placed = uid("order")
    order(api, member, "10.00", order_id=placed)
    assert points(api, member["id"])["available"] == 510

    cancel(api, member, placed)

    assert points(api, member["id"]) == {"available": 0, "pending": 0, "debt": 0}
    assert completion_count(db, challenge["id"], member["id"]) == 0
    assert view(api, member["id"])[challenge["id"]]["status"] == "available"


def test_a_partial_refund_undoes_the_completion_only_below_the_target(
    api: Api, db: Database
) -> None:
    challenge = create(api, steps=[step("50", metric="sum", label="spent")],
                       reward={"points": 500})  # fmt: skip
    member = enrol(api)
    placed = uid("order")
    order(api, member, "80.00", order_id=placed)
    refund = {"order_id": placed, "amount": "20.00"}
    send(api, event("order.refunded", refund, customer=member["external_id"], at=START + MINUTE))
    assert completion_count(db, challenge["id"], member["id"]) == 1  # 60 still counts
    assert points(api, member["id"])["available"] == 560

    send(api, event("order.refunded", refund, customer=member["external_id"],
                    at=START + 2 * MINUTE))  # fmt: skip

    assert completion_count(db, challenge["id"], member["id"]) == 0
    assert points(api, member["id"])["available"] == 40
    assert view(api, member["id"])[challenge["id"]]["progress_text"] == "spend 10.00 more"


def test_an_earlier_passed_step_counts_too(api: Api, db: Database) -> None:
    challenge = create(api, steps=[step(1), step(1, events=["app.installed"], label="installs")],
                       reward={"points": 500})  # fmt: skip
    member = enrol(api)
    placed = uid("order")
    order(api, member, "10.00", order_id=placed)
    send(api, event("app.installed", {}, customer=member["external_id"], at=START + MINUTE))
    assert completion_count(db, challenge["id"], member["id"]) == 1

    cancel(api, member, placed)

    assert completion_count(db, challenge["id"], member["id"]) == 0
    state = view(api, member["id"])[challenge["id"]]
    assert (state["step"], state["progress_text"]) == (1, "0 of 1 orders")


def test_a_repeatable_challenge_reopens_the_run_and_drops_the_untouched_next(
    api: Api, db: Database
) -> None:
    challenge = create(api, steps=[step(1)], repeatable=True, reward={"points": 500})
    member = enrol(api)
    placed = uid("order")
    order(api, member, "10.00", order_id=placed)

    cancel(api, member, placed)

    assert completion_count(db, challenge["id"], member["id"]) == 0
    order(api, member, "10.00", at=START + 10 * MINUTE)
    assert completion_count(db, challenge["id"], member["id"]) == 1
    assert len(view(api, member["id"])[challenge["id"]]["completions"]) == 1


def test_a_repeatable_run_already_followed_stays_closed_but_loses_its_bonus(
    api: Api, db: Database
) -> None:
    challenge = create(api, steps=[step(2)], repeatable=True, reward={"points": 500})
    member = enrol(api)
    placed = uid("order")
    for at, order_id in ((START, placed), (START + MINUTE, None), (START + 2 * MINUTE, None)):
        order(api, member, "10.00", order_id=order_id, at=at)
    assert completion_count(db, challenge["id"], member["id"]) == 1

    cancel(api, member, placed)

    assert completion_count(db, challenge["id"], member["id"]) == 0
    assert points(api, member["id"])["available"] == 20
    state = view(api, member["id"])[challenge["id"]]
    assert (state["completions"], state["progress_text"]) == ([], "1 of 2 orders")


def test_a_reopened_run_cancels_its_unused_granted_reward(api: Api, db: Database) -> None:
    reward = create_reward(api, stock=5, points_cost=500)
    challenge = create(api, steps=[step(1)], reward={"reward_id": reward["id"]})
    member = enrol(api)
    placed = uid("order")
    order(api, member, "10.00", order_id=placed)

    cancel(api, member, placed)

    assert completion_count(db, challenge["id"], member["id"]) == 0
    (redemption,) = api.client.get(
        f"/v1/members/{member['id']}/redemptions", headers=api.headers(Scope.ANALYST)
    ).json()["items"]
    assert redemption["status"] == "cancelled"
