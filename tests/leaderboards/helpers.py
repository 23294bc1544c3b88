"""What the leaderboard tests share: boards, profiles, points at given moments, and readers."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text

from punchcard.db import Database, session_scope
from punchcard.kit.clock import FixedClock
from punchcard.programs.domain import Scope
from tests.conftest import Api
from tests.events.test_events_api import event, line, member_id_of, order_data, send, uid


def at(year: int, month: int = 1, day: int = 1, hour: int = 12) -> datetime:
    return datetime(year, month, day, hour, tzinfo=UTC)


def create_board(api: Api, **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"name": "Top", "period": "all_time"}
    body.update(fields)
    response = api.client.post("/v1/leaderboards", json=body, headers=api.headers())
    assert response.status_code == 201, response.text
    found: dict[str, Any] = response.json()
    return found


def put_profile(
    api: Api, member_id: int, name: str | None, opted_in: bool = True
) -> dict[str, Any]:
    response = api.client.put(
        f"/v1/members/{member_id}/leaderboard-profile",
        json={"display_name": name, "opted_in": opted_in},
        headers=api.headers(Scope.STOREFRONT),
    )
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


def buy(
    api: Api, clock: FixedClock, customer: str, amount: str, moment: datetime
) -> dict[str, Any]:
    """An order of `amount` (1 point per unit by the default rules) placed at `moment`."""
    clock.set(moment)
    data = order_data(line("sku", 1, amount))
    return send(api, event("order.placed", data, customer=customer, at=moment))


def member(api: Api, clock: FixedClock, amount: str, moment: datetime, name: str | None) -> int:
    """A new member who bought for `amount` at `moment`, opted in as `name` (None: not)."""
    customer = uid("cust")
    buy(api, clock, customer, amount, moment)
    member_id = member_id_of(api, customer)
    if name is not None:
        put_profile(api, member_id, name)
    return member_id


def standings(api: Api, board_id: int, scope: Scope = Scope.STOREFRONT, **params: Any) -> Any:
    response = api.client.get(
        f"/v1/leaderboards/{board_id}", params=params, headers=api.headers(scope)
    )
    assert response.status_code == 200, response.text
    return response.json()


def entries(api: Api, board_id: int, **params: Any) -> list[tuple[int, str, Any]]:
    return [
        (e["rank"], e["display_name"], e["score"])
        for e in standings(api, board_id, **params)["entries"]
    ]


def rank_of(api: Api, board_id: int, member_id: int, **params: Any) -> dict[str, Any]:
    response = api.client.get(
        f"/v1/leaderboards/{board_id}/members/{member_id}",
        params=params,
        headers=api.headers(Scope.STOREFRONT),
    )
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


def make_challenge(db: Database, program_id: int, now: datetime) -> int:
    """A challenge row of the program, written by plain SQL (inactive, so the challenges
    feature ignores it): boards only check that its id is the program's."""
    with session_scope(db.writer) as session:
        session.execute(
            text(
                "INSERT INTO challenges (program_id, name, active, definition, created_at, "
                "updated_at) VALUES (:p, 'Spend', :no, '{}', :now, :now)"
            ),
            {"p": program_id, "no": False, "now": now.replace(tzinfo=None)},
        )
        found = session.execute(
            text("SELECT max(id) FROM challenges WHERE program_id = :p"), {"p": program_id}
        ).scalar_one()
    return int(found)
