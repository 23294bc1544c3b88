"""What the referral tests share: settings, enrolments with a code, orders and refunds at given
moments, and readers of referrals and referral points."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from punchcard.kit.clock import FixedClock
from punchcard.programs.domain import Scope
from tests.conftest import Api
from tests.events.test_events_api import event, line, order_data, send, transactions, uid

DAY = timedelta(days=1)
PENDING_DAYS = 14


def at(month: int, day: int, hour: int = 12) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


def settings(**fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "active": True,
        "referrer_points": 500,
        "referee_points": 300,
        "min_order_total": "25.00",
        "link_template": "https://shop.example/?ref={code}",
    }
    body.update(fields)
    return body


def put_settings(api: Api, **fields: Any) -> dict[str, Any]:
    response = api.client.put(
        "/v1/referrals/settings", json=settings(**fields), headers=api.headers()
    )
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


def enrol_raw(api: Api, external_id: str | None = None, **fields: Any) -> Any:
    body = {"external_id": external_id or uid("cust"), **fields}
    return api.client.post("/v1/members", json=body, headers=api.headers(Scope.STOREFRONT))


def enrol(api: Api, external_id: str | None = None, **fields: Any) -> dict[str, Any]:
    response = enrol_raw(api, external_id, **fields)
    assert response.status_code in (200, 201), response.text
    member: dict[str, Any] = response.json()
    return member


def code_of(api: Api, member_id: int, scope: Scope = Scope.STOREFRONT) -> dict[str, Any]:
    response = api.client.get(f"/v1/members/{member_id}/referral", headers=api.headers(scope))
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


def referrer(api: Api, **fields: Any) -> tuple[dict[str, Any], str]:
    """A member with their code."""
    member = enrol(api, **fields)
    return member, code_of(api, member["id"])["code"]


def referrals(api: Api, **params: Any) -> list[dict[str, Any]]:
    response = api.client.get("/v1/referrals", params=params, headers=api.headers())
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def referral_of(api: Api, referee_id: int) -> dict[str, Any]:
    (found,) = referrals(api, referee_id=referee_id)
    return found


def refer(api: Api, code: str, **fields: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """A new member enrolled with the code: the member and their referral."""
    member = enrol(api, referral_code=code, **fields)
    return member, referral_of(api, member["id"])


def order(
    api: Api,
    clock: FixedClock,
    member: dict[str, Any],
    amount: str,
    moment: datetime,
    order_id: str | None = None,
) -> str:
    """An order of `amount` by the member at `moment` (the clock moves there); its id."""
    clock.set(moment)
    oid = order_id or uid("o")
    data = order_data(line("sku", 1, amount), order_id=oid)
    send(api, event("order.placed", data, customer=member["external_id"], at=moment))
    return oid


def give_back(
    api: Api,
    clock: FixedClock,
    member: dict[str, Any],
    order_id: str,
    moment: datetime,
    amount: str | None = None,
) -> None:
    """A refund of `amount`, or the order's cancellation without one."""
    clock.set(moment)
    kind, data = ("order.cancelled", {"order_id": order_id})
    if amount is not None:
        kind, data = ("order.refunded", {"order_id": order_id, "amount": amount})
    send(api, event(kind, data, customer=member["external_id"], at=moment))


def referral_points(api: Api, member_id: int) -> list[dict[str, Any]]:
    """The member's referral credits and their reversals."""
    return [
        t for t in transactions(api, member_id) if (t["reference"] or "").startswith("referral:")
    ]


def balance(api: Api, member_id: int) -> dict[str, Any]:
    response = api.client.get(f"/v1/members/{member_id}/balance", headers=api.headers())
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


def error(response: Any) -> dict[str, Any]:
    body: dict[str, Any] = response.json()["error"]
    return body
