"""A points board created after members earned counts their history from the ledger, every
period, exactly as the live path would have; `rebuild` does it again for a board that was
stopped while events went by."""

from __future__ import annotations

from datetime import timedelta

from punchcard.db import Database
from punchcard.kit.clock import FixedClock
from punchcard.programs.domain import Scope
from tests.conftest import Api
from tests.events.test_events_api import event, member_id_of, send, uid
from tests.leaderboards.helpers import (
    at,
    buy,
    create_board,
    entries,
    make_challenge,
    put_profile,
    rank_of,
)

FEB = at(2026, 2, 10)
MAR = at(2026, 3, 2)


def history(api: Api, clock: FixedClock) -> tuple[int, int]:
    """Two members: one bought in February and March and had part refunded, one bought in
    March only; both opted in."""
    first, second = uid("cust"), uid("cust")
    placed = buy(api, clock, first, "30.00", FEB)
    buy(api, clock, first, "50.00", MAR)
    buy(api, clock, second, "70.00", MAR)
    refund = event(
        "order.refunded",
        {"order_id": placed["order_id"], "amount": "10.00"},
        customer=first,
        at=MAR + timedelta(hours=1),
    )
    assert send(api, refund)["points"]["reversed"] == 10
    ids = member_id_of(api, first), member_id_of(api, second)
    put_profile(api, ids[0], "First")
    put_profile(api, ids[1], "Second")
    return ids


def test_a_new_board_counts_the_ledger_history_like_the_live_path(
    api: Api, clock: FixedClock
) -> None:
    live = {p: create_board(api, period=p)["id"] for p in ("all_time", "month")}
    first, second = history(api, clock)
    late = {p: create_board(api, period=p)["id"] for p in ("all_time", "month")}

    for period in ("all_time", "month"):
        for key in (None, "2026-02", "2026-03") if period == "month" else (None,):
            params = {} if key is None else {"period": key}
            assert entries(api, late[period], **params) == entries(api, live[period], **params)
    assert entries(api, late["all_time"]) == [(1, "First", 70), (1, "Second", 70)]
    assert entries(api, late["month"], period="2026-02") == [(1, "First", 30)]
    # the refund is counted in its own month, as the live path counts it
    assert entries(api, late["month"], period="2026-03") == [(1, "Second", 70), (2, "First", 40)]
    assert rank_of(api, late["all_time"], first)["score"] == 70
    assert rank_of(api, late["all_time"], second)["rank"] == 1


def test_rebuild_catches_up_a_board_that_was_stopped(api: Api, clock: FixedClock) -> None:
    board = create_board(api)["id"]
    stop = api.client.patch(f"/v1/leaderboards/{board}", json={"active": False},
                            headers=api.headers())  # fmt: skip
    assert stop.status_code == 200, stop.text
    customer = uid("cust")
    buy(api, clock, customer, "25.00", MAR)
    put_profile(api, member_id_of(api, customer), "Late")
    assert entries(api, board) == []

    rebuilt = api.client.post(f"/v1/leaderboards/{board}/rebuild", headers=api.headers())
    assert rebuilt.status_code == 200, rebuilt.text
    assert rebuilt.json() == {"leaderboard_id": board, "rows": 1}
    assert entries(api, board) == [(1, "Late", 25)]
    again = api.client.post(f"/v1/leaderboards/{board}/rebuild", headers=api.headers())
    assert again.json()["rows"] == 1  # the same rows again, never doubled
    assert entries(api, board) == [(1, "Late", 25)]


def test_rebuild_is_for_admins_and_points_boards_only(api: Api, db: Database) -> None:
    board = create_board(api)["id"]
    denied = api.client.post(
        f"/v1/leaderboards/{board}/rebuild", headers=api.headers(Scope.STOREFRONT)
    )
    assert denied.status_code == 403
    missing = api.client.post("/v1/leaderboards/999999999/rebuild", headers=api.headers())
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "leaderboard_not_found"
    challenge = make_challenge(db, api.program.id, at(2026, 1, 1))
    by_challenge = create_board(api, metric="challenge", challenge_id=challenge)["id"]
    refused = api.client.post(f"/v1/leaderboards/{by_challenge}/rebuild", headers=api.headers())
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "not_rebuildable"
