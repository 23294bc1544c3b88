"""The hooks after an event run only for the features the program has set up: a program with
only a leaderboard never asks the referral, sharing, challenge, badge or streak tables
anything on its earn path, and one with nothing set up asks nothing at all."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event

from punchcard.db import Database
from punchcard.engagement import hooks
from tests.conftest import Api
from tests.events.test_events_api import event as an_event
from tests.events.test_events_api import line, order_data, send, uid

OTHER_FEATURES = (
    "referral", "share_", "challenge", "badge", "streak",
)  # fmt: skip


@contextmanager
def statements(db: Database) -> Iterator[list[str]]:
    seen: list[str] = []

    def keep(*args: Any) -> None:
        seen.append(str(args[2]))

    event.listen(db.engine, "before_cursor_execute", keep)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", keep)


def order(api: Api, customer: str) -> None:
    send(api, an_event("order.placed", order_data(line("sku", 1, "20.00")), customer=customer))


def test_only_the_features_set_up_run_for_an_event(api: Api, db: Database) -> None:
    customer = uid("cust")
    order(api, customer)  # enrolled; the program has no feature yet
    with statements(db) as none_set_up:
        order(api, customer)
    assert not [s for s in none_set_up if "leaderboard" in s]

    board = api.client.post(
        "/v1/leaderboards", json={"name": "Top", "period": "all_time"}, headers=api.headers()
    )
    assert board.status_code == 201, board.text
    assert hooks.cached_configured(db, api.program.id) == {"leaderboards"}
    with statements(db) as one_set_up:
        order(api, customer)
    assert [s for s in one_set_up if "leaderboard_scores" in s]
    asked = [s for s in one_set_up for t in OTHER_FEATURES if f" {t}" in s or f'"{t}' in s]
    assert asked == []
