"""Tiers over time, through the API with the injected clock: upgrades at the qualifying
event, renewals, downgrades when the period ends (one_down and recalculate), grace, refunds,
grants, a member who earns across the year boundary, and the catch-up of a late job."""

from __future__ import annotations

import json

import pytest

from punchcard.db import Database
from punchcard.kit.clock import FixedClock
from punchcard.programs.domain import Scope
from tests.conftest import START, Api
from tests.events.test_events_api import event, line, order_data, send
from tests.tiers.helpers import at, buy, history, put_tiers, refund, run_job, tier_events, tier_of


def test_upgrade_at_the_qualifying_event(api: Api, db: Database, clock: FixedClock) -> None:
    put_tiers(api)
    first = buy(api, clock, "ann", "150.00", at(2026, 2, 1))
    member = first["member_id"]
    assert tier_of(api, member)["tier"] == "Member"  # the base tier, without a row
    assert history(api, member) == []
    second = buy(api, clock, "ann", "100.00", at(2026, 3, 1))  # 250: Silver
    third = buy(api, clock, "ann", "300.00", at(2026, 4, 1))  # 550: Gold
    fourth = buy(api, clock, "ann", "10.00", at(2026, 5, 1))
    # Each event earns at the tier held when it occurred: the crossing one at the old tier.
    assert [r["points"]["awarded"] for r in (first, second, third, fourth)] == [150, 100, 375, 15]
    view = tier_of(api, member)
    assert view["tier"] == "Gold"
    assert view["since"] == "2026-04-01T12:00:00Z"
    assert view["valid_until"] == "2028-01-01T00:00:00Z"
    assert (view["multiplier"], view["perks"]) == ("1.5", ["free shipping"])
    assert view["qualifying_value"] == "560.00"
    assert view["next_tier"] == "Platinum"
    assert view["progress"] == {
        "needed": "440.00",
        "by": "2026-12-31",
        "message": "spend 440.00 more by 2026-12-31 to reach Platinum",
    }
    changes = history(api, member)
    assert [(c["change"], c["from_tier"], c["to_tier"]) for c in changes] == [
        ("upgraded", "Silver", "Gold"),
        ("upgraded", "Member", "Silver"),
    ]
    assert changes[0]["metric_value"] == "550.00"
    assert changes[0]["occurred_at"] == "2026-04-01T12:00:00Z"
    events = tier_events(db, api.program.id, member)
    assert [t for t, _ in events] == ["tier.upgraded", "tier.upgraded"]
    data = json.loads(events[1][1])
    assert (data["from"], data["to"], data["valid_until"]) == (
        "Silver",
        "Gold",
        "2028-01-01T00:00:00+00:00",
    )


def test_history_pages_newest_first(api: Api, clock: FixedClock) -> None:
    put_tiers(api)
    member = buy(api, clock, "page", "250.00", at(2026, 2, 1))["member_id"]
    buy(api, clock, "page", "300.00", at(2026, 3, 1))
    buy(api, clock, "page", "500.00", at(2026, 4, 1))
    first = api.client.get(
        f"/v1/members/{member}/tier/history", params={"limit": 2}, headers=api.headers()
    ).json()
    assert [c["to_tier"] for c in first["items"]] == ["Platinum", "Gold"]
    rest = api.client.get(
        f"/v1/members/{member}/tier/history",
        params={"limit": 2, "cursor": first["next_cursor"]},
        headers=api.headers(),
    ).json()
    assert [c["to_tier"] for c in rest["items"]] == ["Silver"]
    assert rest["next_cursor"] is None
    bad = api.client.get(
        f"/v1/members/{member}/tier/history", params={"cursor": "x"}, headers=api.headers()
    )
    assert bad.status_code == 422


@pytest.mark.parametrize(("downgrade", "after"), [("one_down", "Gold"), ("recalculate", "Member")])
def test_downgrade_only_when_the_period_ends(
    api: Api, db: Database, clock: FixedClock, downgrade: str, after: str
) -> None:
    put_tiers(api, downgrade=downgrade)
    member = buy(api, clock, "bo", "1000.00", at(2026, 2, 1))["member_id"]
    assert tier_of(api, member)["tier"] == "Platinum"
    buy(api, clock, "bo", "50.00", at(2027, 6, 1))  # 2027: 50, qualifies for nothing
    assert run_job(db, api, at(2027, 12, 31, 23)) == 0
    assert tier_of(api, member)["tier"] == "Platinum"
    assert run_job(db, api, at(2028, 1, 1, 0)) == 1
    clock.set(at(2028, 1, 2))
    view = tier_of(api, member)
    assert view["tier"] == after
    assert view["since"] == "2028-01-01T00:00:00Z"
    assert view["valid_until"] == (None if after == "Member" else "2029-01-01T00:00:00Z")
    (last, *_) = history(api, member)
    assert (last["change"], last["from_tier"], last["to_tier"], last["metric_value"]) == (
        "downgraded",
        "Platinum",
        after,
        "50.00",
    )
    assert tier_events(db, api.program.id, member)[-1][0] == "tier.downgraded"
    assert run_job(db, api, at(2028, 1, 1, 0)) == 0  # a second run finds nothing to do


