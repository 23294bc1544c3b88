"""Donations add up per cause with each member's impact; experiences keep a guest list."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from punchcard.db import Database
from punchcard.ledger.domain import Account
from punchcard.models import Posting
from punchcard.programs.domain import Scope
from punchcard.redemptions import service
from tests.conftest import Api
from tests.ledger.helpers import assert_verified
from tests.redemptions.helpers import (
    available,
    error,
    issued,
    make_cause,
    make_reward,
    member_with,
    redeem,
)


def donation(api: Api, db: Database, cause: int, points: int) -> int:
    return make_reward(
        db, api.program, type="donation", value=str(cause), cause_id=cause, points_cost=points
    )


def test_a_donation_is_completed_with_its_impact_in_the_history(api: Api, db: Database) -> None:
    trees = make_cause(db, api.program, name="Plant trees", unit="tree", points_per_unit=500)
    reward = donation(api, db, trees, 1000)
    member = member_with(api, 1000)

    body = issued(api, member, reward)

    assert (body["status"], body["type"], body["value"], body["cause_id"]) == (
        "completed",
        "donation",
        "2",
        trees,
    )
    assert body["code"] is None
    tx = api.client.get(
        f"/v1/members/{member}/transactions/{body['transaction_id']}", headers=api.headers()
    ).json()
    assert tx["kind"] == "donate"
    assert tx["reason"] == "Donation: Plant trees (2 trees)"
    assert {p["account"]: p["amount"] for p in tx["postings"]} == {
        "member:available": -1000,
        "program:donated": 1000,
    }
    assert available(api, member) == 0
    assert_verified(db, api.program)


def test_impact_adds_up_per_cause_for_the_member_and_the_program(api: Api, db: Database) -> None:
    trees = make_cause(db, api.program, name="Plant trees", unit="tree", points_per_unit=500)
    meals = make_cause(db, api.program, name="Feed families", unit="meal", points_per_unit=200)
    small_tree = donation(api, db, trees, 250)
    meal = donation(api, db, meals, 200)
    member = member_with(api, 2000)
    other = member_with(api, 2000)
    for reward in (small_tree, small_tree, small_tree, meal):
        issued(api, member, reward)
    issued(api, other, meal)

    response = api.client.get(f"/v1/members/{member}/impact", headers=api.headers(Scope.ANALYST))

    assert response.status_code == 200, response.text
    assert response.json() == {
        "member_id": member,
        "causes": [
            {
                "cause_id": trees,
                "name": "Plant trees",
                "impact_unit": "tree",
                "points": 750,
                "units": "1.5",
                "donations": 3,
            },
            {
                "cause_id": meals,
                "name": "Feed families",
                "impact_unit": "meal",
                "points": 200,
                "units": "1",
                "donations": 1,
            },
        ],
        "total_points": 950,
        "total_donations": 4,
    }
    with db.reader() as session:
        totals = service.impact(session, program_id=api.program.id)
        donated = session.execute(
            select(Posting.amount).where(
                Posting.program_id == api.program.id, Posting.account == Account.DONATED.value
            )
        ).scalars()
        assert sum(donated) == 1150
    assert [(e.cause_id, e.points, e.donations, units) for e, units in totals] == [
        (trees, 750, 3, "1.5"),
        (meals, 400, 2, "2"),
    ]


def test_a_member_without_donations_has_no_impact_and_unknown_is_404(api: Api) -> None:
    member = member_with(api, 0)
    body = api.client.get(f"/v1/members/{member}/impact", headers=api.headers()).json()
    assert body == {"member_id": member, "causes": [], "total_points": 0, "total_donations": 0}
    missing = api.client.get(f"/v1/members/{2**62}/impact", headers=api.headers())
    assert (missing.status_code, error(missing)) == (404, "member_not_found")


def event_reward(api: Api, db: Database, **fields: Any) -> int:
    return make_reward(
        db,
        api.program,
        type="experience",
        value=None,
        name="Tasting evening",
        details={"kind": "event", "starts_at": "2026-03-01T18:00:00Z", "place": "Shop"},
        **fields,
    )


def test_experiences_fill_up_to_capacity_and_list_their_attendees(api: Api, db: Database) -> None:
    reward = event_reward(api, db, stock=2, points_cost=300)
    first, second, third = (member_with(api, 300) for _ in range(3))
    a = issued(api, first, reward)
    b = issued(api, second, reward)
    full = redeem(api, third, reward)

    assert (a["status"], a["code"], a["details"]["place"]) == ("reserved", None, "Shop")
    assert (full.status_code, error(full)) == (409, "out_of_stock")
    assert available(api, third) == 300
    tx = api.client.get(
        f"/v1/members/{first}/transactions/{a['transaction_id']}", headers=api.headers()
    ).json()
    assert tx["reason"] == "Experience: Tasting evening"
    path = f"/v1/rewards/{reward}/attendees"
    listing = api.client.get(path, headers=api.headers(Scope.ADMIN))
    assert listing.status_code == 200, listing.text
    body = listing.json()
    assert (body["capacity"], body["taken"]) == (2, 2)
    assert [(i["member_id"], i["redemption_id"], i["status"]) for i in body["items"]] == [
        (first, a["id"], "reserved"),
        (second, b["id"], "reserved"),
    ]
    page = api.client.get(path, headers=api.headers(), params={"limit": 1}).json()
    rest = api.client.get(
        path, headers=api.headers(), params={"cursor": page["next_cursor"]}
    ).json()
    assert [i["member_id"] for i in page["items"] + rest["items"]] == [first, second]
    cancelled = api.client.post(
        f"/v1/members/{first}/redemptions/{a['id']}/cancel", headers=api.headers()
    )
    assert cancelled.status_code == 200
    after = api.client.get(path, headers=api.headers()).json()
    assert [i["member_id"] for i in after["items"]] == [second]
    assert after["taken"] == 1


def test_attendees_need_an_admin_key_and_a_reward_of_the_program(api: Api, db: Database) -> None:
    reward = event_reward(api, db)
    path = f"/v1/rewards/{reward}/attendees"
    assert api.client.get(path, headers=api.headers(Scope.STOREFRONT)).status_code == 403
    missing = api.client.get(f"/v1/rewards/{2**62}/attendees", headers=api.headers())
    assert (missing.status_code, error(missing)) == (404, "reward_not_found")
    bad = api.client.get(path, headers=api.headers(), params={"cursor": "nonsense"})
    assert (bad.status_code, error(bad)) == (422, "invalid_cursor")


def test_donations_and_experiences_show_in_the_history_and_the_programs_totals(
    api: Api, db: Database
) -> None:
    """End to end through the API: the member's transactions and wallet list both, the
    cause's totals (`GET /v1/causes`) agree with the members' impact, and the experience
    counts in its guest list and in the program's `redeemed` account."""
    trees = make_cause(db, api.program, name="Plant trees", unit="tree", points_per_unit=400)
    gift = donation(api, db, trees, 600)
    tasting = event_reward(api, db, stock=10, points_cost=250)
    first, second = member_with(api, 1000), member_with(api, 1000)
    for member in (first, second):
        issued(api, member, gift)
    place = issued(api, first, tasting)

    history = api.client.get(f"/v1/members/{first}/transactions", headers=api.headers()).json()
    reasons = [t["reason"] for t in history["items"]]
    assert "Donation: Plant trees (1.5 trees)" in reasons
    assert "Experience: Tasting evening" in reasons
    wallet = api.client.get(f"/v1/members/{first}/redemptions", headers=api.headers()).json()
    assert [(r["type"], r["status"]) for r in wallet["items"]] == [
        ("experience", "reserved"),
        ("donation", "completed"),
    ]
    cause = api.client.get(f"/v1/causes/{trees}", headers=api.headers()).json()
    assert cause["totals"] == {
        "points_donated": 1200,
        "impact_units": "3",
        "donations": 2,
        "donors": 2,
    }
    impact = api.client.get(f"/v1/members/{first}/impact", headers=api.headers()).json()
    assert (impact["total_points"], impact["causes"][0]["units"]) == (600, "1.5")
    guests = api.client.get(f"/v1/rewards/{tasting}/attendees", headers=api.headers()).json()
    assert (guests["taken"], [g["redemption_id"] for g in guests["items"]]) == (1, [place["id"]])
    with db.reader() as session:
        accounts = {
            account: sum(
                session.execute(
                    select(Posting.amount).where(
                        Posting.program_id == api.program.id, Posting.account == account
                    )
                ).scalars()
            )
            for account in (Account.DONATED.value, Account.REDEEMED.value)
        }
    assert accounts == {Account.DONATED.value: 1200, Account.REDEEMED.value: 250}
    assert_verified(db, api.program)
