"""A key of program B never reads or changes program A's rewards or causes: they are 404."""

from __future__ import annotations

from fastapi.testclient import TestClient

from punchcard.db import Database
from punchcard.kit.clock import FixedClock
from tests.conftest import Api, ProgramFactory
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


def test_another_programs_rewards_and_causes_are_absent(
    api: Api, client: TestClient, db: Database, make_program: ProgramFactory, clock: FixedClock
) -> None:
    other = Api(client, db, make_program(), clock())
    cause = create_cause(api)
    reward = create_reward(api, type="donation", value=cause["id"])
    member = enrol(api)
    give_points(api, member, 1000)
    donate(
        db, clock, program_id=api.program.id, member_id=member, cause_id=cause["id"],
        points=500, units="1",
    )  # fmt: skip
    before = (get(api, f"/v1/rewards/{reward['id']}").json(), get(api, "/v1/causes").json())

    answers = {
        "get reward": get(other, f"/v1/rewards/{reward['id']}"),
        "patch reward": patch(other, f"/v1/rewards/{reward['id']}", {"stock": 0}),
        "get cause": get(other, f"/v1/causes/{cause['id']}"),
        "patch cause": patch(other, f"/v1/causes/{cause['id']}", {"active": False}),
        "member rewards": get(other, f"/v1/members/{member}/rewards"),
    }
    borrowed = post(
        other,
        "/v1/rewards",
        {"name": "d", "type": "donation", "points_cost": 5, "value": cause["id"]},
    )

    assert {k: r.status_code for k, r in answers.items()} == dict.fromkeys(answers, 404)
    assert error(answers["get reward"])["code"] == "reward_not_found"
    assert error(answers["get cause"])["code"] == "cause_not_found"
    assert error(answers["member rewards"])["code"] == "member_not_found"
    assert borrowed.status_code == 422, borrowed.text
    assert error(borrowed)["code"] == "invalid_reward"
    assert get(other, "/v1/rewards").json()["items"] == []
    assert get(other, "/v1/causes").json()["items"] == []
    assert (get(api, f"/v1/rewards/{reward['id']}").json(), get(api, "/v1/causes").json()) == before


def test_each_program_sees_its_own_catalog_and_totals(
    api: Api, client: TestClient, db: Database, make_program: ProgramFactory, clock: FixedClock
) -> None:
    other = Api(client, db, make_program(), clock())
    mine, theirs = create_cause(api), create_cause(other)
    create_reward(api, name="A's")
    create_reward(other, name="B's")
    member_b = enrol(other)
    give_points(other, member_b, 1000)
    donate(
        db, clock, program_id=other.program.id, member_id=member_b, cause_id=theirs["id"],
        points=1000, units="2",
    )  # fmt: skip
    member_a = enrol(api)

    assert [r["name"] for r in get(api, "/v1/rewards").json()["items"]] == ["A's"]
    assert [r["name"] for r in get(api, f"/v1/members/{member_a}/rewards").json()["items"]] == [
        "A's"
    ]
    assert get(api, f"/v1/causes/{mine['id']}").json()["totals"]["points_donated"] == 0
    assert get(other, f"/v1/causes/{theirs['id']}").json()["totals"]["points_donated"] == 1000