def test_a_late_job_catches_up_period_by_period(api: Api, db: Database, clock: FixedClock) -> None:
    put_tiers(api)
    member = buy(api, clock, "cat", "1000.00", at(2026, 2, 1))["member_id"]
    # The job has not run: the event judges the period that ended on 1 January 2028 first.
    buy(api, clock, "cat", "600.00", at(2028, 5, 1))
    assert run_job(db, api, at(2031, 3, 1)) == 1
    changes = history(api, member)[::-1]
    assert [
        (c["change"], c["to_tier"], c["occurred_at"][:10], c["metric_value"]) for c in changes
    ] == [
        ("upgraded", "Platinum", "2026-02-01", "1000.00"),
        ("downgraded", "Gold", "2028-01-01", "0.00"),  # 2027: nothing; one down (the event)
        ("renewed", "Gold", "2028-05-01", "600.00"),  # 2028: 600, Gold until the end of 2029
        ("downgraded", "Silver", "2030-01-01", "0.00"),  # the job, period by period
        ("downgraded", "Member", "2031-01-01", "0.00"),
    ]
    assert tier_of(api, member)["valid_until"] is None


def test_grace_keeps_the_tier_then_drops_it(api: Api, db: Database, clock: FixedClock) -> None:
    put_tiers(api, window="rolling_12_months", grace_days=30)
    member = buy(api, clock, "gus", "600.00", at(2026, 2, 1))["member_id"]
    assert tier_of(api, member)["valid_until"] == "2027-02-01T12:00:00Z"
    assert run_job(db, api, at(2027, 2, 20)) == 0
    clock.set(at(2027, 2, 20))
    view = tier_of(api, member)
    assert (view["tier"], view["in_grace_until"]) == ("Gold", "2027-03-03T12:00:00Z")
    assert run_job(db, api, at(2027, 3, 3, 12)) == 1
    clock.set(at(2027, 3, 4))
    view = tier_of(api, member)
    assert (view["tier"], view["since"], view["in_grace_until"]) == (
        "Silver",
        "2027-02-01T12:00:00Z",  # the downgrade is dated at the end of the period
        None,
    )


def test_an_event_in_grace_renews_a_rolling_tier(api: Api, db: Database, clock: FixedClock) -> None:
    put_tiers(api, window="rolling_12_months", grace_days=30)
    member = buy(api, clock, "ren", "600.00", at(2026, 2, 1))["member_id"]
    clock.set(at(2027, 2, 5))
    assert tier_of(api, member)["in_grace_until"] == "2027-03-03T12:00:00Z"
    buy(api, clock, "ren", "550.00", at(2027, 2, 10))  # in grace, 550 in 12 months: renewed
    assert [c["change"] for c in history(api, member)] == ["renewed", "upgraded"]
    view = tier_of(api, member)
    assert (view["tier"], view["since"], view["valid_until"], view["in_grace_until"]) == (
        "Gold",
        "2026-02-01T12:00:00Z",
        "2028-02-10T12:00:00Z",
        None,
    )
    assert run_job(db, api, at(2027, 3, 30)) == 0
    assert tier_of(api, member)["tier"] == "Gold"


def test_a_refund_costs_the_tier_only_at_re_evaluation(
    api: Api, db: Database, clock: FixedClock
) -> None:
    put_tiers(api, downgrade="recalculate")
    kept = buy(api, clock, "keep", "1000.00", at(2026, 2, 1))["member_id"]
    refunded = buy(api, clock, "ref", "1000.00", at(2026, 2, 1))["member_id"]
    buy(api, clock, "keep", "600.00", at(2027, 3, 1))
    placed = buy(api, clock, "ref", "600.00", at(2027, 3, 1))
    refund(api, clock, "ref", placed["order_id"], "300.00", at(2027, 4, 1))
    view = tier_of(api, refunded)
    assert (view["tier"], view["qualifying_value"]) == ("Platinum", "300.00")
    assert [c["change"] for c in history(api, refunded)] == ["upgraded"]
    assert run_job(db, api, at(2028, 1, 1, 0)) == 2
    assert tier_of(api, kept)["tier"] == "Gold"
    assert tier_of(api, refunded)["tier"] == "Silver"  # the refund counts against 2027


