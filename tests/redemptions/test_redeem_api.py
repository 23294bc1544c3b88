"""POST /v1/members/{id}/redemptions: debit, stock and benefit in one transaction."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest

from punchcard.db import Database
from punchcard.kit.clock import FixedClock
from punchcard.programs.domain import Scope
from tests.conftest import START, Api, ProgramFactory
from tests.redemptions.helpers import (
    at,
    available,
    claimed,
    error,
    issued,
    make_cause,
    make_reward,
    member_with,
    redeem,
    redemption_count,
    stored_balance,
)

CODE = re.compile(r"^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){3}$")


def test_a_code_reward_debits_claims_stock_and_shows_the_code_once(api: Api, db: Database) -> None:
    reward = make_reward(db, api.program, points_cost=150, stock=5, code_valid_days=30)
    member = member_with(api, 200)

    body = issued(api, member, reward)

    assert CODE.match(body["code"])
    assert body["code_hint"] == body["code"][-4:]
    assert body["status"] == "issued"
    assert body["type"] == "discount_amount"
    assert body["value"] == "5.00"
    assert body["points"] == 150
    assert body["reward_id"] == reward
    assert body["code_expires_at"] == at(START + timedelta(days=30))
    assert available(api, member) == 50
    assert claimed(db, reward) == 1
    wallet = api.client.get(f"/v1/members/{member}/redemptions", headers=api.headers()).json()
    assert [r["id"] for r in wallet["items"]] == [body["id"]]
    assert wallet["items"][0]["code"] is None
    assert wallet["items"][0]["code_hint"] == body["code_hint"]
    one = api.client.get(f"/v1/members/{member}/redemptions/{body['id']}", headers=api.headers())
    assert one.status_code == 200
    assert one.json()["code"] is None
    assert one.json() == {**body, "code": None}


def test_the_debit_is_in_the_history_with_the_reward_named(api: Api, db: Database) -> None:
    reward = make_reward(db, api.program, name="Five off", points_cost=100)
    member = member_with(api, 100)

    body = issued(api, member, reward)

    tx = api.client.get(
        f"/v1/members/{member}/transactions/{body['transaction_id']}", headers=api.headers()
    ).json()
    assert tx["kind"] == "spend"
    assert tx["reason"] == "Reward: Five off"
    assert tx["meta"] == {"redemption": True, "reward_id": reward}
    assert {p["account"]: p["amount"] for p in tx["postings"]} == {
        "member:available": -100,
        "program:redeemed": 100,
    }


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        ("discount_percent", "15"),
        ("free_shipping", None),
        ("free_product", "SKU-MUG"),
        ("gift_card", "25.00"),
    ],
)
def test_every_code_type_issues_a_code(
    api: Api, db: Database, kind: str, value: str | None
) -> None:
    reward = make_reward(db, api.program, type=kind, value=value)
    member = member_with(api, 100)

    body = issued(api, member, reward)

    assert CODE.match(body["code"])
    assert (body["type"], body["value"], body["status"]) == (kind, value, "issued")


def _refused(api: Api, db: Database, reward: int, member: int, code: str) -> dict[str, Any]:
    before = (available(api, member), claimed(db, reward), redemption_count(db, api.program))
    response = redeem(api, member, reward)
    assert response.status_code == 409, response.text
    assert error(response) == code
    after = (available(api, member), claimed(db, reward), redemption_count(db, api.program))
    assert after == before
    body: dict[str, Any] = response.json()["error"]
    return body


def test_insufficient_points(api: Api, db: Database) -> None:
    reward = make_reward(db, api.program, points_cost=500)
    member = member_with(api, 499)
    found = _refused(api, db, reward, member, "insufficient_points")
    assert found["details"]["requested"] == 500
    assert found["details"]["available"] == 499


def test_out_of_stock(api: Api, db: Database) -> None:
    reward = make_reward(db, api.program, stock=1)
    issued(api, member_with(api, 100), reward)
    _refused(api, db, reward, member_with(api, 100), "out_of_stock")


def test_limit_reached(api: Api, db: Database) -> None:
    reward = make_reward(db, api.program, per_member_limit=1)
    member = member_with(api, 300)
    issued(api, member, reward)
    _refused(api, db, reward, member, "limit_reached")


def test_not_eligible_by_tier_and_by_channel(api: Api, db: Database) -> None:
    gold = make_reward(db, api.program, tiers=["gold"])
    _refused(api, db, gold, member_with(api, 100), "not_eligible")
    app_only = make_reward(db, api.program, channels=["app"])
    member = member_with(api, 200)
    response = redeem(api, member, app_only, channel="web")
    assert (response.status_code, error(response)) == (409, "not_eligible")
    unnamed = redeem(api, member, app_only)
    assert (unnamed.status_code, error(unnamed)) == (409, "not_eligible")
    assert redeem(api, member, app_only, channel="app").status_code == 201


def test_reward_inactive(api: Api, db: Database) -> None:
    off = make_reward(db, api.program, active=False)
    _refused(api, db, off, member_with(api, 100), "reward_inactive")
    later = make_reward(db, api.program, valid_from=START + timedelta(days=1))
    _refused(api, db, later, member_with(api, 100), "reward_inactive")
    over = make_reward(db, api.program, valid_until=START)
    _refused(api, db, over, member_with(api, 100), "reward_inactive")


def test_an_event_that_has_started_takes_no_more_guests(api: Api, db: Database) -> None:
    """A place at an event already under way could be neither used nor cancelled (the points
    were lost): it is refused, and the member's listing leaves the event out."""
    details = {"kind": "event", "starts_at": (START - timedelta(hours=1)).isoformat()}
    started = make_reward(db, api.program, type="experience", value=None, details=details)
    member = member_with(api, 100)
    _refused(api, db, started, member, "reward_inactive")
    listing = api.client.get(f"/v1/members/{member}/rewards", headers=api.headers()).json()
    assert started not in [item["id"] for item in listing["items"]]
    details["starts_at"] = (START + timedelta(hours=1)).isoformat()
    coming = make_reward(db, api.program, type="experience", value=None, details=details)
    assert redeem(api, member, coming).status_code == 201


