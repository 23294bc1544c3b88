"""The referral rules on plain values: normalisation, hashing, codes, settings checks, and
each fraud check on its own."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from punchcard.kit import codes
from punchcard.referrals.domain import (
    Evidence,
    Party,
    Reason,
    Settings,
    SignalKind,
    Status,
    Verdict,
    assess,
    canonical_email,
    canonical_phone,
    link_for,
    new_code,
    normalise_code,
    normalise_signal,
    recheck_checks,
    settings_problem,
    signal_hash,
)


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("ann@example.com", "ann@example.com"),
        ("Ann+promo@Example.com", "ann@example.com"),
        ("a.n.n@example.com", "a.n.n@example.com"),  # dots matter outside Gmail
        ("A.nn+x@gmail.com", "ann@gmail.com"),
        ("ann@googlemail.com", "ann@gmail.com"),
        ("+tag@example.com", None),
        ("not-an-email", None),
        (None, None),
    ],
)
def test_canonical_email(raw: str | None, canonical: str | None) -> None:
    assert canonical_email(raw) == canonical


def test_addresses_ignore_case_punctuation_and_spacing() -> None:
    assert normalise_signal(SignalKind.ADDRESS, " 12 Main St., Apt #4 ") == "12 main st apt 4"
    assert normalise_signal(SignalKind.ADDRESS, "12  MAIN\tst") == "12 main st"


@pytest.mark.parametrize("kind", [SignalKind.DEVICE, SignalKind.PAYMENT])
def test_devices_and_cards_ignore_case_and_spaces(kind: SignalKind) -> None:
    """SDKs disagree on the case of a device UUID: one device must give one hash."""
    upper = signal_hash(1, kind, " 6F9619FF-8B86-D011-B42D-00C04FC964FF ")
    assert upper == signal_hash(1, kind, "6f9619ff-8b86-d011-b42d-00c04fc964ff")


def test_phones_compare_by_their_digits() -> None:
    assert canonical_phone("+1 (415) 555-0111") == canonical_phone("+14155550111")
    assert canonical_phone("+14155550111") != canonical_phone("14155550111")
    assert canonical_phone(" ") is None
    assert canonical_phone(None) is None


def test_signal_hashes_are_keyed_by_program_and_kind() -> None:
    one = signal_hash(1, SignalKind.DEVICE, "abc")
    assert one == signal_hash(1, SignalKind.DEVICE, " abc ")
    assert one != signal_hash(2, SignalKind.DEVICE, "abc")
    assert one != signal_hash(1, SignalKind.PAYMENT, "abc")
    assert len(one) == 64
    assert "abc" not in one


def test_codes_are_short_unambiguous_and_typed_loosely() -> None:
    made = {new_code() for _ in range(200)}
    assert len(made) == 200
    assert all(len(c) == 8 and set(c) <= set(codes.ALPHABET) for c in made)
    assert normalise_code("abcd-ef1o") == "ABCDEF10"
    assert normalise_code("abcd efil") == "ABCDEF11"
    assert normalise_code("ABCDEFG") is None
    assert normalise_code("ABCDEFGU") is None  # U is not in the alphabet
    assert link_for("https://s.example/r/{code}", "ABCD2345") == "https://s.example/r/ABCD2345"
    assert link_for(None, "ABCD2345") is None


GOOD = Settings(active=True, referrer_points=10, referee_points=5, min_order_total=Decimal(20))


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"referrer_points": -1}, "referrer_points"),
        ({"referee_points": 10**7}, "referee_points"),
        ({"referrer_points": 0, "referee_points": 0}, "referrer_points"),
        ({"min_order_total": Decimal("-0.01")}, "min_order_total"),
        ({"min_order_total": Decimal("1.005")}, "min_order_total"),
        ({"max_referrals_per_week": 0}, "max_referrals_per_week"),
        ({"max_referees_per_device": 0}, "max_referees_per_device"),
        ({"max_referees_per_address": -1}, "max_referees_per_address"),
        ({"link_template": "https://x.example/"}, "link_template"),
        ({"link_template": "ftp://x.example/{code}"}, "link_template"),
        ({"link_template": "https://[x.example/?ref={code}"}, "link_template"),
    ],
)
def test_settings_problems(change: dict[str, object], field: str) -> None:
    assert settings_problem(GOOD) is None
    problem = settings_problem(replace(GOOD, **change))  # type: ignore[arg-type]
    assert problem is not None
    assert problem[0] == field


def test_inactive_settings_may_give_nothing() -> None:
    assert settings_problem(Settings()) is None


def _evidence(**changes: object) -> Evidence:
    base = Evidence(
        referrer=Party(1, "ann@example.com", "+14155550100", {}),
        referee=Party(2, "bob@example.com", "+14155550199", {}),
        created=True,
        referee_has_orders=False,
        referee_earlier_referrals=0,
        referrer_recent_referrals=0,
        sharing={},
    )
    return replace(base, **changes)  # type: ignore[arg-type]


LIMITS = replace(GOOD, max_referrals_per_week=3, max_referees_per_device=2,
                 max_referees_per_address=2)  # fmt: skip


def _signals(**kinds: str) -> dict[SignalKind, frozenset[str]]:
    return {SignalKind(k): frozenset({v}) for k, v in kinds.items()}


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"referee": Party(2, "Ann+x@Example.com", None)}, Reason.SELF_REFERRAL_EMAIL),
        ({"referee": Party(2, None, "+14155550100")}, Reason.SELF_REFERRAL_PHONE),
        (
            {
                "referrer": Party(1, None, None, _signals(payment="p")),
                "referee": Party(2, None, None, _signals(payment="p")),
            },
            Reason.SELF_REFERRAL_PAYMENT,
        ),
        (
            {
                "referrer": Party(1, None, None, _signals(device="d")),
                "referee": Party(2, None, None, _signals(device="d")),
            },
            Reason.SELF_REFERRAL_DEVICE,
        ),
        ({"created": False}, Reason.REFEREE_NOT_NEW),
        ({"referee_has_orders": True}, Reason.REFEREE_NOT_NEW),
        ({"referee_earlier_referrals": 1}, Reason.REFEREE_NOT_NEW),
        ({"referrer_recent_referrals": 3}, Reason.REFERRER_WEEKLY_LIMIT),
        ({"sharing": {SignalKind.DEVICE: [7, 8]}}, Reason.SHARED_DEVICE),
        ({"sharing": {SignalKind.ADDRESS: [7, 8, 9]}}, Reason.SHARED_ADDRESS),
    ],
)
def test_each_fraud_check_on_its_own(changes: dict[str, object], reason: Reason) -> None:
    verdict = assess(LIMITS, _evidence(**changes))
    assert verdict.reasons == [reason]
    assert verdict.status is Status.REVIEW
    assert reason.value in verdict.matched


def test_a_clean_referral_passes() -> None:
    evidence = _evidence(
        referrer_recent_referrals=2,
        sharing={SignalKind.DEVICE: [7], SignalKind.ADDRESS: [8]},
        referrer=Party(1, "ann@example.com", "+14155550100", _signals(device="a", payment="a")),
        referee=Party(2, "bob@example.com", "+14155550199", _signals(device="b", payment="b")),
    )
    verdict = assess(LIMITS, evidence)
    assert verdict.reasons == []
    assert verdict.status is Status.PENDING


def test_no_limits_no_limit_checks() -> None:
    evidence = _evidence(
        referrer_recent_referrals=100, sharing={SignalKind.DEVICE: list(range(50))}
    )
    assert assess(GOOD, evidence).reasons == []


def test_the_recheck_at_the_order_compares_contacts_too() -> None:
    """An e-mail or phone added after enrolment (by a PATCH) is caught before any reward;
    what only enrolment can know (not new, weekly limit) is not judged again."""
    evidence = _evidence(
        referee=Party(2, "Ann+x@Example.com", "+1 415 555 0100"),
        created=False,
        referrer_recent_referrals=100,
    )
    verdict = Verdict()
    recheck_checks(LIMITS, evidence, verdict)
    assert verdict.reasons == [Reason.SELF_REFERRAL_EMAIL, Reason.SELF_REFERRAL_PHONE]
