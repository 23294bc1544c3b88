"""What the tier tests share: a ladder, orders at given moments, the job, and readers."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text

from punchcard.db import Database
from punchcard.kit.clock import FixedClock
from punchcard.tiers.tasks import reevaluate
from tests.conftest import Api
from tests.events.test_events_api import event, line, order_data, send, uid


def at(year: int, month: int = 1, day: int = 1, hour: int = 12) -> datetime:
    return datetime(year, month, day, hour, tzinfo=UTC)


def ladder(**policy: Any) -> dict[str, Any]:
    """Member (everyone), Silver 200, Gold 500 (x1.5), Black by invitation, Platinum 1000."""
    body: dict[str, Any] = {
        "metric": "spend",
        "window": "calendar_year",
        "tiers": [
            {"name": "Member", "threshold": 0},
            {"name": "Silver", "threshold": "200.00", "multiplier": "1.25"},
            {"name": "Gold", "threshold": 500, "multiplier": "1.5", "perks": ["free shipping"]},
            {"name": "Black", "threshold": 800, "multiplier": 2, "invitation_only": True},
            {"name": "Platinum", "threshold": 1000, "multiplier": 3},
        ],
    }
    body.update(policy)
    return body


def put_tiers(api: Api, **policy: Any) -> dict[str, Any]:
    response = api.client.put("/v1/tiers", json=ladder(**policy), headers=api.headers())
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


def buy(
    api: Api, clock: FixedClock, customer: str, amount: str, moment: datetime, **more: Any
) -> dict[str, Any]:
    """An order of `amount` placed at `moment` (the clock moves there first)."""
    clock.set(moment)
    data = order_data(line("sku", 1, amount), order_id=more.pop("order_id", None) or uid("o"))
    return send(api, event("order.placed", data, customer=customer, at=moment, **more))


def refund(
    api: Api, clock: FixedClock, customer: str, order_id: str, amount: str, moment: datetime
) -> dict[str, Any]:
    clock.set(moment)
    body = event("order.refunded", {"order_id": order_id, "amount": amount}, customer=customer)
    body["occurred_at"] = moment.isoformat()
    return send(api, body)


def tier_of(api: Api, member_id: int) -> dict[str, Any]:
    response = api.client.get(f"/v1/members/{member_id}/tier", headers=api.headers())
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


def history(api: Api, member_id: int, **params: Any) -> list[dict[str, Any]]:
    response = api.client.get(
        f"/v1/members/{member_id}/tier/history", params=params, headers=api.headers()
    )
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def run_job(db: Database, api: Api, moment: datetime) -> int:
    return reevaluate(db, now=moment, program_id=api.program.id)


def tier_events(db: Database, program_id: int, member_id: int) -> list[tuple[str, str]]:
    """(type, data) of the member's tier events, oldest first."""
    with db.reader() as session:
        rows = session.execute(
            text(
                "SELECT type, data FROM events WHERE program_id = :p AND member_id = :m "
                "AND type LIKE 'tier.%' ORDER BY id"
            ),
            {"p": program_id, "m": member_id},
        ).all()
    return [(str(r[0]), str(r[1])) for r in rows]
