"""GET/PUT /v1/tiers: the ladder, its versions, what it refuses, and who may see it."""

from __future__ import annotations

from typing import Any

import pytest

from punchcard.db import Database, session_scope
from punchcard.programs import service as programs
from punchcard.programs.domain import Scope
from tests.conftest import Api, ProgramFactory
from tests.tiers.helpers import ladder, put_tiers


def test_no_tiers_before_the_first_put(api: Api) -> None:
    response = api.client.get("/v1/tiers", headers=api.headers(Scope.ANALYST))
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "tiers_not_configured"


def test_put_then_get_with_versions(api: Api) -> None:
    first = put_tiers(api)
    assert first["version"] == 1
    assert first["downgrade"] == "one_down"
    assert first["grace_days"] == 0
    assert [t["threshold"] for t in first["tiers"]] == ["0.00", "200.00", "500.00", "800.00",
                                                       "1000.00"]  # fmt: skip
    assert first["tiers"][2] == {
        "name": "Gold",
        "threshold": "500.00",
        "multiplier": "1.5",
        "perks": ["free shipping"],
        "invitation_only": False,
    }
    second = put_tiers(api, metric="points", window="lifetime", downgrade="recalculate",
                       grace_days=30)  # fmt: skip
    assert second["version"] == 2
    got = api.client.get("/v1/tiers", headers=api.headers(Scope.STOREFRONT)).json()
    assert got == second
    assert [t["threshold"] for t in got["tiers"]] == [0, 200, 500, 800, 1000]
    assert (got["metric"], got["window"], got["downgrade"], got["grace_days"]) == (
        "points",
        "lifetime",
        "recalculate",
        30,
    )


def _tiers(*tiers: dict[str, Any]) -> dict[str, Any]:
    return {"metric": "spend", "window": "lifetime", "tiers": list(tiers)}


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (_tiers({"name": "A", "threshold": 0}, {"name": "a", "threshold": 5}), "invalid_tiers"),
        (_tiers({"name": "A", "threshold": 10}, {"name": "B", "threshold": 5}), "invalid_tiers"),
        (_tiers({"name": "A", "threshold": 10}, {"name": "B", "threshold": 10}), "invalid_tiers"),
        (_tiers({"name": "A", "threshold": "0.001"}), "invalid_tiers"),
        (dict(_tiers({"name": "A", "threshold": "1.5"}), metric="points"), "invalid_tiers"),
        (_tiers({"name": "A", "threshold": -1}), "validation_error"),
        (_tiers({"name": "A", "threshold": "lots"}), "wrong_type"),
        (_tiers({"name": "A", "threshold": 0, "multiplier": "0.5"}), "validation_error"),
        (_tiers({"name": "A", "threshold": 0, "multiplier": "1.255"}), "validation_error"),
        (_tiers({"name": "", "threshold": 0}), "validation_error"),
        (_tiers({"name": "A" * 51, "threshold": 0}), "validation_error"),
        # Accepted, a NUL made every event reaching the tier a 422 on PostgreSQL.
        (
            _tiers({"name": "A", "threshold": 0}, {"name": "G\x00", "threshold": 5}),
            "validation_error",
        ),
        (_tiers({"name": "A", "threshold": 0, "colour": "gold"}), "unknown_field"),
        (_tiers(), "validation_error"),
        (dict(_tiers({"name": "A", "threshold": 0}), metric="visits"), "validation_error"),
        (dict(_tiers({"name": "A", "threshold": 0}), window="forever"), "validation_error"),
        (dict(_tiers({"name": "A", "threshold": 0}), downgrade="two_down"), "validation_error"),
        (dict(_tiers({"name": "A", "threshold": 0}), grace_days=-1), "validation_error"),
        (dict(_tiers({"name": "A", "threshold": 0}), grace_days="7"), "wrong_type"),
        ({"metric": "spend", "tiers": [{"name": "A", "threshold": 0}]}, "missing_field"),
    ],
)
def test_bad_ladders_are_refused_with_a_code(api: Api, body: dict[str, Any], code: str) -> None:
    response = api.client.put("/v1/tiers", json=body, headers=api.headers())
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == code
    assert api.client.get("/v1/tiers", headers=api.headers()).status_code == 404


def test_invalid_tiers_lists_every_problem(api: Api) -> None:
    body = _tiers({"name": "A", "threshold": 10}, {"name": "A", "threshold": 5})
    error = api.client.put("/v1/tiers", json=body, headers=api.headers()).json()["error"]
    assert [e["path"] for e in error["details"]["errors"]] == [
        "tiers[1].name",
        "tiers[1].threshold",
    ]


