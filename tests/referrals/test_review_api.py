"""The admin's review list, and approving or rejecting a flagged referral."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from punchcard.db import Database
from punchcard.kit.clock import FixedClock
from punchcard.ledger.tasks import run_ledger_jobs
from punchcard.programs.domain import ExpiryPolicy, Scope
from tests.conftest import Api, ProgramFactory
from tests.referrals.helpers import (
    DAY,
    PENDING_DAYS,
    at,
    balance,
    enrol,
    error,
    give_back,
    order,
    put_settings,
    refer,
    referral_of,
    referral_points,
    referrals,
    referrer,
)


def _flagged(api: Api, **fields: Any) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """A referrer, their friend, and the referral flagged for the same device."""
    sponsor, code = referrer(api, device_id="dev-1")
    friend, found = refer(api, code, device_id="dev-1", **fields)
    assert found["status"] == "review"
    return sponsor, friend, found


def _act(api: Api, referral_id: int, action: str, body: dict[str, Any] | None = None) -> Any:
    return api.client.post(
        f"/v1/referrals/{referral_id}/{action}", json=body or {}, headers=api.headers()
    )


def test_the_review_list_is_paged_newest_first(ref: Api) -> None:
    put_settings(ref)
    made = [_flagged(ref)[2]["id"] for _ in range(3)]
    _, code = referrer(ref)
    refer(ref, code)  # a clean one stays out of the queue
    first = ref.client.get(
        "/v1/referrals", params={"status": "review", "limit": 2}, headers=ref.headers()
    )
    assert first.status_code == 200, first.text
    page = first.json()
    assert [r["id"] for r in page["items"]] == [made[2], made[1]]
    assert page["items"][0]["reasons"] == ["self_referral_device"]
    assert page["items"][0]["matched"] == {"self_referral_device": {"signal": "device"}}
    rest = referrals(ref, status="review", limit=2, cursor=page["next_cursor"])
    assert [r["id"] for r in rest] == [made[0]]
    assert len(referrals(ref)) == 4


def test_the_review_list_needs_an_admin_key(ref: Api) -> None:
    response = ref.client.get("/v1/referrals", headers=ref.headers(Scope.STOREFRONT))
    assert response.status_code == 403
    bad = ref.client.get("/v1/referrals", params={"cursor": "nope"}, headers=ref.headers())
    assert error(bad)["code"] == "invalid_cursor"
    wrong = ref.client.get("/v1/referrals", params={"status": "maybe"}, headers=ref.headers())
    assert wrong.status_code == 422


def test_approving_before_the_order_rewards_on_the_order(ref: Api, clock: FixedClock) -> None:
    put_settings(ref)
    sponsor, friend, found = _flagged(ref)
    response = _act(ref, found["id"], "approve", {"note": "same household, checked"})
    assert response.status_code == 200, response.text
    approved = response.json()
    assert (approved["status"], approved["review_note"]) == ("pending", "same household, checked")
    assert approved["reasons"] == ["self_referral_device"]  # kept for the record
    order(ref, clock, friend, "30.00", at(2, 1))
    assert referral_of(ref, friend["id"])["status"] == "rewarded"
    assert balance(ref, sponsor["id"])["pending"] == 500


def test_no_reward_while_in_review_then_approval_rewards_from_that_order(
    ref: Api, db: Database, clock: FixedClock
) -> None:
    put_settings(ref)
    sponsor, friend, found = _flagged(ref)
    placed = at(2, 1)
    order_id = order(ref, clock, friend, "30.00", placed)
    order(ref, clock, friend, "60.00", at(2, 2))
    waiting = referral_of(ref, friend["id"])
    assert (waiting["status"], waiting["qualifying_order_id"]) == ("review", order_id)
    assert referral_points(ref, sponsor["id"]) == []

    clock.set(placed + (PENDING_DAYS + 5) * DAY)  # reviewed after the window closed
    approved = _act(ref, found["id"], "approve").json()
    assert (approved["status"], approved["qualifying_order_id"]) == ("rewarded", order_id)
    (credit,) = referral_points(ref, sponsor["id"])
    assert credit["occurred_at"].startswith("2026-02-01")  # the window counts from the order
    run_ledger_jobs(db, now=clock())
    assert balance(ref, sponsor["id"])["available"] == 500
    assert _act(ref, found["id"], "approve").status_code == 409


def test_an_order_refunded_during_review_no_longer_qualifies(ref: Api, clock: FixedClock) -> None:
    put_settings(ref)
    sponsor, friend, found = _flagged(ref)
    order_id = order(ref, clock, friend, "30.00", at(2, 1))
    give_back(ref, clock, friend, order_id, at(2, 2))
    assert referral_of(ref, friend["id"])["qualifying_order_id"] is None
    approved = _act(ref, found["id"], "approve").json()
    assert approved["status"] == "pending"
    assert referral_points(ref, sponsor["id"]) == []


def test_rejecting_closes_it_for_good(ref: Api, clock: FixedClock) -> None:
    put_settings(ref)
    sponsor, friend, found = _flagged(ref)
    assert _act(ref, found["id"], "reject", {}).status_code == 422  # a reason is required
    response = _act(ref, found["id"], "reject", {"reason": "same phone as the referrer"})
    assert response.status_code == 200, response.text
    assert (response.json()["status"], response.json()["review_note"]) == (
        "rejected",
        "same phone as the referrer",
    )
    order(ref, clock, friend, "30.00", at(2, 1))
    assert referral_of(ref, friend["id"])["status"] == "rejected"
    assert referral_points(ref, sponsor["id"]) == []
    for action, body in (("approve", {}), ("reject", {"reason": "again"})):
        again = _act(ref, found["id"], action, body)
        assert again.status_code == 409
        assert error(again)["code"] == "invalid_referral_transition"
        assert error(again)["details"]["status"] == "rejected"


def test_a_clean_pending_referral_can_be_rejected_not_approved(ref: Api) -> None:
    put_settings(ref)
    _, code = referrer(ref)
    _, found = refer(ref, code)
    assert error(_act(ref, found["id"], "approve"))["code"] == "invalid_referral_transition"
    assert _act(ref, found["id"], "reject", {"reason": "test order"}).json()["status"] == (
        "rejected"
    )


def test_a_rewarded_referral_cannot_be_rejected(ref: Api, clock: FixedClock) -> None:
    put_settings(ref)
    _, code = referrer(ref)
    friend, found = refer(ref, code)
    order(ref, clock, friend, "30.00", at(2, 1))
    response = _act(ref, found["id"], "reject", {"reason": "too late"})
    assert response.status_code == 409
    assert error(response)["details"] == {
        "referral_id": found["id"],
        "status": "rewarded",
        "to": "rejected",
    }


def test_referrals_of_another_program_are_not_found(
    ref: Api, client: TestClient, db: Database, make_program: ProgramFactory, clock: FixedClock
) -> None:
    put_settings(ref)
    _, _, found = _flagged(ref)
    other = Api(client, db, make_program(expiry_policy=ExpiryPolicy.NEVER, expiry_value=0),
                clock())  # fmt: skip
    for response in (
        other.client.get(f"/v1/referrals/{found['id']}", headers=other.headers()),
        _act(other, found["id"], "approve"),
        _act(other, found["id"], "reject", {"reason": "x"}),
    ):
        assert response.status_code == 404
        assert error(response)["code"] == "referral_not_found"
    assert referrals(other) == []
    assert ref.client.get(f"/v1/referrals/{found['id']}", headers=ref.headers()).json()[
        "status"
    ] == ("review")
    enrol(other)