def test_a_full_refund_leaves_the_tier_until_the_period_ends(api: Api, clock: FixedClock) -> None:
    put_tiers(api)
    placed = buy(api, clock, "full", "600.00", at(2026, 2, 1))
    refund(api, clock, "full", placed["order_id"], "600.00", at(2026, 2, 2))
    view = tier_of(api, placed["member_id"])
    assert (view["tier"], view["qualifying_value"]) == ("Gold", "0.00")


@pytest.mark.parametrize(
    ("window", "tier"), [("calendar_year", "Silver"), ("rolling_12_months", "Gold")]
)
def test_earning_across_the_year_boundary(
    api: Api, db: Database, clock: FixedClock, window: str, tier: str
) -> None:
    put_tiers(api, window=window)
    member = buy(api, clock, "nye", "300.00", at(2026, 12, 15))["member_id"]
    buy(api, clock, "nye", "300.00", at(2027, 1, 10))
    view = tier_of(api, member)
    assert view["tier"] == tier
    if window == "calendar_year":
        assert view["qualifying_value"] == "300.00"  # 2027 only
        assert view["progress"]["message"] == "spend 200.00 more by 2027-12-31 to reach Gold"
        # Silver from December's 2026, renewed by January's 2027: judged at the end of 2028.
        assert view["valid_until"] == "2029-01-01T00:00:00Z"
        assert run_job(db, api, at(2028, 1, 1, 0)) == 0
        assert run_job(db, api, at(2029, 1, 1, 0)) == 1  # 2028: nothing, one down
        assert tier_of(api, member)["tier"] == "Member"
    else:
        assert view["qualifying_value"] == "600.00"
        assert view["valid_until"] == "2028-01-10T12:00:00Z"
        # The 12 months ending then hold neither order (January's is the window's open end).
        assert run_job(db, api, at(2028, 1, 10, 11)) == 0
        assert run_job(db, api, at(2028, 1, 10, 12)) == 1
        clock.set(at(2028, 1, 11))
        view = tier_of(api, member)
        assert (view["tier"], view["since"]) == ("Silver", "2028-01-10T12:00:00Z")
        assert history(api, member)[0]["metric_value"] == "0.00"


def test_a_grant_of_an_invitation_only_tier_and_its_expiry(
    api: Api, db: Database, clock: FixedClock
) -> None:
    put_tiers(api, downgrade="recalculate")
    member = buy(api, clock, "inv", "900.00", at(2026, 2, 1))["member_id"]
    assert tier_of(api, member)["tier"] == "Gold"  # 900 is enough for Black, but not by spending
    body = {"tier": "Black", "reason": "founding customer", "valid_until": "2026-09-01T00:00:00Z"}
    refused = api.client.post(
        f"/v1/members/{member}/tier", json=body, headers=api.headers(Scope.STOREFRONT)
    )
    assert refused.status_code == 403
    headers = {**api.headers(), "Idempotency-Key": "grant-1"}
    granted = api.client.post(f"/v1/members/{member}/tier", json=body, headers=headers)
    assert granted.status_code == 200, granted.text
    assert (granted.json()["tier"], granted.json()["multiplier"]) == ("Black", "2")
    again = api.client.post(f"/v1/members/{member}/tier", json=body, headers=headers)
    assert again.content == granted.content
    (grant, *_) = history(api, member)
    assert (grant["change"], grant["from_tier"], grant["to_tier"], grant["reason"]) == (
        "granted",
        "Gold",
        "Black",
        "founding customer",
    )
    assert tier_events(db, api.program.id, member)[-1][0] == "tier.upgraded"
    assert buy(api, clock, "inv", "10.00", at(2026, 3, 1))["points"]["awarded"] == 20
    assert run_job(db, api, at(2026, 8, 31)) == 0
    assert run_job(db, api, at(2026, 9, 1)) == 1
    assert tier_of(api, member)["tier"] == "Gold"  # recalculated on 2026: 910


