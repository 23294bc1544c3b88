"""Scores as events arrive: points from events, batches and refunds, bonus points, challenge
metrics; who appears (opted in) and who only gets a rank; ties; periods by event time."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from punchcard.db import Database, session_scope
from punchcard.engagement.points import award_points
from punchcard.kit.clock import FixedClock
from punchcard.leaderboards import hooks
from punchcard.programs.domain import Scope
from tests.conftest import Api
from tests.events.test_events_api import event, line, member_id_of, order_data, post_batch, send
from tests.events.test_events_api import uid as new_id
from tests.leaderboards.helpers import (
    at,
    buy,
    create_board,
    entries,
    make_challenge,
    member,
    put_profile,
    rank_of,
    standings,
)

MON = at(2026, 3, 2)  # a Monday: week 2026-W10, March


def test_only_opted_in_members_appear_and_everyone_gets_a_rank(api: Api, clock: FixedClock) -> None:
    board = create_board(api)["id"]
    anna = member(api, clock, "50.00", MON, "Anna")
    hidden = member(api, clock, "70.00", MON, None)  # never opted in
    bob = member(api, clock, "30.00", MON, "Bob")

    assert entries(api, board) == [(1, "Anna", 50), (2, "Bob", 30)]
    body = standings(api, board)
    assert all(set(e) == {"rank", "display_name", "score"} for e in body["entries"])
    # the hidden member ranks among the visible ones, above Anna
    assert rank_of(api, board, hidden) == {
        "leaderboard_id": board,
        "member_id": hidden,
        "period_key": "all",
        "rank": 1,
        "score": 70,
        "visible": False,
        "of": 2,
    }
    assert (rank_of(api, board, bob)["rank"], rank_of(api, board, bob)["visible"]) == (2, True)

    put_profile(api, anna, "Anna", opted_in=False)  # out: gone from the list at once
    assert entries(api, board) == [(1, "Bob", 30)]
    mine = rank_of(api, board, anna)
    assert (mine["rank"], mine["score"], mine["visible"], mine["of"]) == (1, 50, False, 1)
    put_profile(api, hidden, "Zed")  # in: with the score earned before opting in
    assert entries(api, board) == [(1, "Zed", 70), (2, "Bob", 30)]


def test_ties_share_a_rank_and_list_by_member_id(api: Api, clock: FixedClock) -> None:
    board = create_board(api)["id"]
    first = member(api, clock, "40.00", MON, "First")
    second = member(api, clock, "40.00", MON, "Second")
    member(api, clock, "90.00", MON, "Top")
    member(api, clock, "10.00", MON, "Last")
    assert first < second
    assert entries(api, board) == [
        (1, "Top", 90),
        (2, "First", 40),
        (2, "Second", 40),
        (4, "Last", 10),
    ]
    assert rank_of(api, board, second)["rank"] == 2
    assert entries(api, board, top=2) == [(1, "Top", 90), (2, "First", 40)]


def test_periods_roll_over_by_event_time(api: Api, clock: FixedClock) -> None:
    week = create_board(api, period="week")["id"]
    month = create_board(api, period="month")["id"]
    ever = create_board(api, period="all_time")["id"]
    customer = new_id("cust")
    buy(api, clock, customer, "10.00", at(2026, 3, 1, 23))  # Sunday: W09, March
    buy(api, clock, customer, "20.00", MON)  # W10, March
    buy(api, clock, customer, "40.00", at(2026, 4, 1))  # W14, April
    me = member_id_of(api, customer)
    put_profile(api, me, "Me")
    # a late event, sent now, counts in the week it happened
    clock.set(at(2026, 4, 2))
    data = order_data(line("sku", 1, "5.00"))
    send(api, event("order.placed", data, customer=customer, at=at(2026, 3, 3)))

    assert entries(api, week) == [(1, "Me", 40)]  # the clock's week, 2026-W14
    assert entries(api, week, period="2026-W10") == [(1, "Me", 25)]
    assert entries(api, week, period="2026-W09") == [(1, "Me", 10)]
    assert entries(api, week, period="2026-W11") == []
    assert entries(api, month, period="2026-03") == [(1, "Me", 35)]
    assert entries(api, month) == [(1, "Me", 40)]
    assert entries(api, ever) == [(1, "Me", 75)]
    assert standings(api, month)["period_key"] == "2026-04"
    assert rank_of(api, week, me, period="2026-W09")["score"] == 10
    nothing = rank_of(api, week, me, period="2026-W20")
    assert (nothing["rank"], nothing["score"], nothing["of"]) == (1, 0, 0)


def test_refunds_take_points_back_and_batches_count(api: Api, clock: FixedClock) -> None:
    board = create_board(api)["id"]
    inactive = create_board(api, active=False)["id"]
    clock.set(MON)
    customer = new_id("cust")
    placed = order_data(line("a", 1, "60.00"), line("b", 1, "40.00"))
    other = order_data(line("a", 1, "5.00"))
    response = post_batch(
        api,
        [
            event("order.placed", placed, customer=customer, at=MON),
            event("order.placed", other, customer=customer, at=MON),
        ],
    )
    assert response.json()["accepted"] == 2, response.text
    me = member_id_of(api, customer)
    put_profile(api, me, "Me")
    assert entries(api, board) == [(1, "Me", 105)]
    refund = event(
        "order.refunded",
        {"order_id": placed["order_id"], "lines": [{"sku": "a", "quantity": 1}]},
        customer=customer,
        at=MON + timedelta(hours=1),
    )
    assert send(api, refund)["points"]["reversed"] == 60
    assert entries(api, board) == [(1, "Me", 45)]
    assert entries(api, inactive) == []  # a stopped board does not count


def test_bonus_points_and_challenge_progress(api: Api, clock: FixedClock, db: Database) -> None:
    points = create_board(api, period="week")["id"]
    challenge = make_challenge(db, api.program.id, clock())
    spend = create_board(api, metric="challenge", challenge_id=challenge, period="week")["id"]
    unrelated = make_challenge(db, api.program.id, clock())
    anna = member(api, clock, "10.00", MON, "Anna")
    bob = member(api, clock, "10.00", MON, "Bob")
    with session_scope(db.writer) as session:
        award_points(
            session,
            program=api.program,
            member_id=anna,
            points=25,
            reason="streak",
            reference="s1",
            occurred_at=MON,
            now=MON,
        )
        for who, delta in ((anna, "12.50"), (bob, "12.505"), (anna, "0.25"), (bob, "3")):
            hooks.challenge_progress(
                session,
                program_id=api.program.id,
                challenge_id=challenge,
                member_id=who,
                delta=Decimal(delta),
                occurred_at=MON,
            )
        hooks.challenge_progress(
            session,
            program_id=api.program.id,
            challenge_id=unrelated,
            member_id=bob,
            delta=Decimal(100),
            occurred_at=MON,
        )
    assert entries(api, points) == [(1, "Anna", 35), (2, "Bob", 10)]
    listed = standings(api, spend)["entries"]
    assert [(e["display_name"], e["score"]) for e in listed] == [
        ("Bob", "15.50"),
        ("Anna", "12.75"),
    ]
    assert rank_of(api, spend, anna)["score"] == "12.75"


def test_member_rank_checks_the_member_and_the_board(api: Api, clock: FixedClock) -> None:
    board = create_board(api)["id"]
    anna = member(api, clock, "10.00", MON, "Anna")
    response = api.client.get(
        f"/v1/leaderboards/{board}/members/999999999", headers=api.headers(Scope.STOREFRONT)
    )
    assert (response.status_code, response.json()["error"]["code"]) == (404, "member_not_found")
    response = api.client.get(f"/v1/leaderboards/999999999/members/{anna}", headers=api.headers())
    assert response.json()["error"]["code"] == "leaderboard_not_found"
    response = api.client.get(
        f"/v1/leaderboards/{board}/members/{anna}",
        params={"period": "2026-W10"},
        headers=api.headers(),
    )
    assert response.json()["error"]["code"] == "invalid_period"
