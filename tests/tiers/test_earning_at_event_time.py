"""An event earns at the tier its member held when it happened: a late event dated before an
upgrade earns at the tier below, and an event after a period the job has not judged yet earns
at the tier that period leaves, whichever path writes it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from punchcard.kit.clock import FixedClock
from tests.conftest import Api
from tests.events.test_events_api import event, post_batch, put_rules, rule, send
from tests.tiers.helpers import at, buy, put_tiers

REVIEW = rule("review", {"type": "fixed", "points": 100}, events=["review.submitted"])
VISIT = rule("visit", {"type": "fixed", "points": 100}, events=["custom.visit"])
PER_DOLLAR = rule("base", {"type": "per_currency_unit", "points": 1})


def review(customer: str, moment: datetime) -> dict[str, Any]:
    return event("review.submitted", {"sku": "cd-1", "rating": 5}, customer=customer, at=moment)


def earned(result: dict[str, Any]) -> int:
    points: int = result["points"]["awarded"] + result["points"]["pending"]
    return points


@pytest.mark.parametrize("path", ["single", "batch", "general"])
def test_a_late_event_earns_at_the_tier_held_when_it_happened(
    api: Api, clock: FixedClock, path: str
) -> None:
    """Gold (x1.5) from 1 March; a review dated in February, sent in April, earns at Member
    (x1); one dated in March earns at Gold. `general`: a custom event type takes the
    one-by-one path."""
    put_rules(api, PER_DOLLAR, REVIEW, VISIT)
    put_tiers(api)
    buy(api, clock, "late", "600.00", at(2026, 3, 1))
    clock.set(at(2026, 4, 1))
    if path == "general":
        before = event("custom.visit", {}, customer="late", at=at(2026, 2, 1))
        after = event("custom.visit", {}, customer="late", at=at(2026, 3, 2))
    else:
        before, after = review("late", at(2026, 2, 1)), review("late", at(2026, 3, 2))
    if path == "batch":
        items = post_batch(api, [before, after]).json()["items"]
        results = [item["result"] for item in items]
    else:
        results = [send(api, before), send(api, after)]
    assert [earned(r) for r in results] == [100, 150]


def test_an_event_after_an_unjudged_period_earns_at_the_tier_it_leaves(
    api: Api, clock: FixedClock
) -> None:
    """Platinum (x3) until 1 February 2027 and the job has not run: a review on the 20th is
    weighed after the period is judged (nothing spent in it: Member), so it earns 100, not 300."""
    put_rules(api, PER_DOLLAR, REVIEW)
    put_tiers(api, window="rolling_12_months", downgrade="recalculate")
    buy(api, clock, "stale", "1000.00", at(2026, 2, 1))
    clock.set(at(2027, 2, 20))
    assert earned(send(api, review("stale", at(2027, 2, 20)))) == 100


def test_a_dry_run_writes_no_tier_change(api: Api, clock: FixedClock) -> None:
    put_rules(api, PER_DOLLAR, REVIEW)
    put_tiers(api, window="rolling_12_months", downgrade="recalculate")
    member = buy(api, clock, "dry", "1000.00", at(2026, 2, 1))["member_id"]
    clock.set(at(2027, 2, 20))
    response = api.client.post(
        "/v1/events",
        params={"dry_run": "true"},
        json=review("dry", at(2027, 2, 20)),
        headers=api.headers(),
    )
    assert response.status_code == 200, response.text
    changes = api.client.get(f"/v1/members/{member}/tier/history", headers=api.headers())
    assert [c["change"] for c in changes.json()["items"]] == ["upgraded"]
