"""Settings (admin only, validated, and routing events to the hooks at once), and each
member's code: short, unambiguous, stable, unique, made once even by racing first asks."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from fastapi.testclient import TestClient

from punchcard.db import Database, session_scope
from punchcard.kit import codes
from punchcard.kit.clock import FixedClock
from punchcard.programs.domain import ExpiryPolicy, Scope
from punchcard.referrals import service
from tests.conftest import Api, ProgramFactory
from tests.referrals.helpers import (
    at,
    balance,
    code_of,
    enrol,
    error,
    give_back,
    order,
    put_settings,
    refer,
    referral_of,
    referrer,
    settings,
)


def test_settings_start_inactive(ref: Api) -> None:
    response = ref.client.get("/v1/referrals/settings", headers=ref.headers())
    assert response.status_code == 200, response.text
    assert response.json() == {
        "active": False,
        "referrer_points": 0,
        "referee_points": 0,
        "min_order_total": "0.00",
        "link_template": None,
        "max_referrals_per_week": None,
        "max_referees_per_device": None,
        "max_referees_per_address": None,
        "updated_at": None,
    }


def test_settings_round_trip(ref: Api, clock: FixedClock) -> None:
    written = put_settings(ref, min_order_total=30, max_referrals_per_week=5,
                           max_referees_per_device=2, max_referees_per_address=3)  # fmt: skip
    read = ref.client.get("/v1/referrals/settings", headers=ref.headers()).json()
    assert written == read
    assert read["min_order_total"] == "30.00"
    assert (read["max_referrals_per_week"], read["max_referees_per_device"]) == (5, 2)
    assert read["updated_at"].startswith(clock().date().isoformat())


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"link_template": "https://shop.example/"}, "link_template"),
        ({"link_template": "javascript:alert({code})"}, "link_template"),
        ({"referrer_points": 0, "referee_points": 0}, "referrer_points"),
    ],
)
def test_settings_that_make_no_sense_are_refused(
    ref: Api, fields: dict[str, Any], field: str
) -> None:
    response = ref.client.put(
        "/v1/referrals/settings", json=settings(**fields), headers=ref.headers()
    )
    assert response.status_code == 422, response.text
    assert error(response)["code"] == "invalid_referral_settings"
    assert error(response)["details"]["field"] == field


@pytest.mark.parametrize(
    "fields",
    [
        {"referrer_points": -1},
        {"referee_points": "10"},
        {"min_order_total": "1.001"},
        {"min_order_total": "-1"},
        {"max_referrals_per_week": 0},
        {"max_referees_per_address": -2},
        {"surprise": True},
    ],
)
def test_settings_with_bad_values_are_refused(ref: Api, fields: dict[str, Any]) -> None:
    response = ref.client.put(
        "/v1/referrals/settings", json=settings(**fields), headers=ref.headers()
    )
    assert response.status_code == 422, response.text
    assert ref.client.get("/v1/referrals/settings", headers=ref.headers()).json()["active"] is False


def test_settings_are_for_admins(ref: Api) -> None:
    for scope in (Scope.STOREFRONT, Scope.ANALYST, Scope.POS):
        assert ref.client.get("/v1/referrals/settings", headers=ref.headers(scope)).status_code == (
            403
        )
        response = ref.client.put(
            "/v1/referrals/settings", json=settings(), headers=ref.headers(scope)
        )
        assert response.status_code == 403


def test_switching_on_routes_orders_to_referrals_at_once(ref: Api, clock: FixedClock) -> None:
    """The engagement cache said "nothing configured" before the PUT; the PUT forgets it."""
    early = enrol(ref)
    order(ref, clock, early, "10.00", at(1, 20))  # caches the program as not engaged
    put_settings(ref)
    sponsor, code = referrer(ref)
    friend, _ = refer(ref, code)
    order(ref, clock, friend, "30.00", at(2, 1))
    assert referral_of(ref, friend["id"])["status"] == "rewarded"
    assert balance(ref, sponsor["id"])["pending"] == 500


def test_switching_off_keeps_referrals_already_made(ref: Api, clock: FixedClock) -> None:
    """No new referrals, but made ones are still rewarded (with their own amounts) and still
    voided by a return."""
    put_settings(ref, referrer_points=700)
    sponsor, code = referrer(ref)
    friend, _ = refer(ref, code)
    put_settings(ref, active=False, referrer_points=1)
    order_id = order(ref, clock, friend, "30.00", at(2, 1))
    assert referral_of(ref, friend["id"])["status"] == "rewarded"
    assert balance(ref, sponsor["id"])["pending"] == 700
    give_back(ref, clock, friend, order_id, at(2, 2))
    assert referral_of(ref, friend["id"])["status"] == "voided"
    assert balance(ref, sponsor["id"])["pending"] == 0


def test_a_member_has_one_stable_code_and_link(ref: Api) -> None:
    put_settings(ref, link_template="https://shop.example/?ref={code}&utm_source=referral")
    member = enrol(ref)
    first = code_of(ref, member["id"])
    again = code_of(ref, member["id"], Scope.ANALYST)
    assert first == again
    code = first["code"]
    assert len(code) == 8
    assert all(c in codes.ALPHABET for c in code)
    assert first["link"] == f"https://shop.example/?ref={code}&utm_source=referral"
    assert first | {"code": "", "link": ""} == {
        "member_id": member["id"],
        "code": "",
        "link": "",
        "active": True,
        "referrer_points": 500,
        "referee_points": 300,
        "min_order_total": "25.00",
        "referred": 0,
        "pending": 0,
        "review": 0,
        "rewarded": 0,
        "voided": 0,
        "rejected": 0,
        "points_earned": 0,
    }
    assert code_of(ref, enrol(ref)["id"])["code"] != code


def test_the_summary_counts_referrals_by_status(ref: Api, clock: FixedClock) -> None:
    put_settings(ref)
    sponsor, code = referrer(ref, device_id="d-1")
    refer(ref, code)
    refer(ref, code, device_id="d-1")
    paid, _ = refer(ref, code)
    order(ref, clock, paid, "30.00", at(2, 1))
    found = code_of(ref, sponsor["id"])
    assert (found["referred"], found["pending"], found["review"], found["rewarded"]) == (3, 1, 1, 1)
    assert found["points_earned"] == 500


def test_codes_of_unknown_members_are_not_made(
    ref: Api, client: TestClient, db: Database, make_program: ProgramFactory, clock: FixedClock
) -> None:
    other = Api(client, db, make_program(expiry_policy=ExpiryPolicy.NEVER, expiry_value=0),
                clock())  # fmt: skip
    theirs = enrol(other)
    for member_id in (theirs["id"], 2**62):
        response = ref.client.get(f"/v1/members/{member_id}/referral", headers=ref.headers())
        assert response.status_code == 404
        assert error(response)["code"] == "member_not_found"
        signals = ref.client.post(
            f"/v1/members/{member_id}/signals", json={"device_id": "x"}, headers=ref.headers()
        )
        assert error(signals)["code"] == "member_not_found"


def test_signals_need_at_least_one_value(ref: Api) -> None:
    member = enrol(ref)
    for body in ({}, {"address": " ,. "}):
        response = ref.client.post(
            f"/v1/members/{member['id']}/signals", json=body, headers=ref.headers()
        )
        assert response.status_code == 422, response.text
        assert error(response)["code"] == "no_signals"


def test_racing_first_asks_make_one_code(ref: Api, db: Database, clock: FixedClock) -> None:
    member_id = enrol(ref)["id"]
    start = threading.Barrier(4)
    made: list[str] = []

    def ask() -> None:
        start.wait()
        with session_scope(db.writer) as session:
            made.append(
                service.code_for(
                    session, program_id=ref.program.id, member_id=member_id, now=clock()
                )
            )

    threads = [threading.Thread(target=ask) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(made) == 4
    assert len(set(made)) == 1
    assert code_of(ref, member_id)["code"] == made[0]
