"""/v1/rewards: creating each type, what each refuses, changing and listing the catalog."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from punchcard.db import Database
from punchcard.kit.clock import FixedClock
from punchcard.programs.domain import Scope
from tests.conftest import START, Api
from tests.rewards.helpers import (
    create_cause,
    create_reward,
    error,
    get,
    patch,
    post,
    set_tier_policy,
)

DAY = timedelta(days=1)


def iso(days: float) -> str:
    return (START + timedelta(days=days)).isoformat().replace("+00:00", "Z")


# --- creation, type by type --------------------------------------------------------------


def test_a_discount_amount_is_created_with_every_field_shown(api: Api) -> None:
    response = post(
        api,
        "/v1/rewards",
        {
            "name": "5 off",
            "description": "On any order",
            "type": "discount_amount",
            "points_cost": 500,
            "value": 5,
            "stock": 100,
            "per_member_limit": 2,
            "valid_from": iso(0),
            "valid_until": iso(30),
            "channels": ["web", "app", "web"],
        },
    )

    assert response.status_code == 201, response.text
    reward = response.json()
    assert reward == {
        "id": reward["id"],
        "name": "5 off",
        "description": "On any order",
        "type": "discount_amount",
        "points_cost": 500,
        "value": "5.00",
        "cause_id": None,
        "cause": None,
        "stock": 100,
        "claimed": 0,
        "remaining": 100,
        "per_member_limit": 2,
        "valid_from": iso(0),
        "valid_until": iso(30),
        "tiers": None,
        "channels": ["web", "app"],
        "code_valid_days": 90,
        "details": None,
        "active": True,
        "created_at": iso(0),
        "updated_at": iso(0),
    }
    assert get(api, f"/v1/rewards/{reward['id']}").json() == reward


@pytest.mark.parametrize(
    ("kind", "value", "stored"),
    [
        ("discount_amount", "12.5", "12.50"),
        ("gift_card", 25, "25.00"),
        ("discount_percent", 15, "15"),
        ("free_product", "SKU-MUG-01", "SKU-MUG-01"),
        ("free_shipping", None, None),
    ],
)
def test_each_type_stores_its_value_normalised(
    api: Api, kind: str, value: Any, stored: str | None
) -> None:
    reward = create_reward(api, type=kind, value=value)

    assert reward["type"] == kind
    assert reward["value"] == stored
    assert reward["remaining"] is None  # no stock given: unlimited


def test_an_event_experience_has_a_capacity_a_date_and_a_place(api: Api) -> None:
    reward = create_reward(
        api,
        name="Launch party",
        type="experience",
        value=None,
        stock=40,
        details={"kind": "event", "starts_at": "2026-06-01T20:00:00+02:00", "place": "Lyon"},
    )

    assert reward["value"] is None
    assert reward["remaining"] == 40
    assert reward["details"] == {
        "kind": "event",
        "starts_at": "2026-06-01T18:00:00Z",
        "place": "Lyon",
    }


def test_early_access_needs_no_date(api: Api) -> None:
    reward = create_reward(api, type="experience", value=None, details={"kind": "early_access"})

    assert reward["details"] == {"kind": "early_access"}


def test_a_donation_gives_to_a_cause_and_shows_its_impact(api: Api) -> None:
    cause = create_cause(api)

    reward = create_reward(api, type="donation", value=cause["id"], points_cost=500)

    assert reward["value"] == str(cause["id"])
    assert reward["cause_id"] == cause["id"]
    assert reward["cause"] == {
        "id": cause["id"],
        "name": "Plant trees",
        "impact_unit": "tree",
        "points_per_unit": 500,
        "impact": "1 tree per 500 points",
        "active": True,
    }


def test_tiers_are_taken_as_given_when_the_program_has_no_tier_policy(api: Api) -> None:
    reward = create_reward(api, tiers=["gold", "platinum"], code_valid_days=30)

    assert reward["tiers"] == ["gold", "platinum"]
    assert reward["code_valid_days"] == 30


def test_tiers_must_be_tiers_of_the_programs_policy(
    api: Api, db: Database, clock: FixedClock
) -> None:
    set_tier_policy(db, clock, api.program.id, ["silver", "gold"])
    reward = create_reward(api, tiers=["gold"])

    created = post(api, "/v1/rewards", {"name": "r", "type": "free_shipping", "points_cost": 5,
                                        "tiers": ["gold", "diamond"]})  # fmt: skip
    changed = patch(api, f"/v1/rewards/{reward['id']}", {"tiers": ["Gold"]})

    for response in (created, changed):
        assert response.status_code == 422, response.text
        assert error(response)["code"] == "unknown_tier"
    assert error(created)["details"] == {
        "field": "tiers",
        "unknown": ["diamond"],
        "tiers": ["silver", "gold"],
    }
    assert get(api, f"/v1/rewards/{reward['id']}").json()["tiers"] == ["gold"]


# --- what creation refuses -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"type": "discount_amount", "value": None}, "value"),
        ({"type": "discount_amount", "value": "0"}, "value"),
        ({"type": "discount_amount", "value": "4.999"}, "value"),
        ({"type": "gift_card", "value": "lots"}, "value"),
        ({"type": "discount_percent", "value": 150}, "value"),
        ({"type": "discount_percent", "value": "12.5"}, "value"),
        ({"type": "free_product", "value": None}, "value"),
        ({"type": "free_shipping", "value": "5.00"}, "value"),
        ({"type": "experience", "value": None}, "details.kind"),
        ({"type": "experience", "value": None, "details": {"kind": "event"}}, "details.starts_at"),
        ({"type": "donation", "value": "not-a-cause"}, "value"),
        ({"type": "donation", "value": 999_999_999}, "value"),
        ({"valid_from": iso(5), "valid_until": iso(5)}, "valid_until"),
        ({"details": {"blob": "x" * 10_001}}, "details"),
    ],
)
def test_a_value_that_does_not_fit_the_type_is_invalid_reward(
    api: Api, fields: dict[str, Any], field: str
) -> None:
    body = {"name": "r", "type": "discount_amount", "points_cost": 10, "value": "5", **fields}

    response = post(api, "/v1/rewards", body)

    assert response.status_code == 422, response.text
    assert error(response)["code"] == "invalid_reward"
    assert error(response)["details"]["field"] == field


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"points_cost": 0}, "validation_error"),
        ({"points_cost": 10**12 + 1}, "validation_error"),
        ({"points_cost": "500"}, "wrong_type"),
        ({"type": "voucher"}, "validation_error"),
        ({"stock": -1}, "validation_error"),
        ({"per_member_limit": 0}, "validation_error"),
        ({"code_valid_days": 0}, "validation_error"),
        ({"code_valid_days": 3651}, "validation_error"),
        ({"tiers": []}, "validation_error"),
        ({"channels": ["fax"]}, "validation_error"),
        ({"value": True}, "wrong_type"),
        ({"name": ""}, "validation_error"),
        ({"colour": "red"}, "unknown_field"),
    ],
)
def test_malformed_fields_are_422(api: Api, fields: dict[str, Any], code: str) -> None:
    body = {"name": "r", "type": "discount_amount", "points_cost": 10, "value": "5", **fields}

    response = post(api, "/v1/rewards", body)

    assert response.status_code == 422, response.text
    assert error(response)["code"] == code


def test_a_retired_cause_cannot_receive_a_new_donation_reward(api: Api) -> None:
    cause = create_cause(api, active=False)

    response = post(
        api,
        "/v1/rewards",
        {"name": "d", "type": "donation", "points_cost": 5, "value": cause["id"]},
    )

    assert response.status_code == 422, response.text
    assert error(response)["details"] == {"field": "value", "cause_id": cause["id"]}


def test_only_admin_keys_change_the_catalog(api: Api) -> None:
    reward = create_reward(api)
    body = {"name": "r", "type": "free_shipping", "points_cost": 10}

    for scope in (Scope.STOREFRONT, Scope.POS, Scope.ANALYST):
        assert post(api, "/v1/rewards", body, scope).status_code == 403
        assert patch(api, f"/v1/rewards/{reward['id']}", {"name": "x"}, scope).status_code == 403
        assert get(api, f"/v1/rewards/{reward['id']}", scope).status_code == 200
    assert error(post(api, "/v1/rewards", body, Scope.STOREFRONT))["code"] == "insufficient_scope"
    assert api.client.get("/v1/rewards").status_code == 401


def test_creation_is_idempotent_on_the_key(api: Api) -> None:
    body = {"name": "r", "type": "free_shipping", "points_cost": 10}
    headers = {**api.headers(), "Idempotency-Key": "reward-1"}

    first = api.client.post("/v1/rewards", json=body, headers=headers)
    again = api.client.post("/v1/rewards", json=body, headers=headers)
    other = api.client.post("/v1/rewards", json={**body, "points_cost": 11}, headers=headers)

    assert first.status_code == again.status_code == 201
    assert again.content == first.content
    assert again.headers["Idempotent-Replayed"] == "true"
    assert other.status_code == 409
    assert len(get(api, "/v1/rewards").json()["items"]) == 1


def test_an_unknown_reward_is_404(api: Api) -> None:
    response = get(api, "/v1/rewards/999999999")

    assert response.status_code == 404
    assert error(response)["code"] == "reward_not_found"
    assert patch(api, "/v1/rewards/999999999", {"name": "x"}).status_code == 404
    assert get(api, f"/v1/rewards/{2**63}").status_code == 422


# --- listing ---------------------------------------------------------------------------------


def test_the_catalog_pages_by_cursor_and_filters(api: Api) -> None:
    made = [create_reward(api, name=f"r{i}") for i in range(5)]
    create_reward(api, type="free_shipping", value=None)
    patch(api, f"/v1/rewards/{made[0]['id']}", {"active": False})

    first = get(api, "/v1/rewards", limit=4).json()
    second = get(api, "/v1/rewards", limit=4, cursor=first["next_cursor"]).json()
    active = get(api, "/v1/rewards", active="true").json()["items"]
    retired = get(api, "/v1/rewards", active="false").json()["items"]
    shipping = get(api, "/v1/rewards", type="free_shipping").json()["items"]

    assert [r["name"] for r in first["items"]] == ["r0", "r1", "r2", "r3"]
    assert [r["name"] for r in second["items"]] == ["r4", "5 off"]
    assert second["next_cursor"] is None
    assert len(active) == 5
    assert [r["name"] for r in retired] == ["r0"]
    assert [r["type"] for r in shipping] == ["free_shipping"]


def test_a_bad_cursor_or_type_filter_is_422(api: Api) -> None:
    assert error(get(api, "/v1/rewards", cursor="nope"))["code"] == "invalid_cursor"
    assert get(api, "/v1/rewards", type="voucher").status_code == 422
    assert get(api, "/v1/rewards", limit=201).status_code == 422