def test_an_inactive_cause_refuses_donations(api: Api, db: Database) -> None:
    cause = make_cause(db, api.program, active=False)
    reward = make_reward(db, api.program, type="donation", value=str(cause), cause_id=cause)
    _refused(api, db, reward, member_with(api, 100), "reward_inactive")


def test_a_misconfigured_reward_is_refused_with_nothing_spent(api: Api, db: Database) -> None:
    broken = make_reward(db, api.program, value="lots")
    _refused(api, db, broken, member_with(api, 100), "reward_misconfigured")
    orphan = make_reward(db, api.program, type="donation", value=None)
    _refused(api, db, orphan, member_with(api, 100), "reward_misconfigured")


def test_debt_outstanding(api: Api, db: Database, clock: FixedClock) -> None:
    reward = make_reward(db, api.program, points_cost=10)
    member = member_with(api, 0)
    credit = api.client.post(
        f"/v1/members/{member}/adjustments",
        json={"points": 50, "reason": "seed"},
        headers=api.headers(),
    ).json()
    spend = api.client.post(
        f"/v1/members/{member}/spend", json={"points": 40, "reason": "x"}, headers=api.headers()
    )
    assert spend.status_code == 201
    reversal = api.client.post(
        f"/v1/members/{member}/transactions/{credit['id']}/reversals",
        json={"reason": "fraud"},
        headers=api.headers(),
    )
    assert reversal.status_code == 201, reversal.text
    api.client.post(
        f"/v1/members/{member}/adjustments",
        json={"points": 20, "reason": "seed"},
        headers=api.headers(),
    )
    _refused(api, db, reward, member, "debt_outstanding")


def test_unknown_reward_and_member_are_404(api: Api, db: Database) -> None:
    member = member_with(api, 100)
    response = redeem(api, member, 2**62)
    assert (response.status_code, error(response)) == (404, "reward_not_found")
    reward = make_reward(db, api.program)
    response = redeem(api, 2**62, reward)
    assert (response.status_code, error(response)) == (404, "member_not_found")


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"reward_id": "1"},
        {"reward_id": 0},
        {"reward_id": 2**63},
        {"reward_id": 1, "extra": True},
        {"reward_id": 1, "channel": ""},
        {"reward_id": 1, "channel": "x" * 51},
    ],
)
def test_bad_input_is_a_422(api: Api, body: dict[str, Any]) -> None:
    member = member_with(api, 0)
    response = api.client.post(
        f"/v1/members/{member}/redemptions", json=body, headers=api.headers()
    )
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"]


def test_an_analyst_key_cannot_redeem(api: Api, db: Database) -> None:
    reward = make_reward(db, api.program)
    member = member_with(api, 100)
    response = redeem(api, member, reward, scope=Scope.ANALYST)
    assert response.status_code == 403


def test_another_programs_reward_and_redemptions_are_invisible(
    api: Api, db: Database, make_program: ProgramFactory, clock: FixedClock
) -> None:
    other = Api(api.client, db, make_program(), clock())
    theirs = make_reward(db, other.program)
    their_member = member_with(other, 100)
    their_redemption = issued(other, their_member, theirs)
    mine = member_with(api, 100)

    response = redeem(api, mine, theirs)
    assert (response.status_code, error(response)) == (404, "reward_not_found")
    response = redeem(api, their_member, make_reward(db, api.program))
    assert (response.status_code, error(response)) == (404, "member_not_found")
    for path in (
        f"/v1/members/{their_member}/redemptions/{their_redemption['id']}",
        f"/v1/members/{mine}/redemptions/{their_redemption['id']}",
    ):
        got = api.client.get(path, headers=api.headers())
        assert got.status_code == 404, got.text
    cancel = api.client.post(
        f"/v1/members/{their_member}/redemptions/{their_redemption['id']}/cancel",
        headers=api.headers(),
    )
    assert cancel.status_code == 404
    check = api.client.post(
        "/v1/codes/validate", json={"code": their_redemption["code"]}, headers=api.headers()
    )
    assert check.json() == {"valid": False, "reason": "code_invalid"}
    use = api.client.post(
        "/v1/codes/redeem",
        json={"code": their_redemption["code"], "order_id": "o-1"},
        headers=api.headers(),
    )
    assert (use.status_code, error(use)) == (409, "code_invalid")
    assert stored_balance(db, other.program, their_member) == 0
