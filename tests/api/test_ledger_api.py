"""/v1/members/{id}/...: adjustments, balance, spending, history and reversals over HTTP."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import pytest

from punchcard.db import Database, session_scope
from punchcard.kit.clock import FixedClock
from punchcard.ledger import service as ledger
from punchcard.programs.domain import Scope
from tests.conftest import START, Api

YEAR = timedelta(days=365)


def enrol(api: Api) -> int:
    response = api.client.post(
        "/v1/members", json={"external_id": f"cust-{uuid.uuid4().hex[:10]}"}, headers=api.headers()
    )
    assert response.status_code == 201, response.text
    member_id: int = response.json()["id"]
    return member_id


def post(api: Api, path: str, body: dict[str, Any], scope: Scope = Scope.ADMIN) -> Any:
    return api.client.post(path, json=body, headers=api.headers(scope))


def adjust(api: Api, member_id: int, points: int, reason: str = "goodwill") -> dict[str, Any]:
    response = post(
        api, f"/v1/members/{member_id}/adjustments", {"points": points, "reason": reason}
    )
    assert response.status_code == 201, response.text
    tx: dict[str, Any] = response.json()
    return tx


def spend(api: Api, member_id: int, points: int) -> Any:
    return post(
        api, f"/v1/members/{member_id}/spend", {"points": points, "reason": "reward"}, Scope.POS
    )


def reverse(api: Api, member_id: int, tx_id: int, points: int | None = None) -> Any:
    body: dict[str, Any] = {"reason": "refund"}
    if points is not None:
        body["points"] = points
    return post(api, f"/v1/members/{member_id}/transactions/{tx_id}/reversals", body)


def balance(api: Api, member_id: int) -> dict[str, Any]:
    response = api.client.get(
        f"/v1/members/{member_id}/balance", headers=api.headers(Scope.ANALYST)
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def history(api: Api, member_id: int, **params: Any) -> dict[str, Any]:
    response = api.client.get(
        f"/v1/members/{member_id}/transactions", params=params, headers=api.headers()
    )
    assert response.status_code == 200, response.text
    page: dict[str, Any] = response.json()
    return page


def legs(tx: dict[str, Any]) -> dict[str, int]:
    result: dict[str, int] = {}
    for posting in tx["postings"]:
        result[posting["account"]] = result.get(posting["account"], 0) + posting["amount"]
    return result


def iso(moment: datetime) -> str:
    """How the API writes a UTC instant."""
    return moment.isoformat().replace("+00:00", "Z")


def error(response: Any) -> dict[str, Any]:
    body: dict[str, Any] = response.json()["error"]
    return body


# --- adjustments and balance -------------------------------------------------------------


def test_positive_adjustment_credits_points_into_a_new_lot(api: Api) -> None:
    member = enrol(api)

    response = post(
        api,
        f"/v1/members/{member}/adjustments",
        {"points": 100, "reason": "welcome gift", "reference": "ticket-7"},
    )

    assert response.status_code == 201, response.text
    tx = response.json()
    assert tx["member_id"] == member
    assert tx["kind"] == "adjust_credit"
    assert tx["points"] == 100
    assert tx["reason"] == "welcome gift"
    assert tx["reference"] == "ticket-7"
    assert tx["reverses_id"] is None
    assert "api_key_id" in tx["meta"]
    assert legs(tx) == {"member:available": 100, "program:adjusted": -100}
    assert len(tx["lots"]) == 1
    assert tx["lots"][0]["amount"] == 100
    assert datetime.fromisoformat(tx["occurred_at"]) == START
    assert balance(api, member) == {
        "available": 100,
        "pending": 0,
        "debt": 0,
        "lifetime_earned": 100,
        "expiring": [{"points": 100, "expires_at": iso(START + YEAR)}],
    }


def test_negative_adjustment_debits_points_from_the_lot(api: Api) -> None:
    member = enrol(api)
    credit = adjust(api, member, 100)

    debit = adjust(api, member, -30, "correction")

    assert debit["kind"] == "adjust_debit"
    assert debit["points"] == 30
    assert legs(debit) == {"member:available": -30, "program:adjusted": 30}
    assert debit["lots"] == [{"lot_id": credit["lots"][0]["lot_id"], "amount": -30}]
    after = balance(api, member)
    assert after["available"] == 70
    assert after["lifetime_earned"] == 100
    assert after["expiring"][0]["points"] == 70


def test_negative_adjustment_beyond_the_balance_is_refused(api: Api) -> None:
    member = enrol(api)
    adjust(api, member, 10)

    response = post(api, f"/v1/members/{member}/adjustments", {"points": -11, "reason": "x"})

    assert response.status_code == 409, response.text
    assert error(response)["code"] == "insufficient_points"
    assert balance(api, member)["available"] == 10


def test_balance_of_a_new_member_is_all_zero(api: Api) -> None:
    member = enrol(api)

    assert balance(api, member) == {
        "available": 0,
        "pending": 0,
        "debt": 0,
        "lifetime_earned": 0,
        "expiring": [],
    }


def test_expiring_lists_points_by_expiry_date_soonest_first(api: Api, clock: FixedClock) -> None:
    member = enrol(api)
    adjust(api, member, 40)
    clock.set(START + timedelta(days=10))
    adjust(api, member, 60)

    expiring = balance(api, member)["expiring"]

    assert [e["points"] for e in expiring] == [40, 60]
    assert [datetime.fromisoformat(e["expires_at"]) for e in expiring] == [
        START + YEAR,
        START + timedelta(days=10) + YEAR,
    ]


def test_spend_takes_nearest_expiry_points_first(api: Api, clock: FixedClock) -> None:
    member = enrol(api)
    first = adjust(api, member, 40)
    clock.set(START + timedelta(days=10))
    second = adjust(api, member, 60)

    response = spend(api, member, 50)

    assert response.status_code == 201, response.text
    assert response.json()["lots"] == [
        {"lot_id": first["lots"][0]["lot_id"], "amount": -40},
        {"lot_id": second["lots"][0]["lot_id"], "amount": -10},
    ]
    after = balance(api, member)
    assert after["available"] == 50
    assert after["expiring"] == [
        {"points": 50, "expires_at": iso(datetime.fromisoformat(second["occurred_at"]) + YEAR)},
    ]


def test_points_past_their_expiry_are_neither_shown_nor_spendable_before_the_job(
    api: Api, clock: FixedClock
) -> None:
    member = enrol(api)
    adjust(api, member, 40)
    clock.set(START + timedelta(days=10))
    adjust(api, member, 60)
    clock.set(START + YEAR)

    shown = balance(api, member)
    refused = spend(api, member, 61)
    accepted = spend(api, member, 60)

    assert shown["available"] == 60
    assert [e["points"] for e in shown["expiring"]] == [60]
    assert refused.status_code == 409, refused.text
    assert error(refused)["details"] == {"requested": 61, "available": 60}
    assert accepted.status_code == 201, accepted.text
    assert balance(api, member)["available"] == 0
    kinds = [t["kind"] for t in history(api, member)["items"]]
    assert kinds[:2] == ["spend", "expire"]


# --- spend -------------------------------------------------------------------------------


def test_spend_returns_201_and_a_balanced_transaction(api: Api) -> None:
    member = enrol(api)
    adjust(api, member, 100)

    response = post(
        api,
        f"/v1/members/{member}/spend",
        {"points": 30, "reason": "free coffee", "reference": "order-1"},
        Scope.STOREFRONT,
    )

    assert response.status_code == 201, response.text
    tx = response.json()
    assert tx["kind"] == "spend"
    assert tx["points"] == 30
    assert tx["reference"] == "order-1"
    assert legs(tx) == {"member:available": -30, "program:redeemed": 30}
    assert sum(lot["amount"] for lot in tx["lots"]) == -30
    after = balance(api, member)
    assert after["available"] == 70
    assert after["lifetime_earned"] == 100


def test_spend_of_the_whole_balance_leaves_zero(api: Api) -> None:
    member = enrol(api)
    adjust(api, member, 25)

    assert spend(api, member, 25).status_code == 201
    assert balance(api, member)["available"] == 0
    assert balance(api, member)["expiring"] == []


def test_spend_beyond_the_balance_is_409_insufficient_points_with_details(api: Api) -> None:
    member = enrol(api)
    adjust(api, member, 20)

    response = spend(api, member, 21)

    assert response.status_code == 409, response.text
    body = error(response)
    assert body["code"] == "insufficient_points"
    assert body["details"] == {"requested": 21, "available": 20}
    assert "21" in body["message"]
    assert balance(api, member)["available"] == 20


# --- history -----------------------------------------------------------------------------


def test_transactions_are_listed_newest_first_with_balanced_postings(api: Api) -> None:
    member = enrol(api)
    credit = adjust(api, member, 100)
    spent = spend(api, member, 30).json()
    debit = adjust(api, member, -5)

    page = history(api, member)

    items = page["items"]
    assert [t["id"] for t in items] == [debit["id"], spent["id"], credit["id"]]
    assert [t["kind"] for t in items] == ["adjust_debit", "spend", "adjust_credit"]
    assert page["next_cursor"] is None
    for tx in items:
        assert tx["postings"], tx
        assert sum(p["amount"] for p in tx["postings"]) == 0
        assert tx["lots"], tx
    assert items[2]["lots"] == credit["lots"]
    assert items[1] == spent


def test_transactions_of_a_new_member_are_empty(api: Api) -> None:
    member = enrol(api)

    assert history(api, member) == {"items": [], "next_cursor": None}


def test_transaction_pages_cover_the_history_once(api: Api) -> None:
    member = enrol(api)
    created = [adjust(api, member, n)["id"] for n in (1, 2, 3, 4, 5)]

    seen: list[int] = []
    pages = 0
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 2}
        if cursor is not None:
            params["cursor"] = cursor
        page = history(api, member, **params)
        pages += 1
        assert len(page["items"]) <= 2
        seen += [t["id"] for t in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None or pages > 5:
            break

    assert pages == 3
    assert seen == list(reversed(created))


def test_transaction_page_that_ends_exactly_has_no_next_cursor(api: Api) -> None:
    member = enrol(api)
    created = [adjust(api, member, n)["id"] for n in (1, 2)]

    page = history(api, member, limit=2)

    assert [t["id"] for t in page["items"]] == list(reversed(created))
    assert page["next_cursor"] is None


def test_bad_transactions_cursor_is_422_invalid_cursor(api: Api) -> None:
    member = enrol(api)

    response = api.client.get(
        f"/v1/members/{member}/transactions", params={"cursor": "zzz"}, headers=api.headers()
    )

    assert response.status_code == 422
    assert error(response)["code"] == "invalid_cursor"


def test_get_single_transaction(api: Api) -> None:
    member = enrol(api)
    credit = adjust(api, member, 100)
    spent = spend(api, member, 10).json()

    response = api.client.get(
        f"/v1/members/{member}/transactions/{credit['id']}", headers=api.headers(Scope.ANALYST)
    )

    assert response.status_code == 200, response.text
    assert response.json() == credit
    again = api.client.get(
        f"/v1/members/{member}/transactions/{spent['id']}", headers=api.headers()
    )
    assert again.json() == spent


def test_transaction_of_another_member_is_not_found(api: Api) -> None:
    member, other = enrol(api), enrol(api)
    credit = adjust(api, member, 100)

    response = api.client.get(
        f"/v1/members/{other}/transactions/{credit['id']}", headers=api.headers()
    )

    assert response.status_code == 404
    assert error(response)["code"] == "transaction_not_found"


# --- reversals ---------------------------------------------------------------------------


def test_full_reversal_of_a_spend_gives_the_points_back_to_their_lot(api: Api) -> None:
    member = enrol(api)
    credit = adjust(api, member, 100)
    spent = spend(api, member, 40).json()

    response = reverse(api, member, spent["id"])

    assert response.status_code == 201, response.text
    tx = response.json()
    assert tx["kind"] == "reversal"
    assert tx["reverses_id"] == spent["id"]
    assert tx["points"] == 40
    assert legs(tx) == {"member:available": 40, "program:redeemed": -40}
    assert tx["lots"] == [{"lot_id": credit["lots"][0]["lot_id"], "amount": 40}]
    assert balance(api, member)["available"] == 100


def test_full_reversal_of_a_credit_takes_the_points_back(api: Api) -> None:
    member = enrol(api)
    credit = adjust(api, member, 100)

    response = reverse(api, member, credit["id"])

    assert response.status_code == 201, response.text
    tx = response.json()
    assert tx["reverses_id"] == credit["id"]
    assert legs(tx) == {"member:available": -100, "program:adjusted": 100}
    after = balance(api, member)
    assert after["available"] == 0
    assert after["debt"] == 0
    assert after["lifetime_earned"] == 0


def test_partial_reversals_until_the_original_is_used_up(api: Api) -> None:
    member = enrol(api)
    adjust(api, member, 100)
    spent = spend(api, member, 50).json()

    first = reverse(api, member, spent["id"], 10)
    too_much = reverse(api, member, spent["id"], 41)
    rest = reverse(api, member, spent["id"])
    twice = reverse(api, member, spent["id"])
    once_more = reverse(api, member, spent["id"], 1)

    assert first.status_code == 201, first.text
    assert first.json()["points"] == 10
    assert too_much.status_code == 422, too_much.text
    assert error(too_much)["code"] == "reversal_exceeds_original"
    assert error(too_much)["details"] == {"requested": 41, "reversible": 40}
    assert rest.status_code == 201, rest.text
    assert rest.json()["points"] == 40
    assert twice.status_code == 409, twice.text
    assert error(twice)["code"] == "already_reversed"
    assert once_more.status_code == 409
    assert error(once_more)["code"] == "already_reversed"
    assert balance(api, member)["available"] == 100
    kinds = [t["kind"] for t in history(api, member)["items"]]
    assert kinds == ["reversal", "reversal", "spend", "adjust_credit"]


def test_reversal_larger_than_the_original_is_refused_without_side_effects(api: Api) -> None:
    member = enrol(api)
    credit = adjust(api, member, 30)

    response = reverse(api, member, credit["id"], 31)

    assert response.status_code == 422, response.text
    assert error(response)["code"] == "reversal_exceeds_original"
    assert balance(api, member)["available"] == 30
    assert len(history(api, member)["items"]) == 1


def test_reversing_a_reversal_is_not_reversible(api: Api) -> None:
    member = enrol(api)
    credit = adjust(api, member, 30)
    reversal = reverse(api, member, credit["id"]).json()

    response = reverse(api, member, reversal["id"])

    assert response.status_code == 409, response.text
    assert error(response)["code"] == "not_reversible"
    assert error(response)["details"] == {"kind": "reversal"}


def test_reversing_an_expiry_is_not_reversible(api: Api, db: Database) -> None:
    member = enrol(api)
    adjust(api, member, 30)
    with session_scope(db.writer) as session:
        expired = ledger.expire_member(
            session, program=api.program, member_id=member, now=START + YEAR + timedelta(days=1)
        )
    assert expired is not None
    assert history(api, member)["items"][0]["kind"] == "expire"

    response = reverse(api, member, expired)

    assert response.status_code == 409, response.text
    assert error(response)["code"] == "not_reversible"
    assert error(response)["details"] == {"kind": "expire"}
    assert balance(api, member)["available"] == 0


def test_reversing_a_credit_whose_points_expired_unspent_creates_no_debt(
    api: Api, db: Database
) -> None:
    """Debt is for points already *spent* (DESIGN.md section 4); points that expired unused
    were never the member's to spend, so taking them back must not block future spending."""
    member = enrol(api)
    credit = adjust(api, member, 100)
    with session_scope(db.writer) as session:
        expired = ledger.expire_member(
            session, program=api.program, member_id=member, now=START + YEAR + timedelta(days=1)
        )
    assert expired is not None

    response = reverse(api, member, credit["id"])

    assert response.status_code in (201, 409), response.text
    after = balance(api, member)
    assert after["debt"] == 0
    assert after["available"] == 0
    adjust(api, member, 10)
    assert spend(api, member, 10).status_code == 201


