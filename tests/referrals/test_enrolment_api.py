"""A referral made at enrolment: a clean one passes every check, each fraud rule flags on its
own with its stable reason, and a stale or unknown code enrols the member without a referral."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from punchcard.db import Database
from punchcard.kit.clock import FixedClock
from punchcard.models import Member
from punchcard.models.referral import MemberSignal, Referral
from punchcard.programs.domain import ExpiryPolicy
from tests.conftest import Api, ProgramFactory
from tests.events.test_events_api import uid
from tests.referrals.helpers import (
    DAY,
    code_of,
    enrol,
    enrol_raw,
    order,
    put_settings,
    refer,
    referrals,
    referrer,
)


def test_a_clean_referral_passes_every_check(ref: Api) -> None:
    put_settings(ref, max_referrals_per_week=3, max_referees_per_device=1,
                 max_referees_per_address=1)  # fmt: skip
    sponsor, code = referrer(
        ref, email="ann@example.com", phone="+14155550100", device_id="dev-a",
        payment_fingerprint="card-a", address="1 Elm St",
    )  # fmt: skip
    friend, found = refer(
        ref, code, email="bob@example.com", phone="+14155550199", device_id="dev-b",
        payment_fingerprint="card-b", address="2 Oak Ave",
    )  # fmt: skip
    assert found["status"] == "pending"
    assert found["reasons"] == []
    assert found["matched"] == {}
    assert found["referrer_id"] == sponsor["id"]
    assert found["referee_id"] == friend["id"]
    assert found["code"] == code
    assert (found["referrer_points"], found["referee_points"]) == (500, 300)
    assert found["min_order_total"] == "25.00"


def _flagged(found: dict[str, Any], reason: str) -> None:
    assert found["status"] == "review", found
    assert found["reasons"] == [reason], found
    assert reason in found["matched"]


def test_same_email_after_normalisation_is_self_referral(ref: Api) -> None:
    put_settings(ref)
    _, code = referrer(ref, email="Ann.Lee@Gmail.com")
    _, found = refer(ref, code, email="annlee+promo@googlemail.com")
    _flagged(found, "self_referral_email")


def test_same_phone_is_self_referral(ref: Api) -> None:
    put_settings(ref)
    _, code = referrer(ref, phone="+1 (415) 555-0100")
    _, found = refer(ref, code, phone="+14155550100")
    _flagged(found, "self_referral_phone")


def test_same_payment_fingerprint_is_self_referral(ref: Api) -> None:
    put_settings(ref)
    _, code = referrer(ref, payment_fingerprint="fp_123")
    _, found = refer(ref, code, payment_fingerprint="fp_123")
    _flagged(found, "self_referral_payment")
    assert found["matched"]["self_referral_payment"] == {"signal": "payment"}


def test_the_referrers_checkout_signals_count_too(ref: Api) -> None:
    put_settings(ref)
    sponsor, code = referrer(ref)
    response = ref.client.post(
        f"/v1/members/{sponsor['id']}/signals",
        json={"device_id": "phone-1"},
        headers=ref.headers(),
    )
    assert response.status_code == 200, response.text
    assert response.json() == {"member_id": sponsor["id"], "recorded": ["device"]}
    _, found = refer(ref, code, device_id="phone-1")
    _flagged(found, "self_referral_device")


def test_an_existing_member_is_not_new(ref: Api) -> None:
    put_settings(ref)
    _, code = referrer(ref)
    known = enrol(ref)
    again = enrol_raw(ref, known["external_id"], referral_code=code)
    assert again.status_code == 200, again.text
    found = referrals(ref, referee_id=known["id"])[0]
    _flagged(found, "referee_not_new")
    assert found["matched"]["referee_not_new"]["already_member"] is True


def test_a_member_with_orders_is_not_new(ref: Api, clock: FixedClock) -> None:
    """Auto-enrolled by an order event, then enrolled through the API with a code."""
    put_settings(ref)
    _, code = referrer(ref)
    buyer = {"external_id": uid("cust")}
    order(ref, clock, buyer, "30.00", clock())
    response = enrol_raw(ref, buyer["external_id"], referral_code=code)
    assert response.status_code == 200, response.text
    found = referrals(ref, referee_id=response.json()["id"])[0]
    _flagged(found, "referee_not_new")
    assert found["matched"]["referee_not_new"]["has_orders"] is True


def test_too_many_referrals_in_a_week(ref: Api, clock: FixedClock) -> None:
    put_settings(ref, max_referrals_per_week=2)
    _, code = referrer(ref)
    start = clock()
    assert refer(ref, code)[1]["status"] == "pending"
    clock.set(start + DAY)
    assert refer(ref, code)[1]["status"] == "pending"
    clock.set(start + 2 * DAY)
    _flagged(refer(ref, code)[1], "referrer_weekly_limit")
    clock.set(start + 8 * DAY)  # the first two are more than 7 days back now
    assert refer(ref, code)[1]["status"] == "pending"


def test_a_device_shared_by_many_referees(ref: Api) -> None:
    put_settings(ref, max_referees_per_device=2)
    _, code_a = referrer(ref)
    _, code_b = referrer(ref)
    first, _ = refer(ref, code_a, device_id="tablet-9")
    second, _ = refer(ref, code_b, device_id="tablet-9")
    _, third = refer(ref, code_a, device_id="tablet-9")
    _flagged(third, "shared_device")
    assert third["matched"]["shared_device"]["other_referees"] == [first["id"], second["id"]]
    assert refer(ref, code_a, device_id="tablet-10")[1]["status"] == "pending"


def test_an_address_shared_by_many_referees(ref: Api) -> None:
    put_settings(ref, max_referees_per_address=1)
    _, code = referrer(ref)
    assert refer(ref, code, address="12 Main St., Springfield")[1]["status"] == "pending"
    _, found = refer(ref, code, address="12  main st springfield")
    _flagged(found, "shared_address")


def test_limits_left_out_check_nothing(ref: Api) -> None:
    put_settings(ref)
    _, code = referrer(ref)
    for _ in range(3):
        assert refer(ref, code, device_id="same", address="same")[1]["status"] == "pending"


def test_several_reasons_are_all_recorded(ref: Api) -> None:
    put_settings(ref)
    _, code = referrer(ref, email="c@example.com", phone="+14155550111", device_id="d")
    _, found = refer(ref, code, email="C@example.com", phone="+14155550111", device_id="d")
    assert found["status"] == "review"
    assert found["reasons"] == [
        "self_referral_email",
        "self_referral_phone",
        "self_referral_device",
    ]


def test_own_code_is_ignored_and_the_enrolment_goes_on(ref: Api) -> None:
    put_settings(ref)
    sponsor, code = referrer(ref)
    response = enrol_raw(ref, sponsor["external_id"], referral_code=code)
    assert response.status_code == 200, response.text
    assert response.json()["signup"] == {
        "referral": {"status": "ignored", "reason": "self_referral"}
    }
    assert referrals(ref, referrer_id=sponsor["id"]) == []


def _count(db: Database, model: Any, program_id: int) -> int:
    with db.reader() as session:
        return int(
            session.execute(
                select(func.count()).select_from(model).where(model.program_id == program_id)
            ).scalar_one()
        )


def test_an_unknown_code_enrols_the_member_without_a_referral(ref: Api, db: Database) -> None:
    """An old or mistyped referral link must not be a broken sign-up form."""
    put_settings(ref)
    for code in ("ZZZZZZZZ", "not a code at all"):
        response = enrol_raw(ref, referral_code=code, device_id="dev-x")
        assert response.status_code == 201, response.text
        assert response.json()["signup"] == {
            "referral": {"status": "ignored", "reason": "referral_code_unknown"}
        }
    assert _count(db, Member, ref.program.id) == 2
    assert _count(db, MemberSignal, ref.program.id) == 2  # the signals are kept all the same
    assert _count(db, Referral, ref.program.id) == 0


def test_a_malformed_code_is_still_refused(ref: Api, db: Database) -> None:
    put_settings(ref)
    response = enrol_raw(ref, referral_code="Z" * 1000)
    assert response.status_code == 422, response.text
    assert _count(db, Member, ref.program.id) == 0


def test_inactive_referrals_ignore_a_code(ref: Api, db: Database) -> None:
    _, code = referrer(ref)  # codes exist before referrals are switched on
    ignored = {"referral": {"status": "ignored", "reason": "referrals_inactive"}}
    response = enrol_raw(ref, referral_code=code)
    assert response.status_code == 201, response.text
    assert response.json()["signup"] == ignored
    put_settings(ref, active=False)
    response = enrol_raw(ref, referral_code=code)
    assert (response.status_code, response.json()["signup"]) == (201, ignored)
    assert _count(db, Member, ref.program.id) == 3
    assert _count(db, Referral, ref.program.id) == 0


def test_a_code_of_another_program_is_unknown(
    ref: Api, client: Any, db: Database, make_program: ProgramFactory, clock: FixedClock
) -> None:
    put_settings(ref)
    other = Api(client, db, make_program(expiry_policy=ExpiryPolicy.NEVER, expiry_value=0),
                clock())  # fmt: skip
    put_settings(other)
    _, code = referrer(other)
    response = enrol_raw(ref, referral_code=code)
    assert response.status_code == 201, response.text
    assert response.json()["signup"]["referral"]["reason"] == "referral_code_unknown"
    assert _count(db, Referral, ref.program.id) == 0


def test_the_answer_names_the_referral_made(ref: Api) -> None:
    put_settings(ref)
    _, code = referrer(ref, email="kim@example.com")
    clean = enrol_raw(ref, referral_code=code)
    flagged = enrol_raw(ref, referral_code=code, email="kim+2@example.com")
    (made,) = referrals(ref, referee_id=clean.json()["id"])
    assert clean.json()["signup"] == {
        "referral": {"status": "pending", "reasons": [], "referral_id": made["id"]}
    }
    note = flagged.json()["signup"]["referral"]
    assert (note["status"], note["reasons"]) == ("review", ["self_referral_email"])


def test_a_device_id_matches_whatever_its_case(ref: Api) -> None:
    put_settings(ref)
    _, code = referrer(ref, device_id="6F9619FF-8B86-D011-B42D-00C04FC964FF")
    _, found = refer(ref, code, device_id=" 6f9619ff-8b86-d011-b42d-00c04fc964ff")
    assert found["reasons"] == ["self_referral_device"]


def test_a_code_typed_loosely_still_matches(ref: Api) -> None:
    put_settings(ref)
    _, code = referrer(ref)
    typed = f"{code[:4].lower()}-{code[4:]}".replace("1", "l").replace("0", "o")
    assert refer(ref, typed)[1]["code"] == code


def test_a_retried_enrolment_makes_one_referral(ref: Api) -> None:
    put_settings(ref)
    sponsor, code = referrer(ref)
    friend = enrol(ref, referral_code=code)
    again = enrol_raw(ref, friend["external_id"], referral_code=code)
    assert again.status_code == 200
    (found,) = referrals(ref, referrer_id=sponsor["id"])
    assert found["status"] == "pending"  # the retry is not a "referee not new"


def test_a_second_referrer_is_flagged_as_not_new(ref: Api) -> None:
    put_settings(ref)
    _, first = referrer(ref)
    _, second = referrer(ref)
    friend = enrol(ref, referral_code=first)
    enrol(ref, friend["external_id"], referral_code=second)
    newest, oldest = referrals(ref, referee_id=friend["id"])
    assert oldest["status"] == "pending"
    _flagged(newest, "referee_not_new")
    assert newest["matched"]["referee_not_new"]["earlier_referrals"] == 1


def test_signals_are_stored_only_hashed(ref: Api, db: Database) -> None:
    put_settings(ref)
    member = enrol(ref, device_id="device-secret", payment_fingerprint="fp-secret",
                   address="1 Secret Road")  # fmt: skip
    with db.reader() as session:
        rows = session.execute(
            select(MemberSignal.kind, MemberSignal.hash).where(
                MemberSignal.member_id == member["id"]
            )
        ).all()
    assert sorted(k for k, _ in rows) == ["address", "device", "payment"]
    assert all(len(h) == 64 and "secret" not in h.lower() for _, h in rows)
    assert code_of(ref, member["id"])["referred"] == 0
