"""/v1/leaderboards: defining boards, what they refuse, who may see them, and that a new board
routes the program's events through the engagement hooks at once."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from punchcard.db import Database
from punchcard.engagement import hooks as engagement
from punchcard.kit.clock import FixedClock
from punchcard.programs.domain import Scope
from tests.conftest import Api, ProgramFactory
from tests.leaderboards.helpers import create_board, make_challenge


def test_create_get_list_and_patch(api: Api, clock: FixedClock) -> None:
    week = create_board(api, name="This week", period="week")
    assert week["metric"] == "points"
    assert (week["period"], week["active"], week["challenge_id"]) == ("week", True, None)
    month = create_board(api, name="Month", period="month", active=False)

    got = api.client.get(f"/v1/leaderboards/{week['id']}", headers=api.headers(Scope.ANALYST))
    assert got.status_code == 200, got.text
    body = got.json()
    assert body["period_key"] == "2026-W03"  # the clock's week
    assert body["entries"] == []
    assert {k: body[k] for k in week} == week

    listed = api.client.get("/v1/leaderboards", headers=api.headers(Scope.STOREFRONT)).json()
    assert [b["id"] for b in listed["items"]] == [week["id"], month["id"]]
    only = api.client.get(
        "/v1/leaderboards", params={"active": "true", "limit": 1}, headers=api.headers()
    ).json()
    assert [b["id"] for b in only["items"]] == [week["id"]]
    assert only["next_cursor"] is None
    paged = api.client.get("/v1/leaderboards", params={"limit": 1}, headers=api.headers()).json()
    assert paged["next_cursor"] is not None

    patched = api.client.patch(
        f"/v1/leaderboards/{month['id']}",
        json={"name": "Monthly", "active": True},
        headers=api.headers(),
    )
    assert patched.status_code == 200, patched.text
    assert (patched.json()["name"], patched.json()["active"]) == ("Monthly", True)
    renamed = api.client.patch(
        f"/v1/leaderboards/{month['id']}", json={"name": "M"}, headers=api.headers()
    ).json()
    assert (renamed["name"], renamed["active"]) == ("M", True)


def test_a_challenge_board_needs_a_challenge_of_the_program(
    api: Api, db: Database, clock: FixedClock, make_program: ProgramFactory
) -> None:
    challenge = make_challenge(db, api.program.id, clock())
    board = create_board(api, metric="challenge", challenge_id=challenge, period="month")
    assert (board["metric"], board["challenge_id"]) == ("challenge", challenge)
    other = make_challenge(db, make_program().id, clock())
    response = api.client.post(
        "/v1/leaderboards",
        headers=api.headers(),
        json={"name": "x", "period": "week", "metric": "challenge", "challenge_id": other},
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "unknown_challenge"


def _board(**fields: Any) -> dict[str, Any]:
    return {"name": "Top", "period": "week", **fields}


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (_board(period="day"), "validation_error"),
        (_board(period=None), "validation_error"),
        (_board(metric="spend"), "validation_error"),
        (_board(metric="challenge"), "invalid_leaderboard"),
        (_board(challenge_id=5), "invalid_leaderboard"),
        (_board(metric="challenge", challenge_id=2**62), "unknown_challenge"),
        (_board(metric="challenge", challenge_id=0), "validation_error"),
        (_board(metric="challenge", challenge_id="7"), "wrong_type"),
        (_board(name=""), "validation_error"),
        (_board(name="x" * 201), "validation_error"),
        (_board(colour="red"), "unknown_field"),
        ({"period": "week"}, "missing_field"),
    ],
)
def test_bad_boards_are_refused_with_a_code(api: Api, body: dict[str, Any], code: str) -> None:
    response = api.client.post("/v1/leaderboards", json=body, headers=api.headers())
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == code
    listed = api.client.get("/v1/leaderboards", headers=api.headers()).json()
    assert listed["items"] == []  # nothing half-written


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"period": "month"}, "unknown_field"),
        ({"metric": "challenge"}, "unknown_field"),
        ({"name": None}, "validation_error"),
        ({"active": None}, "validation_error"),
        ({"active": "maybe"}, "wrong_type"),
    ],
)
def test_a_board_keeps_its_period_and_metric(api: Api, body: dict[str, Any], code: str) -> None:
    board = create_board(api)
    response = api.client.patch(f"/v1/leaderboards/{board['id']}", json=body, headers=api.headers())
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == code


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"top": 0}, "validation_error"),
        ({"top": 1001}, "validation_error"),
        ({"period": "2026-01"}, "invalid_period"),  # a month, for a weekly board
        ({"period": "2026-W54"}, "invalid_period"),
        ({"period": "x" * 500}, "invalid_period"),
    ],
)
def test_bad_reads_are_refused_with_a_code(api: Api, params: dict[str, Any], code: str) -> None:
    board = create_board(api, period="week")
    response = api.client.get(
        f"/v1/leaderboards/{board['id']}", params=params, headers=api.headers()
    )
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == code


def test_scopes_and_programs(
    api: Api, client: TestClient, db: Database, make_program: ProgramFactory, clock: FixedClock
) -> None:
    board = create_board(api)
    for scope in (Scope.STOREFRONT, Scope.POS, Scope.ANALYST):
        response = api.client.post("/v1/leaderboards", json=_board(), headers=api.headers(scope))
        assert response.status_code == 403, scope
        patched = api.client.patch(
            f"/v1/leaderboards/{board['id']}", json={"active": False}, headers=api.headers(scope)
        )
        assert patched.status_code == 403, scope
        assert (
            api.client.get(
                f"/v1/leaderboards/{board['id']}", headers=api.headers(scope)
            ).status_code
            == 200
        )
    assert api.client.get(f"/v1/leaderboards/{board['id']}").status_code == 401

    other = Api(client, db, make_program(), clock())  # a key of another program
    for path in (f"/v1/leaderboards/{board['id']}", f"/v1/leaderboards/{board['id']}/members/1"):
        response = other.client.get(path, headers=other.headers(Scope.ADMIN))
        assert response.status_code == 404, path
        assert response.json()["error"]["code"] == "leaderboard_not_found"
    patched = other.client.patch(
        f"/v1/leaderboards/{board['id']}", json={"active": False}, headers=other.headers()
    )
    assert patched.status_code == 404
    assert other.client.get("/v1/leaderboards", headers=other.headers()).json()["items"] == []


def test_configured_follows_active_boards_at_once(api: Api, db: Database) -> None:
    program_id = api.program.id
    assert engagement.cached_configured(db, program_id) == frozenset()  # cached now
    board = create_board(api)
    assert engagement.cached_configured(db, program_id) == {"leaderboards"}
    api.client.patch(
        f"/v1/leaderboards/{board['id']}", json={"active": False}, headers=api.headers()
    )
    assert engagement.cached_configured(db, program_id) == frozenset()