def test_reversing_an_unknown_transaction_is_404(api: Api) -> None:
    member = enrol(api)

    response = reverse(api, member, 999_999_999)

    assert response.status_code == 404
    assert error(response)["code"] == "transaction_not_found"


def test_reversed_credit_that_was_spent_becomes_debt_that_blocks_spending(api: Api) -> None:
    member = enrol(api)
    credit = adjust(api, member, 100)
    assert spend(api, member, 80).status_code == 201

    response = reverse(api, member, credit["id"])

    assert response.status_code == 201, response.text
    assert legs(response.json()) == {
        "member:available": -20,
        "member:debt": -80,
        "program:adjusted": 100,
    }
    after = balance(api, member)
    assert after["available"] == 0
    assert after["debt"] == 80
    blocked = spend(api, member, 1)
    assert blocked.status_code == 409, blocked.text
    assert error(blocked)["code"] == "debt_outstanding"
    assert error(blocked)["details"] == {"debt": 80}


def test_new_credit_pays_the_debt_off_first(api: Api) -> None:
    member = enrol(api)
    credit = adjust(api, member, 100)
    assert spend(api, member, 80).status_code == 201
    assert reverse(api, member, credit["id"]).status_code == 201

    partial = adjust(api, member, 50)

    assert legs(partial) == {"member:debt": 50, "program:adjusted": -50}
    assert partial["lots"] == []
    assert balance(api, member)["debt"] == 30
    assert balance(api, member)["available"] == 0
    still_blocked = spend(api, member, 1)
    assert error(still_blocked)["code"] == "debt_outstanding"

    settled = adjust(api, member, 100)

    assert legs(settled) == {
        "member:debt": 30,
        "member:available": 70,
        "program:adjusted": -100,
    }
    after = balance(api, member)
    assert after["debt"] == 0
    assert after["available"] == 70
    assert [e["points"] for e in after["expiring"]] == [70]
    assert spend(api, member, 70).status_code == 201
    assert balance(api, member)["available"] == 0


