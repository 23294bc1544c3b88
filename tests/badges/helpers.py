"""What the badge tests share: defining badges, sending events, reading a member's badges."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from punchcard.programs.domain import Scope
from tests.conftest import START, Api
from tests.events.test_events_api import event, line, member_id_of, order_data, send, uid


def make_badge(api: Api, criteria: dict[str, Any], **fields: Any) -> dict[str, Any]:
    body = {"name": fields.pop("name", f"badge {uid('b')}"), "criteria": criteria, **fields}
    response = api.client.post("/v1/badges", json=body, headers=api.headers())
    assert response.status_code == 201, response.text
    found: dict[str, Any] = response.json()
    return found


def order(
    api: Api, customer: str, amount: str = "10.00", at: datetime = START, **envelope: Any
) -> dict[str, Any]:
    data = order_data(line("sku", 1, amount))
    return send(api, event("order.placed", data, customer=customer, at=at, **envelope))


def action(
    api: Api, customer: str, kind: str, data: dict[str, Any] | None = None, **envelope: Any
) -> dict[str, Any]:
    return send(api, event(kind, data or {}, customer=customer, **envelope))


def badges_of(api: Api, member_id: int, locked: bool = False) -> dict[str, Any]:
    params = {"include": "locked"} if locked else {}
    response = api.client.get(
        f"/v1/members/{member_id}/badges", params=params, headers=api.headers(Scope.STOREFRONT)
    )
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


def earned(api: Api, member_id: int) -> dict[int, dict[str, Any]]:
    return {b["badge_id"]: b for b in badges_of(api, member_id)["earned"]}


def badge_points(api: Api, member_id: int) -> list[int]:
    """The points of every badge credit in the member's history."""
    response = api.client.get(
        f"/v1/members/{member_id}/transactions", params={"limit": 200}, headers=api.headers()
    )
    assert response.status_code == 200, response.text
    return [t["points"] for t in response.json()["items"] if t["reason"] == "badge"]


def customer_id(api: Api, customer: str) -> int:
    return member_id_of(api, customer)