def test_only_admin_keys_change_tiers(api: Api) -> None:
    for scope in (Scope.STOREFRONT, Scope.POS, Scope.ANALYST):
        response = api.client.put("/v1/tiers", json=ladder(), headers=api.headers(scope))
        assert response.status_code == 403


def test_a_put_is_idempotent_with_a_key(api: Api) -> None:
    headers = {**api.headers(), "Idempotency-Key": "tiers-1"}
    first = api.client.put("/v1/tiers", json=ladder(), headers=headers)
    again = api.client.put("/v1/tiers", json=ladder(), headers=headers)
    assert again.content == first.content
    assert again.headers["Idempotent-Replayed"] == "true"
    other = api.client.put("/v1/tiers", json=ladder(grace_days=3), headers=headers)
    assert other.status_code == 409


def test_a_tier_held_by_a_member_cannot_be_removed(api: Api) -> None:
    put_tiers(api)
    member = api.client.post("/v1/members", json={"external_id": "vip"}, headers=api.headers())
    member_id = member.json()["id"]
    granted = api.client.post(
        f"/v1/members/{member_id}/tier",
        json={"tier": "Black", "reason": "board member"},
        headers=api.headers(),
    )
    assert granted.status_code == 200, granted.text
    without_black = ladder()
    without_black["tiers"] = [t for t in without_black["tiers"] if t["name"] != "Black"]
    refused = api.client.put("/v1/tiers", json=without_black, headers=api.headers())
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "tier_in_use"
    assert refused.json()["error"]["details"] == {"tiers": ["Black"]}
    renamed = ladder()
    renamed["tiers"][1]["name"] = "Argent"  # Silver is held by nobody: it may go
    assert api.client.put("/v1/tiers", json=renamed, headers=api.headers()).status_code == 200


def test_a_tier_active_rewards_are_limited_to_cannot_be_removed(api: Api) -> None:
    """A reward for Gold members only would be redeemable by no one once Gold is gone."""
    put_tiers(api)
    body = {"name": "Lounge", "type": "free_shipping", "points_cost": 10, "tiers": ["Gold"]}
    created = api.client.post("/v1/rewards", json=body, headers=api.headers())
    assert created.status_code == 201, created.text
    reward_id = created.json()["id"]
    without_gold = ladder()
    without_gold["tiers"] = [t for t in without_gold["tiers"] if t["name"] != "Gold"]

    refused = api.client.put("/v1/tiers", json=without_gold, headers=api.headers())

    assert refused.status_code == 409, refused.text
    assert refused.json()["error"]["code"] == "tier_in_use"
    assert refused.json()["error"]["details"] == {"tiers": ["Gold"], "rewards": [reward_id]}
    retired = api.client.patch(
        f"/v1/rewards/{reward_id}", json={"active": False}, headers=api.headers()
    )
    assert retired.status_code == 200, retired.text
    assert api.client.put("/v1/tiers", json=without_gold, headers=api.headers()).status_code == 200


def test_another_program_sees_nothing(
    api: Api, db: Database, make_program: ProgramFactory, clock: Any
) -> None:
    put_tiers(api)
    member = api.client.post("/v1/members", json={"external_id": "m1"}, headers=api.headers())
    member_id = member.json()["id"]
    other = make_program()
    with session_scope(db.writer) as session:
        key = programs.create_api_key(
            session, program_id=other.id, scopes=(Scope.ADMIN,), now=clock()
        ).api_key
    headers = {"Authorization": f"Bearer {key}"}
    assert api.client.get("/v1/tiers", headers=headers).status_code == 404
    for path in (f"/v1/members/{member_id}/tier", f"/v1/members/{member_id}/tier/history"):
        assert api.client.get(path, headers=headers).status_code == 404
    grant = {"tier": "Gold", "reason": "x"}
    response = api.client.post(f"/v1/members/{member_id}/tier", json=grant, headers=headers)
    assert response.status_code == 404
    # With tiers of its own, the other program still does not see this member.
    api.client.put("/v1/tiers", json=ladder(), headers=headers)
    for path in (f"/v1/members/{member_id}/tier", f"/v1/members/{member_id}/tier/history"):
        response = api.client.get(path, headers=headers)
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "member_not_found"
    response = api.client.post(f"/v1/members/{member_id}/tier", json=grant, headers=headers)
    assert response.json()["error"]["code"] == "member_not_found"
    assert tier_history_len(api, member_id) == 0


def tier_history_len(api: Api, member_id: int) -> int:
    response = api.client.get(f"/v1/members/{member_id}/tier/history", headers=api.headers())
    return len(response.json()["items"])
