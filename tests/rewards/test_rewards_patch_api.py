"""PATCH /v1/rewards/{id}: any field but the type, null clears, stock never below claimed."""

from __future__ import annotations

from datetime import timedelta

import pytest

from punchcard.db import Database
from punchcard.kit.clock import FixedClock
from tests.conftest import START, Api
from tests.rewards.helpers import create_cause, create_reward, error, get, patch, set_claimed

DAY = timedelta(days=1)


def iso(days: float) -> str:
    return (START + timedelta(days=days)).isoformat().replace("+00:00", "Z")


def test_patch_changes_only_what_it_names(api: Api) -> None:
    reward = create_reward(api, stock=10, per_member_limit=1)

    response = patch(api, f"/v1/rewards/{reward['id']}", {"points_cost": 600, "value": "7.5"})

    assert response.status_code == 200, response.text
    changed = response.json()
    assert changed == {**reward, "points_cost": 600, "value": "7.50"}


def test_null_clears_optional_fields(api: Api) -> None:
    reward = create_reward(
        api,
        description="d",
        stock=10,
        per_member_limit=1,
        valid_from=iso(-1),
        valid_until=iso(10),
        tiers=["gold"],
        channels=["pos"],
        details={"image": "a.png"},
    )
    cleared = dict.fromkeys(
        ("description", "stock", "per_member_limit", "valid_from", "valid_until", "tiers",
         "channels", "details"),
    )  # fmt: skip

    response = patch(api, f"/v1/rewards/{reward['id']}", cleared)

    assert response.status_code == 200, response.text
    assert response.json() == {**reward, **cleared, "remaining": None}


@pytest.mark.parametrize("field", ["name", "points_cost", "code_valid_days", "active", "type"])
def test_required_fields_cannot_be_cleared(api: Api, field: str) -> None:
    reward = create_reward(api)

    response = patch(api, f"/v1/rewards/{reward['id']}", {field: None})

    assert response.status_code == 422, response.text
    assert get(api, f"/v1/rewards/{reward['id']}").json() == reward


def test_the_type_cannot_change(api: Api) -> None:
    reward = create_reward(api)

    same = patch(api, f"/v1/rewards/{reward['id']}", {"type": "discount_amount", "name": "n"})
    other = patch(api, f"/v1/rewards/{reward['id']}", {"type": "gift_card"})

    assert same.status_code == 200, same.text
    assert other.status_code == 422, other.text
    assert error(other)["code"] == "invalid_reward"
    assert error(other)["details"] == {"field": "type"}


def test_the_whole_reward_is_checked_after_a_patch(api: Api) -> None:
    reward = create_reward(api, valid_from=iso(1), valid_until=iso(10))
    path = f"/v1/rewards/{reward['id']}"

    before_start = patch(api, path, {"valid_until": iso(0)})
    value_gone = patch(api, path, {"value": None})

    assert error(before_start)["details"] == {"field": "valid_until"}
    assert error(value_gone)["details"] == {"field": "value"}
    assert get(api, path).json() == reward


def test_active_false_retires_a_reward(api: Api, clock: FixedClock) -> None:
    reward = create_reward(api)
    clock.set(START + DAY)

    response = patch(api, f"/v1/rewards/{reward['id']}", {"active": False})

    assert response.status_code == 200, response.text
    assert response.json()["active"] is False
    assert response.json()["updated_at"] == iso(1)
    assert response.json()["created_at"] == iso(0)


def test_stock_cannot_go_below_what_is_claimed(api: Api, db: Database) -> None:
    reward = create_reward(api, stock=10)
    set_claimed(db, reward["id"], 6)
    path = f"/v1/rewards/{reward['id']}"

    refused = patch(api, path, {"stock": 5, "name": "renamed"})
    exact = patch(api, path, {"stock": 6})

    assert refused.status_code == 409, refused.text
    assert error(refused)["code"] == "stock_below_claimed"
    assert error(refused)["details"] == {"stock": 5, "claimed": 6}
    assert exact.status_code == 200, exact.text
    assert exact.json()["remaining"] == 0
    assert exact.json()["claimed"] == 6
    assert exact.json()["name"] == "5 off"  # the refused patch changed nothing


def test_a_donation_moves_to_another_cause(api: Api) -> None:
    trees, seas = create_cause(api), create_cause(api, name="Clean seas", impact_unit="kg")
    reward = create_reward(api, type="donation", value=trees["id"])

    moved = patch(api, f"/v1/rewards/{reward['id']}", {"value": seas["id"]}).json()

    assert moved["cause_id"] == seas["id"]
    assert moved["cause"]["impact"] == "1 kg per 500 points"
