"""/v1/challenges: defining, reading, paging and changing challenges, and every refusal."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from punchcard.db import Database
from punchcard.kit.clock import FixedClock
from punchcard.programs.domain import Scope
from tests.challenges.helpers import create, error, step
from tests.conftest import START, Api, ProgramFactory
from tests.rewards.helpers import create_reward, set_tier_policy

DAY = timedelta(days=1)


def iso(days: float) -> str:
    return (START + timedelta(days=days)).isoformat().replace("+00:00", "Z")


def post(api: Api, body: dict[str, Any], scope: Scope = Scope.ADMIN) -> Any:
    full = {"name": "c", "steps": [step()], "reward": {"points": 10}, **body}
    return api.client.post("/v1/challenges", json=full, headers=api.headers(scope))


def test_a_challenge_is_created_read_and_listed(api: Api) -> None:
    created = create(
        api,
        description="Three orders in January",
        steps=[step(3, conditions={"min_amount": 20, "channels": ["web"]})],
        window={"type": "fixed", "starts_at": iso(0), "ends_at": iso(30)},
        repeatable=True,
        max_completions=2,
        eligibility={"tiers": None, "new_members_within_days": 90},
    )

    assert created["steps"] == [
        {
            "events": ["order.placed"],
            "conditions": {"min_amount": 20, "channels": ["web"]},
            "metric": "count",
            "target": "3",
            "label": "orders",
        }
    ]
    assert created["window"] == {"type": "fixed", "starts_at": iso(0), "ends_at": iso(30)}
    assert (created["opt_in_required"], created["repeatable"], created["max_completions"]) == (
        False, True, 2,
    )  # fmt: skip
    got = api.client.get(f"/v1/challenges/{created['id']}", headers=api.headers(Scope.ANALYST))
    assert got.json() == created


def test_the_list_pages_like_the_catalog(api: Api) -> None:
    ids = [create(api, name=f"c{i}", active=i != 1)["id"] for i in range(3)]

    first = api.client.get("/v1/challenges", params={"limit": 2}, headers=api.headers()).json()
    rest = api.client.get(
        "/v1/challenges", params={"limit": 2, "cursor": first["next_cursor"]}, headers=api.headers()
    ).json()
    active = api.client.get("/v1/challenges", params={"active": True}, headers=api.headers())

    assert [c["id"] for c in first["items"]] == ids[:2]
    assert [c["id"] for c in rest["items"]] == ids[2:]
    assert rest["next_cursor"] is None
    assert [c["id"] for c in active.json()["items"]] == [ids[0], ids[2]]


def test_a_rolling_window_always_needs_an_opt_in(api: Api) -> None:
    assert create(api, window={"type": "rolling", "days": 7})["opt_in_required"] is True
    refused = post(api, {"window": {"type": "rolling", "days": 7}, "opt_in_required": False})
    assert (refused.status_code, error(refused)) == (422, "invalid_window")


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"window": {"type": "fixed", "starts_at": iso(2), "ends_at": iso(1)}}, "invalid_window"),
        ({"window": {"type": "rolling", "days": 0}}, "validation_error"),
        ({"window": {"type": "weekly"}}, "validation_error"),
        ({"steps": []}, "validation_error"),
        ({"steps": [step()] * 11}, "validation_error"),
        ({"steps": [step(0)]}, "validation_error"),
        ({"steps": [step(conditions={"min_amount": -1})]}, "invalid_conditions"),
        ({"steps": [step(conditions={"colour": "red"})]}, "invalid_conditions"),
        ({"steps": [step(events=["not an event"])]}, "invalid_conditions"),
        ({"reward": {}}, "invalid_challenge"),
        ({"reward": {"points": 5, "badge_id": 1}}, "invalid_challenge"),
        ({"reward": {"badge_id": 999999}}, "unknown_badge"),
        ({"reward": {"reward_id": 999999}}, "unknown_reward"),
        ({"max_completions": 2}, "invalid_challenge"),
        ({"eligibility": {"tiers": ["gold"]}}, "unknown_tier"),
    ],
)
def test_bad_definitions_are_refused_with_a_stable_code(
    api: Api, body: dict[str, Any], code: str
) -> None:
    response = post(api, body)

    assert response.status_code == 422, response.text
    assert error(response) == code
    listed = api.client.get("/v1/challenges", headers=api.headers()).json()
    assert listed["items"] == []  # nothing half-written


def test_the_conditions_error_says_which_step(api: Api) -> None:
    response = post(api, {"steps": [step(), step(conditions={"min_amount": "x"})]})

    assert error(response) == "invalid_conditions"
    assert (
        response.json()["error"]["details"]["errors"][0]["path"] == "steps[1].conditions.min_amount"
    )


def test_tiers_must_be_the_programs(api: Api, db: Database, clock: FixedClock) -> None:
    set_tier_policy(db, clock, api.program.id, ["silver", "gold"])

    assert create(api, eligibility={"tiers": ["gold"]})["eligibility"]["tiers"] == ["gold"]
    response = post(api, {"eligibility": {"tiers": ["platinum"]}})
    assert error(response) == "unknown_tier"


def test_a_donation_cannot_be_a_challenges_reward(api: Api) -> None:
    cause = api.client.post(
        "/v1/causes",
        json={"name": "Trees", "impact_unit": "tree", "points_per_unit": 100},
        headers=api.headers(),
    ).json()
    reward = create_reward(api, type="donation", value=cause["id"], points_cost=100)

    response = post(api, {"reward": {"reward_id": reward["id"]}})
    assert (response.status_code, error(response)) == (422, "invalid_challenge")


def test_only_an_admin_key_writes_and_any_key_reads(api: Api) -> None:
    assert post(api, {}, Scope.STOREFRONT).status_code == 403
    created = create(api)
    for scope in (Scope.STOREFRONT, Scope.POS, Scope.ANALYST):
        got = api.client.get(f"/v1/challenges/{created['id']}", headers=api.headers(scope))
        assert got.status_code == 200


def test_another_programs_challenge_is_not_found(
    api: Api, make_program: ProgramFactory, clock: FixedClock, db: Database
) -> None:
    other = Api(api.client, db, make_program(), clock())
    theirs = create(other)

    got = api.client.get(f"/v1/challenges/{theirs['id']}", headers=api.headers())
    patched = api.client.patch(
        f"/v1/challenges/{theirs['id']}", json={"active": False}, headers=api.headers()
    )
    assert (got.status_code, error(got)) == (404, "challenge_not_found")
    assert (patched.status_code, error(patched)) == (404, "challenge_not_found")


def test_a_patch_changes_what_it_names_and_is_checked_whole(api: Api) -> None:
    created = create(api, window={"type": "rolling", "days": 7})
    url = f"/v1/challenges/{created['id']}"

    renamed = api.client.patch(url, json={"name": "New", "active": False}, headers=api.headers())
    assert renamed.status_code == 200, renamed.text
    assert (renamed.json()["name"], renamed.json()["active"]) == ("New", False)
    assert renamed.json()["steps"] == created["steps"]
    fixed = {"type": "fixed", "starts_at": iso(0), "ends_at": iso(9)}
    moved = api.client.patch(url, json={"window": fixed}, headers=api.headers())
    assert moved.json()["opt_in_required"] is False  # no longer forced by a rolling window
    bad = api.client.patch(url, json={"max_completions": 3}, headers=api.headers())
    assert (bad.status_code, error(bad)) == (422, "invalid_challenge")
    null = api.client.patch(url, json={"steps": None}, headers=api.headers())
    assert (null.status_code, error(null)) == (422, "invalid_challenge")
    unchanged = api.client.get(url, headers=api.headers()).json()
    assert unchanged["max_completions"] is None
    assert unchanged["steps"] == created["steps"]
