"""/v1/causes: causes, what members gave to each, and a member's own impact."""

from __future__ import annotations

from typing import Any

from punchcard.db import Database
from punchcard.kit.clock import FixedClock
from punchcard.programs.domain import Scope
from tests.conftest import START, Api
from tests.rewards.helpers import (
    create_cause,
    create_reward,
    donate,
    enrol,
    error,
    get,
    give_points,
    patch,
    post,
)

NO_TOTALS = {"points_donated": 0, "impact_units": "0", "donations": 0, "donors": 0}


def test_a_cause_is_created_with_its_impact_and_empty_totals(api: Api) -> None:
    response = post(
        api,
        "/v1/causes",
        {
            "name": "Plant trees",
            "description": "With our partner",
            "impact_unit": "tree",
            "points_per_unit": 500,
        },
    )

    assert response.status_code == 201, response.text
    cause = response.json()
    when = START.isoformat().replace("+00:00", "Z")
    assert cause == {
        "id": cause["id"],
        "name": "Plant trees",
        "description": "With our partner",
        "impact_unit": "tree",
        "points_per_unit": 500,
        "impact": "1 tree per 500 points",
        "active": True,
        "totals": NO_TOTALS,
        "created_at": when,
        "updated_at": when,
    }
    assert get(api, f"/v1/causes/{cause['id']}").json() == cause


def test_the_impact_uses_the_programs_name_for_points(api: Api) -> None:
    api.client.patch("/v1/program", json={"points_name": "stars"}, headers=api.headers())

    assert create_cause(api, points_per_unit=250)["impact"] == "1 tree per 250 stars"


def test_totals_add_up_completed_donations_per_cause(
    api: Api, db: Database, clock: FixedClock
) -> None:
    trees, seas = create_cause(api), create_cause(api, name="Seas", impact_unit="kg")
    alice, bob = enrol(api), enrol(api)
    give_points(api, alice, 5000)
    give_points(api, bob, 5000)
    pid = api.program.id
    donate(db, clock, program_id=pid, member_id=alice, cause_id=trees["id"], points=1000, units="2")
    donate(
        db, clock, program_id=pid, member_id=alice, cause_id=trees["id"], points=700, units="1.4"
    )
    donate(db, clock, program_id=pid, member_id=bob, cause_id=trees["id"], points=550, units="1.1")
    donate(db, clock, program_id=pid, member_id=bob, cause_id=seas["id"], points=600, units="1.2")
    donate(
        db, clock, program_id=pid, member_id=bob, cause_id=seas["id"], points=900, units="1.8",
        status="cancelled",
    )  # fmt: skip

    listed = {c["name"]: c["totals"] for c in get(api, "/v1/causes").json()["items"]}

    assert listed == {
        "Plant trees": {"points_donated": 2250, "impact_units": "4.5", "donations": 3, "donors": 2},
        "Seas": {"points_donated": 600, "impact_units": "1.2", "donations": 1, "donors": 1},
    }
    assert get(api, f"/v1/causes/{trees['id']}").json()["totals"] == listed["Plant trees"]


def test_fractions_of_units_add_up_exactly(api: Api, db: Database, clock: FixedClock) -> None:
    cause = create_cause(api, points_per_unit=1000)
    member = enrol(api)
    give_points(api, member, 1000)
    for _ in range(10):
        donate(
            db, clock, program_id=api.program.id, member_id=member, cause_id=cause["id"],
            points=100, units="0.1",
        )  # fmt: skip

    totals = get(api, f"/v1/causes/{cause['id']}").json()["totals"]

    assert totals == {"points_donated": 1000, "impact_units": "1", "donations": 10, "donors": 1}


def test_patch_changes_a_cause_and_keeps_past_impact(
    api: Api, db: Database, clock: FixedClock
) -> None:
    cause = create_cause(api, description="old")
    member = enrol(api)
    give_points(api, member, 1000)
    donate(
        db, clock, program_id=api.program.id, member_id=member, cause_id=cause["id"],
        points=1000, units="2",
    )  # fmt: skip

    response = patch(
        api, f"/v1/causes/{cause['id']}", {"points_per_unit": 100, "description": None}
    )

    assert response.status_code == 200, response.text
    changed = response.json()
    assert changed["impact"] == "1 tree per 100 points"
    assert changed["description"] is None
    assert changed["totals"]["impact_units"] == "2"  # as recorded, not recomputed at the new rate


def test_required_cause_fields_cannot_be_cleared(api: Api) -> None:
    cause = create_cause(api)

    for field in ("name", "impact_unit", "points_per_unit", "active"):
        response = patch(api, f"/v1/causes/{cause['id']}", {field: None})
        assert response.status_code == 422, (field, response.text)


def test_a_cause_cannot_be_retired_while_an_active_reward_gives_to_it(api: Api) -> None:
    cause = create_cause(api)
    reward = create_reward(api, type="donation", value=cause["id"])
    path = f"/v1/causes/{cause['id']}"

    refused = patch(api, path, {"active": False})
    patch(api, f"/v1/rewards/{reward['id']}", {"active": False})
    retired = patch(api, path, {"active": False})
    revived = patch(api, f"/v1/rewards/{reward['id']}", {"active": True})

    assert refused.status_code == 409, refused.text
    assert error(refused)["code"] == "cause_in_use"
    assert error(refused)["details"] == {"reward_ids": [reward["id"]]}
    assert retired.status_code == 200, retired.text
    assert retired.json()["active"] is False
    assert revived.status_code == 422, revived.text
    assert error(revived)["code"] == "invalid_reward"


def test_causes_page_and_filter(api: Api) -> None:
    for i in range(3):
        create_cause(api, name=f"c{i}")
    patch(api, f"/v1/causes/{create_cause(api, name='old')['id']}", {"active": False})

    first = get(api, "/v1/causes", limit=2).json()
    rest = get(api, "/v1/causes", limit=2, cursor=first["next_cursor"]).json()
    active = get(api, "/v1/causes", active="true").json()["items"]

    assert [c["name"] for c in first["items"] + rest["items"]] == ["c0", "c1", "c2", "old"]
    assert rest["next_cursor"] is None
    assert [c["name"] for c in active] == ["c0", "c1", "c2"]


def test_cause_input_is_checked(api: Api) -> None:
    bad: list[dict[str, Any]] = [
        {"name": "x", "impact_unit": "tree", "points_per_unit": 0},
        {"name": "x", "impact_unit": "", "points_per_unit": 5},
        {"name": "x", "points_per_unit": 5},
        {"name": "x", "impact_unit": "tree", "points_per_unit": 5, "goal": 9},
    ]

    for body in bad:
        assert post(api, "/v1/causes", body).status_code == 422, body


def test_causes_need_admin_to_change_and_any_key_to_read(api: Api) -> None:
    cause = create_cause(api)
    body = {"name": "x", "impact_unit": "tree", "points_per_unit": 5}

    assert post(api, "/v1/causes", body, Scope.STOREFRONT).status_code == 403
    assert patch(api, f"/v1/causes/{cause['id']}", {"name": "y"}, Scope.POS).status_code == 403
    assert get(api, "/v1/causes", Scope.STOREFRONT).status_code == 200
    assert get(api, f"/v1/causes/{cause['id']}", Scope.POS).status_code == 200


def test_an_unknown_cause_is_404(api: Api) -> None:
    for response in (
        get(api, "/v1/causes/999999999"),
        patch(api, "/v1/causes/999999999", {"name": "x"}),
    ):
        assert response.status_code == 404
        assert error(response)["code"] == "cause_not_found"
