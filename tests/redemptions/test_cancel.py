"""Cancelling gives the points back once, as a linked transaction; the back door stays shut."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from punchcard.db import Database
from punchcard.kit.clock import FixedClock
from punchcard.programs.domain import Scope
from tests.conftest import START, Api
from tests.ledger.helpers import assert_verified
from tests.redemptions.helpers import (
    available,
    claimed,
    error,
    issued,
    make_cause,
    make_reward,
    member_with,
    post,
)


def cancel(api: Api, member: int, redemption: int, **kwargs: Any) -> Any:
    return post(api, f"/v1/members/{member}/redemptions/{redemption}/cancel", **kwargs)


def transaction(api: Api, member: int, tx_id: int) -> dict[str, Any]:
    response = api.client.get(f"/v1/members/{member}/transactions/{tx_id}", headers=api.headers())
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_cancel_returns_the_points_to_their_lots_and_releases_the_stock(
    api: Api, db: Database, clock: FixedClock
) -> None:
    reward = make_reward(db, api.program, points_cost=150, stock=3)
    member = member_with(api, 100)
    clock.set(START + timedelta(days=1))
    post(
        api, f"/v1/members/{member}/adjustments", {"points": 100, "reason": "x"}, scope=Scope.ADMIN
    )
    redemption = issued(api, member, reward)
    spent = transaction(api, member, redemption["transaction_id"])

    response = cancel(api, member, redemption["id"])

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "cancelled"
    assert body["cancelled_at"] is not None
    reversal = transaction(api, member, body["cancel_transaction_id"])
    assert reversal["reverses_id"] == redemption["transaction_id"]
    assert reversal["kind"] == "reversal"
    assert reversal["points"] == 150
    assert sorted(reversal["lots"], key=lambda m: m["lot_id"]) == sorted(
        ({"lot_id": m["lot_id"], "amount": -m["amount"]} for m in spent["lots"]),
        key=lambda m: m["lot_id"],
    )
    assert available(api, member) == 200
    assert claimed(db, reward) == 0
    assert_verified(db, api.program)


def test_a_second_cancel_is_already_cancelled_and_changes_nothing(api: Api, db: Database) -> None:
    reward = make_reward(db, api.program, stock=2)
    member = member_with(api, 100)
    redemption = issued(api, member, reward)
    assert cancel(api, member, redemption["id"]).status_code == 200

    again = cancel(api, member, redemption["id"])

    assert (again.status_code, error(again)) == (409, "already_cancelled")
    assert available(api, member) == 100
    assert claimed(db, reward) == 0


def test_a_cancel_replayed_with_its_key_answers_the_same(api: Api, db: Database) -> None:
    reward = make_reward(db, api.program)
    member = member_with(api, 100)
    redemption = issued(api, member, reward)
    first = cancel(api, member, redemption["id"], key="c-1")
    second = cancel(api, member, redemption["id"], key="c-1")
    assert (first.status_code, second.status_code) == (200, 200)
    assert second.content == first.content
    assert available(api, member) == 100


def test_a_used_code_cannot_be_cancelled(api: Api, db: Database) -> None:
    reward = make_reward(db, api.program)
    member = member_with(api, 100)
    redemption = issued(api, member, reward)
    used = post(api, "/v1/codes/redeem", {"code": redemption["code"], "order_id": "o-1"})
    assert used.status_code == 200

    response = cancel(api, member, redemption["id"])

    assert (response.status_code, error(response)) == (409, "code_used")
    assert available(api, member) == 0


def test_an_expired_code_cannot_be_cancelled_even_before_the_job(
    api: Api, db: Database, clock: FixedClock
) -> None:
    reward = make_reward(db, api.program, code_valid_days=10)
    member = member_with(api, 100)
    redemption = issued(api, member, reward)
    clock.set(START + timedelta(days=10))

    response = cancel(api, member, redemption["id"])

    assert (response.status_code, error(response)) == (409, "code_expired")


def test_donations_and_started_experiences_are_not_cancellable(
    api: Api, db: Database, clock: FixedClock
) -> None:
    cause = make_cause(db, api.program)
    donation = make_reward(db, api.program, type="donation", value=str(cause), cause_id=cause)
    event = make_reward(
        db,
        api.program,
        type="experience",
        value=None,
        details={"kind": "event", "starts_at": "2026-02-01T18:00:00Z"},
    )
    member = member_with(api, 300)
    gift = issued(api, member, donation)
    place = issued(api, member, event)

    response = cancel(api, member, gift["id"])
    assert (response.status_code, error(response)) == (409, "not_cancellable")
    clock.set(START.replace(month=2, day=1, hour=18))
    response = cancel(api, member, place["id"])
    assert (response.status_code, error(response)) == (409, "not_cancellable")
    assert available(api, member) == 100


def test_an_experience_before_it_starts_can_be_cancelled(api: Api, db: Database) -> None:
    event = make_reward(
        db,
        api.program,
        type="experience",
        value=None,
        stock=1,
        details={"kind": "event", "starts_at": "2026-02-01T18:00:00Z"},
    )
    member = member_with(api, 100)
    place = issued(api, member, event)
    assert claimed(db, event) == 1

    response = cancel(api, member, place["id"])

    assert response.status_code == 200, response.text
    assert response.json()["status"] == "cancelled"
    assert claimed(db, event) == 0
    assert available(api, member) == 100
    other = member_with(api, 100)
    assert issued(api, other, event)["status"] == "reserved"  # the place is free again


def test_unknown_redemption_is_404(api: Api) -> None:
    member = member_with(api, 0)
    response = cancel(api, member, 2**62)
    assert (response.status_code, error(response)) == (404, "redemption_not_found")


def test_another_members_redemption_is_404(api: Api, db: Database) -> None:
    reward = make_reward(db, api.program)
    owner = member_with(api, 100)
    redemption = issued(api, owner, reward)
    stranger = member_with(api, 0)
    response = cancel(api, stranger, redemption["id"])
    assert (response.status_code, error(response)) == (404, "redemption_not_found")
    assert available(api, stranger) == 0


def test_the_ledger_reversal_endpoint_refuses_a_redemptions_debit(api: Api, db: Database) -> None:
    reward = make_reward(db, api.program)
    member = member_with(api, 100)
    redemption = issued(api, member, reward)
    path = f"/v1/members/{member}/transactions/{redemption['transaction_id']}/reversals"

    for scope in (Scope.STOREFRONT, Scope.ADMIN):
        response = post(api, path, {"reason": "give it back"}, scope=scope)
        assert (response.status_code, error(response)) == (409, "use_redemption_cancel")

    assert available(api, member) == 0
    check = post(api, "/v1/codes/validate", {"code": redemption["code"]})
    assert check.json()["valid"] is True


def test_a_plain_spend_can_still_be_reversed(api: Api) -> None:
    member = member_with(api, 100)
    spend = post(api, f"/v1/members/{member}/spend", {"points": 40, "reason": "till"})
    assert spend.status_code == 201
    path = f"/v1/members/{member}/transactions/{spend.json()['id']}/reversals"
    assert post(api, path, {"reason": "cancelled checkout"}).status_code == 201
    assert available(api, member) == 100
