"""The reward: both sides on the referee's first qualifying order, pending for that order's
return window and released by the job; voided by a return inside the window, kept after it."""

from __future__ import annotations

from typing import Any

from punchcard.db import Database
from punchcard.kit.clock import FixedClock
from punchcard.ledger.tasks import run_ledger_jobs
from tests.conftest import Api
from tests.events.test_events_api import assert_ledger_clean
from tests.referrals.helpers import (
    DAY,
    PENDING_DAYS,
    at,
    balance,
    code_of,
    give_back,
    order,
    put_settings,
    refer,
    referral_of,
    referral_points,
    referrer,
)


def _pair(api: Api, **settings: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    put_settings(api, **settings)
    sponsor, code = referrer(api)
    friend, _ = refer(api, code)
    return sponsor, friend


def _credits(api: Api, member_id: int) -> list[tuple[str, int]]:
    """Oldest first."""
    found = sorted(referral_points(api, member_id), key=lambda t: t["id"])
    return [(t["kind"], t["points"]) for t in found]


def test_both_sides_earn_pending_points_that_the_job_releases(
    ref: Api, db: Database, clock: FixedClock
) -> None:
    sponsor, friend = _pair(ref)
    placed = at(2, 1)
    order_id = order(ref, clock, friend, "40.00", placed)
    found = referral_of(ref, friend["id"])
    assert found["status"] == "rewarded"
    assert found["qualifying_order_id"] == order_id
    assert found["qualified_at"].startswith("2026-02-01T12:00")
    assert found["qualifying_event_id"]
    assert _credits(ref, sponsor["id"]) == [("earn", 500)]
    assert _credits(ref, friend["id"]) == [("earn", 300)]
    (credit,) = referral_points(ref, sponsor["id"])
    assert credit["reference"] == f"referral:{found['id']}:referrer"
    assert credit["reason"] == "referral"
    assert credit["id"] == found["referrer_transaction_id"]
    assert balance(ref, sponsor["id"])["pending"] == 500
    assert balance(ref, sponsor["id"])["available"] == 0

    run_ledger_jobs(db, now=placed + (PENDING_DAYS - 1) * DAY)
    assert balance(ref, sponsor["id"])["available"] == 0  # the window is still open
    run_ledger_jobs(db, now=placed + PENDING_DAYS * DAY)
    after = balance(ref, sponsor["id"])
    assert (after["available"], after["pending"]) == (500, 0)
    assert balance(ref, friend["id"])["available"] >= 300
    summary = code_of(ref, sponsor["id"])
    assert (summary["referred"], summary["rewarded"], summary["points_earned"]) == (1, 1, 500)
    assert_ledger_clean(db, ref.program.id)


def test_an_order_below_the_minimum_does_not_qualify(ref: Api, clock: FixedClock) -> None:
    sponsor, friend = _pair(ref, min_order_total="25.00")
    order(ref, clock, friend, "24.99", at(2, 1))
    assert referral_of(ref, friend["id"])["status"] == "pending"
    assert _credits(ref, sponsor["id"]) == []
    later = order(ref, clock, friend, "25.00", at(2, 3))
    found = referral_of(ref, friend["id"])
    assert (found["status"], found["qualifying_order_id"]) == ("rewarded", later)


def test_only_the_first_qualifying_order_rewards(ref: Api, clock: FixedClock) -> None:
    sponsor, friend = _pair(ref)
    first = order(ref, clock, friend, "30.00", at(2, 1))
    order(ref, clock, friend, "90.00", at(2, 2))
    order(ref, clock, friend, "90.00", at(2, 3))
    assert referral_of(ref, friend["id"])["qualifying_order_id"] == first
    assert _credits(ref, sponsor["id"]) == [("earn", 500)]
    assert _credits(ref, friend["id"]) == [("earn", 300)]


def test_the_referrers_own_orders_change_nothing(ref: Api, clock: FixedClock) -> None:
    sponsor, friend = _pair(ref)
    order(ref, clock, sponsor, "80.00", at(2, 1))
    assert referral_of(ref, friend["id"])["status"] == "pending"
    assert _credits(ref, sponsor["id"]) == []


def test_a_refund_inside_the_window_voids_both_sides(
    ref: Api, db: Database, clock: FixedClock
) -> None:
    sponsor, friend = _pair(ref)
    order_id = order(ref, clock, friend, "40.00", at(2, 1))
    give_back(ref, clock, friend, order_id, at(2, 5), amount="40.00")
    found = referral_of(ref, friend["id"])
    assert found["status"] == "voided"
    assert found["voided_at"].startswith("2026-02-05")
    assert _credits(ref, sponsor["id"]) == [("earn", 500), ("reversal", 500)]
    assert _credits(ref, friend["id"]) == [("earn", 300), ("reversal", 300)]
    assert balance(ref, sponsor["id"])["pending"] == 0
    run_ledger_jobs(db, now=at(3, 1))
    assert balance(ref, sponsor["id"])["available"] == 0  # nothing left to release
    order(ref, clock, friend, "40.00", at(3, 2))  # a voided referral never rewards again
    assert referral_of(ref, friend["id"])["status"] == "voided"
    assert_ledger_clean(db, ref.program.id)


def test_a_cancellation_inside_the_window_voids(ref: Api, clock: FixedClock) -> None:
    sponsor, friend = _pair(ref)
    order_id = order(ref, clock, friend, "40.00", at(2, 1))
    give_back(ref, clock, friend, order_id, at(2, 2))
    assert referral_of(ref, friend["id"])["status"] == "voided"
    assert balance(ref, sponsor["id"])["pending"] == 0


def test_a_partial_refund_that_keeps_the_minimum_keeps_the_reward(
    ref: Api, clock: FixedClock
) -> None:
    sponsor, friend = _pair(ref, min_order_total="25.00")
    order_id = order(ref, clock, friend, "40.00", at(2, 1))
    give_back(ref, clock, friend, order_id, at(2, 2), amount="15.00")
    assert referral_of(ref, friend["id"])["status"] == "rewarded"
    give_back(ref, clock, friend, order_id, at(2, 3), amount="0.01")
    assert referral_of(ref, friend["id"])["status"] == "voided"
    assert balance(ref, sponsor["id"])["pending"] == 0


def test_a_refund_of_another_order_changes_nothing(ref: Api, clock: FixedClock) -> None:
    sponsor, friend = _pair(ref)
    order(ref, clock, friend, "40.00", at(2, 1))
    other = order(ref, clock, friend, "50.00", at(2, 2))
    give_back(ref, clock, friend, other, at(2, 3))
    assert referral_of(ref, friend["id"])["status"] == "rewarded"
    assert balance(ref, sponsor["id"])["pending"] == 500


def test_after_the_window_nothing_is_taken_back(ref: Api, db: Database, clock: FixedClock) -> None:
    sponsor, friend = _pair(ref)
    placed = at(2, 1)
    order_id = order(ref, clock, friend, "40.00", placed)
    run_ledger_jobs(db, now=placed + PENDING_DAYS * DAY)
    give_back(ref, clock, friend, order_id, placed + (PENDING_DAYS + 1) * DAY)
    assert referral_of(ref, friend["id"])["status"] == "rewarded"
    assert _credits(ref, sponsor["id"]) == [("earn", 500)]
    assert balance(ref, sponsor["id"])["available"] == 500


def test_a_late_refund_before_the_job_ran_takes_nothing_back(ref: Api, clock: FixedClock) -> None:
    """The window is decided by the refund's time, not by when the job last ran."""
    sponsor, friend = _pair(ref)
    placed = at(2, 1)
    order_id = order(ref, clock, friend, "40.00", placed)
    give_back(ref, clock, friend, order_id, placed + PENDING_DAYS * DAY)
    assert referral_of(ref, friend["id"])["status"] == "rewarded"
    assert _credits(ref, sponsor["id"]) == [("earn", 500)]


def test_checkout_signals_matching_the_referrer_send_it_to_review(
    ref: Api, clock: FixedClock
) -> None:
    sponsor, friend = _pair(ref)
    for member in (sponsor, friend):
        response = ref.client.post(
            f"/v1/members/{member['id']}/signals",
            json={"payment_fingerprint": "card-shared"},
            headers=ref.headers(),
        )
        assert response.status_code == 200, response.text
    order_id = order(ref, clock, friend, "40.00", at(2, 1))
    found = referral_of(ref, friend["id"])
    assert found["status"] == "review"
    assert found["reasons"] == ["self_referral_payment"]
    assert found["qualifying_order_id"] == order_id
    assert _credits(ref, sponsor["id"]) == []


def test_an_email_added_after_enrolment_is_compared_at_the_order(
    ref: Api, clock: FixedClock
) -> None:
    """Enrolled without an e-mail (nothing to compare), then given the referrer's: the
    qualifying order sends the referral to review instead of paying both sides."""
    put_settings(ref)
    sponsor, code = referrer(ref, email="ann.lee@gmail.com", phone="+14155550100")
    friend, made = refer(ref, code)
    assert made["status"] == "pending"
    patched = ref.client.patch(
        f"/v1/members/{friend['id']}",
        json={"email": "annlee+2@gmail.com", "phone": "+14155550100"},
        headers=ref.headers(),
    )
    assert patched.status_code == 200, patched.text
    order_id = order(ref, clock, friend, "40.00", at(2, 1))
    found = referral_of(ref, friend["id"])
    assert found["status"] == "review"
    assert found["reasons"] == ["self_referral_email", "self_referral_phone"]
    assert found["qualifying_order_id"] == order_id
    assert _credits(ref, sponsor["id"]) == []
    assert _credits(ref, friend["id"]) == []


def test_approving_a_contact_flag_then_ordering_pays(ref: Api, clock: FixedClock) -> None:
    """A flag an admin cleared at enrolment is not raised again at the order."""
    put_settings(ref)
    sponsor, code = referrer(ref, email="kim@example.com")
    friend, made = refer(ref, code, email="kim+2@example.com")
    assert made["reasons"] == ["self_referral_email"]
    approved = ref.client.post(
        f"/v1/referrals/{made['id']}/approve", json={}, headers=ref.headers()
    )
    assert approved.status_code == 200, approved.text
    order(ref, clock, friend, "40.00", at(2, 1))
    assert referral_of(ref, friend["id"])["status"] == "rewarded"
    assert _credits(ref, sponsor["id"]) == [("earn", 500)]
