"""/v1/codes/validate and /v1/codes/redeem: what a code is worth, and using it once."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event

from punchcard.config import Settings
from punchcard.db import Database
from punchcard.jobs import run_all
from punchcard.kit import codes
from punchcard.kit.clock import FixedClock
from punchcard.redemptions.tasks import expire_codes
from tests.conftest import START, Api
from tests.redemptions.helpers import (
    at,
    available,
    error,
    issued,
    make_reward,
    member_with,
    post,
)

INVALID = {"valid": False, "reason": "code_invalid"}


def validate(api: Api, code: str, order_total: Any = None) -> Any:
    body: dict[str, Any] = {"code": code}
    if order_total is not None:
        body["order_total"] = order_total
    return post(api, "/v1/codes/validate", body)


def use(api: Api, code: str, order_id: str, key: str | None = None) -> Any:
    return post(api, "/v1/codes/redeem", {"code": code, "order_id": order_id}, key=key)


def code_for(api: Api, db: Database, **reward: Any) -> dict[str, Any]:
    reward_id = make_reward(db, api.program, **reward)
    return issued(api, member_with(api, 1000), reward_id)


@pytest.mark.parametrize(
    ("reward", "order_total", "discount"),
    [
        ({"type": "discount_amount", "value": "5.00"}, None, {"amount": "5.00"}),
        ({"type": "discount_amount", "value": "5.00"}, "3.50", {"amount": "3.50"}),
        ({"type": "discount_amount", "value": "5.00"}, 80, {"amount": "5.00"}),
        ({"type": "discount_percent", "value": "15"}, None, {"percent": 15}),
        ({"type": "discount_percent", "value": "15"}, "19.99", {"percent": 15, "amount": "3.00"}),
        ({"type": "discount_percent", "value": "10"}, "0.05", {"percent": 10, "amount": "0.01"}),
        ({"type": "free_shipping", "value": None}, "20.00", {"free_shipping": True}),
        ({"type": "free_product", "value": "SKU-MUG"}, None, {"sku": "SKU-MUG"}),
        ({"type": "gift_card", "value": "25.00"}, "10.00", {"store_credit": "25.00"}),
    ],
)
def test_validate_gives_the_discount_of_each_type(
    api: Api, db: Database, reward: dict[str, Any], order_total: Any, discount: dict[str, Any]
) -> None:
    redemption = code_for(api, db, **reward)

    response = validate(api, redemption["code"], order_total)

    assert response.status_code == 200, response.text
    assert response.json() == {
        "valid": True,
        "type": reward["type"],
        "discount": discount,
        "expires_at": redemption["code_expires_at"],
        "redemption_id": redemption["id"],
    }


def test_codes_are_read_in_any_case_with_or_without_dashes(api: Api, db: Database) -> None:
    code = code_for(api, db)["code"]
    canonical = code.replace("-", "")
    typed = canonical.lower().replace("1", "l").replace("0", "o")
    for form in (code, canonical, code.lower(), f" {code} ", typed, " ".join(code.split("-"))):
        assert validate(api, form).json()["valid"] is True, form


@contextmanager
def counting(db: Database) -> Iterator[list[str]]:
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def test_unknown_expired_and_cancelled_codes_look_the_same(
    api: Api, db: Database, clock: FixedClock
) -> None:
    expired = code_for(api, db, code_valid_days=1)
    swept = code_for(api, db, code_valid_days=1)
    cancelled = code_for(api, db, code_valid_days=90)
    response = post(
        api, f"/v1/members/{cancelled['member_id']}/redemptions/{cancelled['id']}/cancel"
    )
    assert response.status_code == 200
    clock.set(START + timedelta(days=2))
    expire_codes(db, now=clock())  # `swept` is marked expired, `expired` only past its date
    unknown = codes.display(codes.new_code())
    validate(api, unknown)  # warm the key cache: the first call authenticates
    candidates = {
        "unknown": unknown,
        "malformed": "not-a-code-at-all!",
        "expired": expired["code"],
        "swept": swept["code"],
        "cancelled": cancelled["code"],
    }

    bodies, counts, uses = {}, {}, {}
    for name, code in candidates.items():
        with counting(db) as statements:
            response = validate(api, code, "10.00")
        assert response.status_code == 200
        bodies[name] = response.content
        counts[name] = [s.split()[0] for s in statements]
        used = use(api, code, "order-1")
        uses[name] = (used.status_code, used.content)

    assert len(set(bodies.values())) == 1
    assert bodies["unknown"] == b'{"valid":false,"reason":"code_invalid"}'
    assert len({tuple(c) for c in counts.values()}) == 1, counts
    assert [s for s in counts["unknown"] if s == "SELECT"] == ["SELECT"]
    assert len(set(uses.values())) == 1
    assert uses["unknown"][0] == 409


def test_redeem_marks_the_code_used_once_and_is_idempotent_per_order(
    api: Api, db: Database, clock: FixedClock
) -> None:
    redemption = code_for(api, db)
    clock.set(START + timedelta(hours=1))

    first = use(api, redemption["code"], "order-1")
    again = use(api, redemption["code"].lower(), "order-1")
    other = use(api, redemption["code"], "order-2")

    assert first.status_code == 200, first.text
    body = first.json()
    assert (body["status"], body["used_order_id"], body["used_at"]) == (
        "used",
        "order-1",
        at(START + timedelta(hours=1)),
    )
    assert body["code"] is None
    assert (again.status_code, again.json()) == (200, body)
    assert (other.status_code, error(other)) == (409, "code_used")
    assert validate(api, redemption["code"]).json() == {"valid": False, "reason": "code_used"}


def test_redeem_with_an_idempotency_key_replays(api: Api, db: Database) -> None:
    redemption = code_for(api, db)
    first = use(api, redemption["code"], "order-1", key="k-1")
    second = use(api, redemption["code"], "order-1", key="k-1")
    assert second.content == first.content
    conflict = use(api, redemption["code"], "order-2", key="k-1")
    assert (conflict.status_code, error(conflict)) == (409, "idempotency_conflict")


def test_experiences_and_donations_have_no_code(api: Api, db: Database) -> None:
    event_id = make_reward(
        db, api.program, type="experience", value=None, details={"kind": "early_access"}
    )
    place = issued(api, member_with(api, 100), event_id)
    assert (place["status"], place["code"], place["code_hint"]) == ("reserved", None, None)


@pytest.mark.parametrize(
    "body",
    [
        {"code": ""},
        {"code": "A" * 65},
        {"code": "ABCD", "order_total": -1},
        {"code": "ABCD", "order_total": "1.234"},
        {"code": "ABCD", "order_total": "lots"},
        {"code": 12},
        {},
    ],
)
def test_bad_validate_input_is_a_422(api: Api, body: dict[str, Any]) -> None:
    response = post(api, "/v1/codes/validate", body)
    assert response.status_code == 422, response.text


@pytest.mark.parametrize(
    "body", [{"code": "ABCD"}, {"code": "ABCD", "order_id": ""}, {"order_id": "x"}]
)
def test_bad_redeem_input_is_a_422(api: Api, body: dict[str, Any]) -> None:
    response = post(api, "/v1/codes/redeem", body)
    assert response.status_code == 422, response.text


def test_the_expiry_job_expires_codes_in_batches_and_keeps_the_points(
    api: Api, db: Database, clock: FixedClock
) -> None:
    reward = make_reward(db, api.program, code_valid_days=5)
    member = member_with(api, 1000)
    made = [issued(api, member, reward) for _ in range(7)]
    keep = make_reward(db, api.program, code_valid_days=30)
    fresh = issued(api, member, keep)
    clock.set(START + timedelta(days=5))

    first = expire_codes(db, now=clock(), batch_size=3)
    second = expire_codes(db, now=clock(), batch_size=3)

    assert first >= 7  # other tests' codes of the shared database may expire too
    assert second == 0
    wallet = api.client.get(
        f"/v1/members/{member}/redemptions", headers=api.headers(), params={"limit": 3}
    ).json()
    assert [r["status"] for r in wallet["items"]] == ["issued", "expired", "expired"]
    assert wallet["next_cursor"]
    rest = api.client.get(
        f"/v1/members/{member}/redemptions",
        headers=api.headers(),
        params={"cursor": wallet["next_cursor"], "limit": 50},
    ).json()
    ids = [r["id"] for r in wallet["items"] + rest["items"]]
    assert ids == sorted((r["id"] for r in [*made, fresh]), reverse=True)
    assert available(api, member) == 200
    assert validate(api, made[0]["code"]).json() == {"valid": False, "reason": "code_invalid"}
    assert validate(api, fresh["code"]).json()["valid"] is True


def test_the_periodic_jobs_report_expired_codes(api: Api, db: Database, clock: FixedClock) -> None:
    reward = make_reward(db, api.program, code_valid_days=1)
    issued(api, member_with(api, 100), reward)
    report = run_all(db, now=START + timedelta(days=2), settings=Settings())
    assert report.expired_codes >= 1
    assert "reward code(s)" in report.summary()
    assert run_all(db, now=START + timedelta(days=2), settings=Settings()).expired_codes == 0