def test_a_grant_without_a_date_lasts_the_usual_period(api: Api, clock: FixedClock) -> None:
    put_tiers(api, window="rolling_12_months")
    member = buy(api, clock, "g2", "10.00", START)["member_id"]
    response = api.client.post(
        f"/v1/members/{member}/tier",
        json={"tier": "Gold", "reason": "apology"},
        headers=api.headers(),
    )
    assert response.json()["valid_until"] == "2027-01-15T12:00:00Z"
    down = api.client.post(
        f"/v1/members/{member}/tier",
        json={"tier": "Member", "reason": "abuse"},
        headers=api.headers(),
    )
    assert (down.json()["tier"], down.json()["valid_until"]) == ("Member", None)


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"tier": "Diamond", "reason": "x"}, 422, "unknown_tier"),
        (
            {"tier": "Gold", "reason": "x", "valid_until": "2020-01-01T00:00:00Z"},
            422,
            "invalid_value",
        ),
        (
            {"tier": "Gold", "reason": "x", "valid_until": "2030-01-01T00:00:00"},
            422,
            "validation_error",
        ),
        (
            {"tier": "Gold", "reason": "x", "valid_until": "9999-01-01T00:00:00Z"},
            422,
            "validation_error",
        ),
        ({"tier": "Gold"}, 422, "missing_field"),
    ],
)
def test_bad_grants(
    api: Api, clock: FixedClock, body: dict[str, str], status: int, code: str
) -> None:
    put_tiers(api)
    member = buy(api, clock, "bad", "10.00", START)["member_id"]
    response = api.client.post(f"/v1/members/{member}/tier", json=body, headers=api.headers())
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code
    unknown = api.client.post("/v1/members/999999999/tier", json={"tier": "Gold", "reason": "x"},
                              headers=api.headers())  # fmt: skip
    assert unknown.status_code == 404


def test_member_tier_needs_tiers_and_a_member(api: Api, clock: FixedClock) -> None:
    member = buy(api, clock, "none", "10.00", START)["member_id"]
    response = api.client.get(f"/v1/members/{member}/tier", headers=api.headers())
    assert response.json()["error"]["code"] == "tiers_not_configured"
    put_tiers(api)
    assert api.client.get("/v1/members/999999999/tier", headers=api.headers()).status_code == 404


@pytest.mark.parametrize("grace_days", [0, 10])
def test_an_event_after_the_period_ended_is_weighed_as_if_the_job_had_run(
    api: Api, db: Database, clock: FixedClock, grace_days: int
) -> None:
    """The job has not run since Platinum's period (and grace) ended on 1 February; the
    member qualifies for Gold on the 20th. The period is judged first, at its end (nothing in
    the window: Member, by recalculate), then the event upgrades to Gold: what a daily job
    would have given. Before, the event was weighed against the stale Platinum (no change),
    and the late job then left the member at Member for good."""
    put_tiers(api, window="rolling_12_months", downgrade="recalculate", grace_days=grace_days)
    member = buy(api, clock, "late", "1000.00", at(2026, 2, 1))["member_id"]
    buy(api, clock, "late", "600.00", at(2027, 2, 20))
    assert [(c["change"], c["to_tier"], c["occurred_at"]) for c in history(api, member)] == [
        ("upgraded", "Gold", "2027-02-20T12:00:00Z"),
        ("downgraded", "Member", "2027-02-01T12:00:00Z"),
        ("upgraded", "Platinum", "2026-02-01T12:00:00Z"),
    ]
    assert [t for t, _ in tier_events(db, api.program.id, member)] == [
        "tier.upgraded",
        "tier.downgraded",
        "tier.upgraded",
    ]
    assert run_job(db, api, at(2027, 2, 21)) == 0
    view = tier_of(api, member)
    assert (view["tier"], view["since"], view["valid_until"]) == (
        "Gold",
        "2027-02-20T12:00:00Z",
        "2028-02-20T12:00:00Z",
    )


def test_an_event_dated_in_the_future_judges_no_period_the_clock_has_not_ended(
    api: Api, clock: FixedClock
) -> None:
    put_tiers(api, window="rolling_12_months", downgrade="recalculate")
    member = buy(api, clock, "early", "1000.00", at(2026, 2, 1))["member_id"]
    clock.set(at(2026, 6, 1))
    data = order_data(line("sku", 1, "10.00"))
    send(api, event("order.placed", data, customer="early", at=at(2027, 6, 1)))
    assert [c["change"] for c in history(api, member)] == ["upgraded"]
    assert tier_of(api, member)["tier"] == "Platinum"
