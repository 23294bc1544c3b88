"""The pure ledger rules, with plain values."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from punchcard.ledger.domain import (
    Account,
    BalanceView,
    Kind,
    LedgerRuleError,
    LotView,
    plan_consumption,
    plan_credit,
    plan_credit_reversal,
    plan_debit,
    plan_debit_reversal,
    plan_expiry,
    plan_release,
    postings,
    transaction_digest,
)

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def lot(lot_id: int, remaining: int, earned_day: int, expires_day: int | None) -> LotView:
    expires = None if expires_day is None else T0 + timedelta(days=expires_day)
    return LotView(lot_id, remaining, T0 + timedelta(days=earned_day), expires)


def test_consumption_takes_nearest_expiry_first_then_oldest_never_expiring_last() -> None:
    lots = [
        lot(1, 50, earned_day=0, expires_day=None),
        lot(2, 50, earned_day=5, expires_day=100),
        lot(3, 50, earned_day=1, expires_day=30),
        lot(4, 50, earned_day=0, expires_day=100),
    ]
    assert plan_consumption(lots, 170) == [(3, -50), (4, -50), (2, -50), (1, -20)]


def test_consumption_refuses_more_than_the_lots_hold() -> None:
    with pytest.raises(LedgerRuleError):
        plan_consumption([lot(1, 10, 0, None)], 11)


def test_postings_must_balance_and_drop_zero_legs() -> None:
    assert postings((Account.AVAILABLE, 5), (Account.ISSUED, -5), (Account.DEBT, 0)) == postings(
        (Account.AVAILABLE, 5), (Account.ISSUED, -5)
    )
    with pytest.raises(LedgerRuleError):
        postings((Account.AVAILABLE, 5), (Account.ISSUED, -4))


def test_credit_pays_debt_first() -> None:
    plan = plan_credit(Kind.EARN, 100, BalanceView(0, 0, 60), pending=False)
    delta = plan.delta()
    assert (delta.available, delta.debt, plan.new_lot_points) == (40, -60, 40)
    assert sum(p.amount for p in plan.postings) == 0


def test_pending_credit_goes_to_pending_without_lot() -> None:
    plan = plan_credit(Kind.EARN, 100, BalanceView(0, 0, 60), pending=True)
    assert (plan.delta().pending, plan.delta().available, plan.new_lot_points) == (100, 0, 0)


def test_release_pays_debt_first() -> None:
    plan = plan_release(100, BalanceView(0, 100, 30))
    delta = plan.delta()
    assert (delta.pending, delta.debt, delta.available, plan.new_lot_points) == (-100, -30, 70, 70)


def test_debit_and_expiry_plans() -> None:
    lots = [lot(1, 30, 0, 10), lot(2, 30, 0, 20)]
    debit = plan_debit(Kind.SPEND, 40, BalanceView(60, 0, 0), lots)
    assert debit.lot_moves == [(1, -30), (2, -10)]
    assert debit.delta().available == -40
    expiry = plan_expiry([lot(1, 30, 0, 10)])
    assert expiry is not None
    assert expiry.points == 30
    assert plan_expiry([]) is None


def test_credit_reversal_takes_own_lot_then_others_then_debt() -> None:
    plan = plan_credit_reversal(
        Kind.EARN,
        100,
        still_pending=False,
        own_lots=[lot(1, 20, 0, 50)],
        other_lots=[lot(2, 30, 0, 40), lot(3, 10, 0, 10)],
    )
    assert plan.lot_moves == [(1, -20), (3, -10), (2, -30)]
    delta = plan.delta()
    assert (delta.available, delta.debt, delta.lifetime_earned) == (-60, 40, -100)


def test_pending_credit_reversal_voids_pending() -> None:
    plan = plan_credit_reversal(Kind.EARN, 70, still_pending=True, own_lots=[], other_lots=[])
    assert plan.delta().pending == -70
    assert plan.lot_moves == []


def test_debit_reversal_pays_debt_then_restores_last_consumed_first() -> None:
    plan = plan_debit_reversal(Kind.SPEND, 50, BalanceView(0, 0, 10), [(1, 30), (2, 30)])
    assert plan.lot_moves == [(2, 30), (1, 10)]
    assert (plan.delta().debt, plan.delta().available) == (-10, 40)
    with pytest.raises(LedgerRuleError):
        plan_debit_reversal(Kind.SPEND, 70, BalanceView(0, 0, 0), [(1, 30), (2, 30)])


def test_digest_changes_with_any_field_or_posting() -> None:
    base = {
        "program_id": 1,
        "member_id": 2,
        "kind": "earn",
        "points": 10,
        "reason": "order",
        "reference": None,
        "reverses_id": None,
        "occurred_at": T0,
        "legs": [("member:available", 10), ("program:issued", -10)],
    }
    original = transaction_digest(**base)  # type: ignore[arg-type]
    assert original == transaction_digest(**{**base, "legs": list(reversed(base["legs"]))})  # type: ignore[arg-type, call-overload]
    for field, value in [
        ("points", 11),
        ("reason", "x"),
        ("legs", [("member:available", 11), ("program:issued", -11)]),
    ]:
        assert transaction_digest(**{**base, field: value}) != original  # type: ignore[arg-type]


def test_credit_reversal_writes_back_expired_points_before_touching_other_lots() -> None:
    plan = plan_credit_reversal(
        Kind.EARN,
        100,
        still_pending=False,
        own_lots=[lot(1, 10, 0, 50)],
        other_lots=[lot(2, 30, 0, 40)],
        own_expired=60,
    )
    assert plan.lot_moves == [(1, -10), (2, -30)]
    legs = {p.account: p.amount for p in plan.postings}
    assert legs[Account.EXPIRED] == -60
    assert Account.DEBT not in legs
    assert (plan.delta().available, plan.delta().debt) == (-40, 0)


def _digest_as_first_written(**fields: Any) -> str:
    """The formula of the digests already stored: json.dumps with sorted keys, compact."""
    body = {**fields, "occurred_at": fields["occurred_at"].isoformat()}
    body["postings"] = sorted([str(a), int(n)] for a, n in body.pop("legs"))
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


@given(
    reason=st.text(max_size=12),
    reference=st.none() | st.text(max_size=12),
    kind=st.sampled_from(["earn", "spend", "k\u00e9", 'a"b\\c', "tab\there", "del\x7f"]),
    points=st.integers(min_value=-(2**62), max_value=2**62),
    ids=st.tuples(st.integers(1, 2**62), st.integers(1, 2**62), st.none() | st.integers(1, 2**62)),
)
def test_digest_is_the_formula_stored_digests_were_made_with(
    reason: str, reference: str | None, kind: str, points: int, ids: tuple[int, int, int | None]
) -> None:
    """The fast encoding (orjson) is taken only where it writes the same bytes as json.dumps:
    a digest stored before must still verify, whatever text the transaction holds."""
    fields: dict[str, Any] = {
        "program_id": ids[0],
        "member_id": ids[1],
        "kind": kind,
        "points": points,
        "reason": reason,
        "reference": reference,
        "reverses_id": ids[2],
        "occurred_at": T0,
        "legs": [("member:available", points), (f"program:{kind}", -points)],
    }
    assert transaction_digest(**fields) == _digest_as_first_written(**fields)
