"""The pure rules: codes, discounts, points as money, cancellation, impact."""

from __future__ import annotations

import math
from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from punchcard.kit import codes
from punchcard.redemptions import domain
from punchcard.redemptions.domain import PaymentRuleError, Verdict, quote_payment

NOW = datetime(2026, 1, 15, tzinfo=UTC)


def test_codes_carry_at_least_80_random_bits() -> None:
    assert len(set(codes.ALPHABET)) == 32
    assert codes.LENGTH * math.log2(len(codes.ALPHABET)) >= 80
    assert codes.BITS >= 80
    # With the 4-character hint known, 60 bits remain.
    assert (codes.LENGTH - codes.HINT_LENGTH) * math.log2(len(codes.ALPHABET)) >= 60


def test_ten_thousand_codes_are_distinct_well_formed_and_use_the_whole_alphabet() -> None:
    made = [codes.new_code() for _ in range(10_000)]
    assert len(set(made)) == 10_000
    assert all(codes.is_well_formed(c) for c in made)
    assert set("".join(made)) == set(codes.ALPHABET)
    assert not set("ILOU") & set("".join(made))


def test_every_character_of_a_code_is_drawn_uniformly_from_secrets(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """80 bits only if each of the 16 positions carries 5: a fixed or biased position (a
    prefix, a check character, a weak generator) would fail here, which the constants and the
    distinctness of 10,000 codes alone would not catch."""
    made = [codes.new_code() for _ in range(10_000)]
    for position in range(codes.LENGTH):
        seen = Counter(code[position] for code in made)
        assert set(seen) == set(codes.ALPHABET), position
        assert all(200 < n < 450 for n in seen.values()), (position, seen)  # 312.5 each
    monkeypatch.setattr("punchcard.kit.codes.secrets.choice", lambda alphabet: alphabet[-1])
    assert codes.new_code() == "Z" * codes.LENGTH  # the CSPRNG is the only source


def test_display_groups_by_four_and_normalise_reads_it_back() -> None:
    code = "7KQ2M9XD4TPAHC3R"
    assert codes.display(code) == "7KQ2-M9XD-4TPA-HC3R"
    assert codes.hint(code) == "HC3R"
    for typed in ("7kq2-m9xd-4tpa-hc3r", " 7KQ2 M9XD 4TPA HC3R ", "7KQ2M9XD4TPAHC3R"):
        assert codes.normalise(typed) == code
    assert codes.normalise("ilo-ILO") == "110110"
    assert not codes.is_well_formed(codes.normalise("not a code"))


@given(st.text(max_size=80))
def test_normalise_never_fails(text: str) -> None:
    assert isinstance(codes.normalise(text), str)


@pytest.mark.parametrize(
    ("kind", "value", "total", "expected"),
    [
        ("discount_amount", "5.00", None, {"amount": "5.00"}),
        ("discount_amount", "5.00", Decimal("4.99"), {"amount": "4.99"}),
        ("points_payment", "2.57", Decimal("0"), {"amount": "0.00"}),
        ("discount_percent", "15", None, {"percent": 15}),
        ("discount_percent", "15", Decimal("10.10"), {"percent": 15, "amount": "1.52"}),
        ("discount_percent", "100", Decimal("3.33"), {"percent": 100, "amount": "3.33"}),
        ("free_shipping", None, Decimal("1"), {"free_shipping": True}),
        ("free_product", "SKU-1", None, {"sku": "SKU-1"}),
        ("gift_card", "25", Decimal("1"), {"store_credit": "25.00"}),
    ],
)
def test_discount_of_each_type(
    kind: str, value: str | None, total: Decimal | None, expected: dict[str, object]
) -> None:
    assert domain.discount(kind, value, total) == expected


@pytest.mark.parametrize(
    ("rate", "percent", "total", "points", "amount", "expected"),
    [
        (100, 100, "50.00", 257, None, (257, "2.57", False)),
        (1000, 100, "10.00", 1009, None, (1000, "1.00", False)),
        (3, 100, "10.00", 10, None, (10, "3.33", False)),  # 3.33 costs 9.99 -> 10 points
        (1, 100, "10.00", None, "1.50", (1, "1.00", False)),
        (100, 20, "30.00", 5000, None, (600, "6.00", True)),
        (100, 50, "0.05", 100, None, (2, "0.02", True)),
    ],
)
def test_points_payment_quotes(
    rate: int,
    percent: int,
    total: str,
    points: int | None,
    amount: str | None,
    expected: tuple[int, str, bool],
) -> None:
    quote = quote_payment(
        rate=rate,
        max_percent=percent,
        order_total=Decimal(total),
        points=points,
        amount=Decimal(amount) if amount else None,
    )
    assert (quote.points, str(quote.amount), quote.capped) == expected


@given(
    rate=st.integers(1, 10_000),
    percent=st.integers(1, 100),
    cents=st.integers(1, 10**8),
    points=st.integers(1, 10**9),
)
def test_a_quote_never_charges_more_than_asked_nor_pays_more_than_allowed(
    rate: int, percent: int, cents: int, points: int
) -> None:
    total = Decimal(cents) / 100
    try:
        quote = quote_payment(rate=rate, max_percent=percent, order_total=total, points=points)
    except PaymentRuleError:
        return
    assert 0 < quote.points <= points
    assert 0 < quote.amount <= total * percent / 100
    assert quote.amount * rate <= quote.points < quote.amount * rate + 1  # fewest points


def test_a_quote_below_a_cent_is_refused() -> None:
    with pytest.raises(PaymentRuleError) as caught:
        quote_payment(rate=1000, max_percent=100, order_total=Decimal("5"), points=9)
    assert caught.value.code == "points_payment_too_small"


@pytest.mark.parametrize(
    ("status", "expires_in", "starts_in", "expected"),
    [
        ("issued", 1, None, None),
        ("issued", 0, None, "code_expired"),
        ("expired", 1, None, "code_expired"),
        ("used", 1, None, "code_used"),
        ("cancelled", 1, None, "already_cancelled"),
        ("completed", None, None, "not_cancellable"),
        ("reserved", None, None, None),
        ("reserved", None, 1, None),
        ("reserved", None, 0, "not_cancellable"),
    ],
)
def test_cancel_refusal(
    status: str, expires_in: int | None, starts_in: int | None, expected: str | None
) -> None:
    expires = None if expires_in is None else NOW + timedelta(days=expires_in)
    starts = None if starts_in is None else NOW + timedelta(days=starts_in)
    assert domain.cancel_refusal(status, expires, starts, NOW) == expected


@pytest.mark.parametrize(
    ("status", "expires_in", "expected"),
    [
        (None, None, Verdict.INVALID),
        ("issued", 1, Verdict.VALID),
        ("issued", 0, Verdict.INVALID),
        ("expired", 1, Verdict.INVALID),
        ("cancelled", 1, Verdict.INVALID),
        ("used", 1, Verdict.USED),
        ("used", -1, Verdict.USED),
    ],
)
def test_verdict(status: str | None, expires_in: int | None, expected: Verdict) -> None:
    expires = None if expires_in is None else NOW + timedelta(days=expires_in)
    assert domain.verdict(status, expires, NOW) is expected


def test_impact_units_and_phrase() -> None:
    assert domain.units_text(domain.impact_units(1000, 500)) == "2"
    assert domain.units_text(domain.impact_units(250, 500)) == "0.5"
    assert domain.units_text(domain.impact_units(100, 300)) == "0.33"
    assert domain.units_text(Decimal("10.00")) == "10"
    assert domain.impact_phrase(Decimal(2), "tree") == "2 trees"
    assert domain.impact_phrase(Decimal(1), "tree") == "1 tree"
    assert domain.impact_phrase(Decimal("1.5"), "glass") == "1.5 glass"


def test_parse_amount() -> None:
    assert domain.parse_amount("5.00") == Decimal("5")
    for bad in ("", "lots", "NaN", "Infinity"):
        with pytest.raises(ValueError, match="number"):
            domain.parse_amount(bad)
