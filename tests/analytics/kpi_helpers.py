"""A small program whose every KPI is computed by hand, built through the real API and jobs.

    day     what happens (USD, base rule: 1 point per unit; ladder Bronze 0 / Silver 100 spend;
            points expire 30 days after they are earned; point_value 0.01)
    Jan 15  A enrols on the web
    Jan 16  A orders a1, 120.00 -> 120 points, A becomes Silver
    Jan 20  B enrols in the app
    Jan 21  B orders b1, 5 x 10.00 -> 50 points
    Jan 25  B returns 2 of b1's 5 lines: 20.00 refunded, 20 points reversed (b1 keeps 30)
    Feb 03  C enrols at the till (pos)
    Feb 04  C orders c1, 20.00 -> 20 points
    Feb 05  A orders a2, 30.00 -> 30 points
    Feb 10  A redeems reward R (100 points, from a1's lot: 20 left there) and gets a code
    Feb 11  A orders a3, 40.00, with R's code -> 40 points
    Mar 10  the jobs expire what is due: A 20 (a1, due Feb 15) + 30 (a2, due Mar 7),
            B 30 (b1, due Feb 20), C 20 (c1, due Mar 6): 100 points, dated Mar 10

So over Jan 15 .. Mar 10: issued 120 + 50 - 20 + 20 + 30 + 40 = 240, redeemed 100, expired
100, outstanding 40 (A's a3), orders 5 with revenue 120 + 30 + 20 + 30 + 40 = 240.00.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from punchcard.app import create_app
from punchcard.config import Settings
from punchcard.db import Database, session_scope
from punchcard.jobs import run_all
from punchcard.kit.clock import FixedClock
from punchcard.programs import service as programs
from punchcard.programs.domain import ExpiryPolicy, Scope
from tests.conftest import Api
from tests.events.test_events_api import event, line, order_data, per_unit, put_rules, rule, send
from tests.rewards.helpers import create_reward

FIRST = date(2026, 1, 15)
LAST = date(2026, 3, 10)


def at(month: int, day: int, hour: int = 12) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


@dataclass
class Shop:
    api: Api
    clock: FixedClock
    db: Database
    members: dict[str, int]
    reward_id: int

    def summary(
        self, first: str | None = None, last: str | None = None, scope: Scope = Scope.ANALYST
    ) -> dict[str, Any]:
        response = get_summary(self.api, first, last, scope)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body


def get_summary(
    api: Api, first: str | None = None, last: str | None = None, scope: Scope = Scope.ANALYST
) -> Any:
    params = {k: v for k, v in (("from", first), ("to", last)) if v is not None}
    return api.client.get("/v1/analytics/summary", params=params, headers=api.headers(scope))


def enrol(api: Api, clock: FixedClock, external_id: str, channel: str, moment: datetime) -> int:
    clock.set(moment)
    response = api.client.post(
        "/v1/members", json={"external_id": external_id, "channel": channel}, headers=api.headers()
    )
    assert response.status_code == 201, response.text
    member_id: int = response.json()["id"]
    return member_id


def order(
    api: Api, clock: FixedClock, customer: str, order_id: str, moment: datetime, *lines: Any
) -> None:
    clock.set(moment)
    send(
        api,
        event("order.placed", order_data(*lines, order_id=order_id), customer=customer, at=moment),
    )


def build(api: Api, client: TestClient, db: Database, clock: FixedClock) -> Shop:
    """The program of the module docstring, with the clock left on Mar 10."""
    tag = str(api.program.id)
    clock.set(at(1, 15, 9))
    patch = api.client.patch("/v1/program", json={"point_value": "0.01"}, headers=api.headers())
    assert patch.status_code == 200, patch.text
    put_rules(api, rule("base", per_unit(1)))
    tiers = {
        "metric": "spend",
        "window": "lifetime",
        "tiers": [{"name": "Bronze", "threshold": 0}, {"name": "Silver", "threshold": 100}],
    }
    response = api.client.put("/v1/tiers", json=tiers, headers=api.headers())
    assert response.status_code == 200, response.text
    reward = create_reward(api, points_cost=100)

    a, b, c = f"a-{tag}", f"b-{tag}", f"c-{tag}"
    members = {"A": enrol(api, clock, a, "web", at(1, 15))}
    order(api, clock, a, f"a1-{tag}", at(1, 16), line("x", 1, "120.00"))
    members["B"] = enrol(api, clock, b, "app", at(1, 20))
    order(api, clock, b, f"b1-{tag}", at(1, 21), line("x", 5, "10.00"))
    clock.set(at(1, 25))
    refund = {"order_id": f"b1-{tag}", "lines": [{"sku": "x", "quantity": 2}]}
    send(api, event("order.refunded", refund, customer=b, at=at(1, 25)))
    members["C"] = enrol(api, clock, c, "pos", at(2, 3))
    order(api, clock, c, f"c1-{tag}", at(2, 4), line("x", 1, "20.00"))
    order(api, clock, a, f"a2-{tag}", at(2, 5), line("x", 1, "30.00"))
    clock.set(at(2, 10))
    redeemed = api.client.post(
        f"/v1/members/{members['A']}/redemptions",
        json={"reward_id": reward["id"]},
        headers=api.headers(Scope.STOREFRONT),
    )
    assert redeemed.status_code == 201, redeemed.text
    clock.set(at(2, 11, 10))
    used = api.client.post(
        "/v1/codes/redeem",
        json={"code": redeemed.json()["code"], "order_id": f"a3-{tag}"},
        headers=api.headers(Scope.STOREFRONT),
    )
    assert used.status_code == 200, used.text
    order(api, clock, a, f"a3-{tag}", at(2, 11), line("x", 1, "40.00"))
    clock.set(at(3, 10))
    run_all(db, now=clock(), settings=Settings(database_url=db.url))
    return Shop(api, clock, db, members, int(reward["id"]))


@pytest.fixture(scope="module", name="shop")
def shop_fixture(db: Database) -> Iterator[Shop]:
    clock = FixedClock(at(1, 15, 8))
    with session_scope(db.writer) as session:
        program = programs.create_program(
            session,
            name=f"kpis {uuid.uuid4().hex[:6]}",
            now=clock(),
            expiry_policy=ExpiryPolicy.DAYS_AFTER_EARN,
            expiry_value=30,
        )
    app = create_app(Settings(database_url=db.url), db=db, clock=clock)
    with TestClient(app) as client:
        api = Api(client, db, program, clock())
        yield build(api, client, db, clock)
