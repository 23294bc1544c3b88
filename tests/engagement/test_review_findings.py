"""Findings of the independent review of gamification, referrals and sharing, kept as regression
tests: each failed before its fix."""

from __future__ import annotations

from datetime import timedelta

from punchcard.kit.clock import FixedClock
from punchcard.programs.domain import Scope
from tests.badges.helpers import customer_id, earned, make_badge
from tests.challenges.helpers import balance, create, enrol, order, send
from tests.conftest import START, Api
from tests.events.test_events_api import event, line, order_data, post_batch, uid
from tests.referrals import helpers as ref
from tests.social.helpers import member, put_settings, share_response
from tests.streaks.test_streaks_api import make_streak, streaks_of

# --- social: open redirect through /s/{token} ----------------------------------------------


def test_share_target_with_backslash_userinfo_is_not_allowed(api: Api) -> None:
    """Python's urlsplit sees host shop.example.com in `https://evil.example\\@shop...`;
    browsers (WHATWG URL) treat `\\` as `/` in http(s) and go to evil.example."""
    put_settings(api, target_url="https://shop.example.com/")
    sharer = member(api)
    response = share_response(
        api, sharer, target_url="https://evil.example\\@shop.example.com/mugs"
    )
    assert response.status_code == 422, (response.status_code, response.text)


# --- challenges: earn, complete, refund, keep ------------------------------------------------


def test_challenge_bonus_does_not_survive_cancelling_the_orders_that_earned_it(api: Api) -> None:
    challenge = create(api, steps=[{"events": ["order.placed"], "target": 2, "label": "orders"}],
                       reward={"points": 500})  # fmt: skip
    customer = enrol(api)
    first, second = uid("order"), uid("order")
    order(api, customer, "10.00", order_id=first)
    order(api, customer, "10.00", order_id=second, at=START + timedelta(minutes=1))
    assert balance(api, customer["id"]) >= 500  # completed, bonus available at once
    for order_id in (first, second):
        cancel = {"order_id": order_id}
        later = START + timedelta(minutes=2)
        send(api, event("order.cancelled", cancel, customer=customer["external_id"], at=later))
    # both orders are gone: the 500 points they earned through the challenge should not stay
    # spendable (earn-refund-keep, DESIGN.md section 4)
    assert balance(api, customer["id"]) < 500, challenge


# --- badges: cancelled orders count toward "N orders" ---------------------------------------


def test_order_count_badge_does_not_count_cancelled_orders(api: Api) -> None:
    two = make_badge(api, {"kind": "order_count", "count": 2}, points=200)
    customer = uid("cust")
    cancelled = uid("order")
    send(api, event("order.placed", order_data(line("sku", 1, "10.00"), order_id=cancelled),
                    customer=customer))  # fmt: skip
    send(api, event("order.cancelled", {"order_id": cancelled}, customer=customer,
                    at=START + timedelta(minutes=1)))  # fmt: skip
    send(api, event("order.placed", order_data(line("sku", 1, "10.00")), customer=customer,
                    at=START + timedelta(minutes=2)))  # fmt: skip
    assert two["id"] not in earned(api, customer_id(api, customer))


# --- batches: the awarding event -----------------------------------------------------------


def test_batch_awards_the_second_order_badge_to_the_second_order(api: Api) -> None:
    two = make_badge(api, {"kind": "order_count", "count": 2})
    customer = uid("cust")
    events = [
        event("order.placed", order_data(line("sku", 1, "5.00")), customer=customer,
              at=START + timedelta(minutes=i))
        for i in range(2)
    ]  # fmt: skip
    assert post_batch(api, events).status_code == 200
    award = earned(api, customer_id(api, customer))[two["id"]]
    assert award["source_id"] == events[1]["id"], award


def test_batch_and_single_events_award_the_same_event(api: Api) -> None:
    """Same events, one by one: the badge names the second order (control for the above)."""
    two = make_badge(api, {"kind": "order_count", "count": 2})
    customer = uid("cust")
    events = [
        event("order.placed", order_data(line("sku", 1, "5.00")), customer=customer,
              at=START + timedelta(minutes=i))
        for i in range(2)
    ]  # fmt: skip
    for body in events:
        send(api, body)
    award = earned(api, customer_id(api, customer))[two["id"]]
    assert award["source_id"] == events[1]["id"], award


# --- streaks: one batch, events not in time order -------------------------------------------


def test_a_batch_with_two_days_out_of_order_counts_both_days(api: Api, clock: FixedClock) -> None:
    """A POS syncing yesterday and today in one batch, newest first: both days qualified."""
    streak = make_streak(api, bonuses=[{"length": 2, "points": 20}])
    customer = uid("cust")
    clock.set(START + timedelta(days=1, hours=1))
    events = [
        event("order.placed", order_data(line("sku", 1, "5.00")), customer=customer,
              at=START + timedelta(days=1)),
        event("order.placed", order_data(line("sku", 1, "5.00")), customer=customer, at=START),
    ]  # fmt: skip
    assert post_batch(api, events).status_code == 200
    state = streaks_of(api, customer_id(api, customer))[streak["id"]]
    assert state["current_length"] == 2, state


# --- referrals: a stale referral code must not block sign-up --------------------------


def test_enrolment_with_a_stale_code_after_referrals_are_switched_off(api: Api) -> None:
    """A customer following an old referral link still signs up once referrals are off."""
    on = {"active": True, "referrer_points": 100, "referee_points": 50}
    assert (
        api.client.put("/v1/referrals/settings", json=on, headers=api.headers()).status_code == 200
    )
    referrer = member(api)
    code = api.client.get(f"/v1/members/{referrer}/referral", headers=api.headers()).json()["code"]
    off = {**on, "active": False}
    assert (
        api.client.put("/v1/referrals/settings", json=off, headers=api.headers()).status_code == 200
    )
    response = api.client.post(
        "/v1/members",
        json={"external_id": uid("cust"), "referral_code": code},
        headers=api.headers(Scope.STOREFRONT),
    )
    assert response.status_code == 201, response.text


# --- referrals: fraud checks bypassed ----------------------------------------------------------


def test_self_referral_email_given_after_enrolment_is_still_caught(
    api: Api, clock: FixedClock
) -> None:
    """Enrol without an e-mail (nothing to compare), add it afterwards, order: not paid."""
    ref.put_settings(api)
    _, code = ref.referrer(api, email="ann.lee@gmail.com")
    referee, referral = ref.refer(api, code)
    assert referral["status"] == "pending"
    patched = api.client.patch(f"/v1/members/{referee['id']}", json={"email": "annlee+2@gmail.com"},
                               headers=api.headers())  # fmt: skip
    assert patched.status_code == 200, patched.text
    ref.order(api, clock, referee, "30.00", START + timedelta(hours=1))
    assert ref.referral_of(api, referee["id"])["status"] == "review"


def test_self_referral_device_ignores_case_of_the_device_id(api: Api) -> None:
    ref.put_settings(api)
    _, code = ref.referrer(api, device_id="6F9619FF-8B86-D011-B42D-00C04FC964FF")
    _, referral = ref.refer(api, code, device_id="6f9619ff-8b86-d011-b42d-00c04fc964ff")
    assert "self_referral_device" in referral["reasons"], referral