def test_reversal_of_a_spend_pays_the_debt_off_first(api: Api) -> None:
    member = enrol(api)
    credit = adjust(api, member, 100)
    spent = spend(api, member, 80).json()
    assert reverse(api, member, credit["id"]).status_code == 201

    response = reverse(api, member, spent["id"])

    assert response.status_code == 201, response.text
    after = balance(api, member)
    assert after["debt"] == 0
    assert after["available"] == 0


@pytest.mark.parametrize("scope", [Scope.POS, Scope.STOREFRONT, Scope.ANALYST])
def test_reversing_a_credit_needs_the_admin_scope(api: Api, scope: Scope) -> None:
    member = enrol(api)
    credit = adjust(api, member, 10)

    response = post(
        api,
        f"/v1/members/{member}/transactions/{credit['id']}/reversals",
        {"reason": "refund"},
        scope,
    )

    assert response.status_code == 403
    assert error(response)["code"] == "insufficient_scope"
    assert balance(api, member)["available"] == 10
    assert len(history(api, member)["items"]) == 1


@pytest.mark.parametrize("scope", [Scope.POS, Scope.STOREFRONT])
def test_till_and_shop_keys_may_reverse_a_spend(api: Api, scope: Scope) -> None:
    member = enrol(api)
    adjust(api, member, 10)
    spent = spend(api, member, 4).json()

    response = post(
        api,
        f"/v1/members/{member}/transactions/{spent['id']}/reversals",
        {"reason": "checkout cancelled"},
        scope,
    )

    assert response.status_code == 201, response.text
    assert response.json()["reverses_id"] == spent["id"]
    assert balance(api, member)["available"] == 10


def test_analyst_key_cannot_reverse_a_spend(api: Api) -> None:
    member = enrol(api)
    adjust(api, member, 10)
    spent = spend(api, member, 4).json()

    response = post(
        api,
        f"/v1/members/{member}/transactions/{spent['id']}/reversals",
        {"reason": "x"},
        Scope.ANALYST,
    )

    assert response.status_code == 403
    assert error(response)["code"] == "insufficient_scope"
    assert balance(api, member)["available"] == 6
