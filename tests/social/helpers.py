"""Building blocks of the social sharing tests: settings, members, shares, clicks, orders."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

from punchcard.programs.domain import Scope
from tests.conftest import Api

BROWSER = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Safari/604.1"
SHOP = "https://shop.example.com/products/blue-mug"


def uid(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def put_settings(api: Api, **fields: Any) -> dict[str, Any]:
    body = {"points_per_share": 10, "daily_cap_per_platform": 2, "target_url": SHOP, **fields}
    response = api.client.put("/v1/social/settings", json=body, headers=api.headers())
    assert response.status_code == 200, response.text
    settings: dict[str, Any] = response.json()
    return settings


def enrol(api: Api, external_id: str | None = None, **signup: Any) -> Any:
    """The raw answer: 201 for a new member, 200 for an existing one."""
    body = {"external_id": external_id or uid("cust"), **signup}
    return api.client.post("/v1/members", json=body, headers=api.headers(Scope.STOREFRONT))


def member(api: Api, **signup: Any) -> int:
    response = enrol(api, **signup)
    assert response.status_code == 201, response.text
    member_id: int = response.json()["id"]
    return member_id


def share_response(api: Api, member_id: int, platform: str = "facebook", **fields: Any) -> Any:
    return api.client.post(
        f"/v1/members/{member_id}/shares",
        json={"platform": platform, **fields},
        headers=api.headers(Scope.STOREFRONT),
    )


def share(api: Api, member_id: int, platform: str = "facebook", **fields: Any) -> dict[str, Any]:
    response = share_response(api, member_id, platform, **fields)
    assert response.status_code in (200, 201), response.text
    body: dict[str, Any] = response.json()
    return body


def click(api: Api, token: str, user_agent: str = BROWSER) -> Any:
    """Follow a share link as a browser would, without following the redirect."""
    return api.client.get(f"/s/{token}", headers={"User-Agent": user_agent}, follow_redirects=False)


def query_of(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query, keep_blank_values=True)


def available(api: Api, member_id: int) -> int:
    response = api.client.get(f"/v1/members/{member_id}/balance", headers=api.headers())
    assert response.status_code == 200, response.text
    points: int = response.json()["available"]
    return points


def links(api: Api, member_id: int, scope: Scope = Scope.ANALYST) -> list[dict[str, Any]]:
    response = api.client.get(f"/v1/members/{member_id}/shares", headers=api.headers(scope))
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def summary(api: Api, scope: Scope = Scope.ANALYST) -> dict[str, dict[str, Any]]:
    response = api.client.get("/v1/social/summary", headers=api.headers(scope))
    assert response.status_code == 200, response.text
    return {p["platform"]: p for p in response.json()["platforms"]}


def external_id_of(api: Api, member_id: int) -> str:
    response = api.client.get(f"/v1/members/{member_id}", headers=api.headers())
    assert response.status_code == 200, response.text
    external_id: str = response.json()["external_id"]
    return external_id


def _event(api: Api, member_id: int, event_type: str, data: dict[str, Any], at: datetime) -> Any:
    body = {
        "id": uid("evt"),
        "type": event_type,
        "member": {"external_id": external_id_of(api, member_id)},
        "occurred_at": at.isoformat(),
        "data": data,
    }
    return api.client.post("/v1/events", json=body, headers=api.headers(Scope.STOREFRONT))


def order_event(api: Api, member_id: int, total: str, at: datetime) -> str:
    """An order.placed for the member; its order id."""
    order_id = uid("order")
    data = {"order_id": order_id, "currency": "USD", "total": total, "lines": []}
    response = _event(api, member_id, "order.placed", data, at)
    assert response.status_code == 200, response.text
    return order_id


def refund_event(
    api: Api, member_id: int, order_id: str, at: datetime, amount: str | None = None
) -> None:
    """A refund of `amount`, or the cancellation of the whole order."""
    event_type, data = (
        ("order.cancelled", {"order_id": order_id})
        if amount is None
        else ("order.refunded", {"order_id": order_id, "amount": amount})
    )
    response = _event(api, member_id, event_type, data, at)
    assert response.status_code == 200, response.text


def error(response: Any) -> dict[str, Any]:
    body: dict[str, Any] = response.json()["error"]
    return body
