"""GET /v1/analytics/summary: who may call it, what it refuses, and what it answers for a
program with nothing in it, with pending points, or beside another program's data."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from punchcard.config import Settings
from punchcard.db import Database
from punchcard.jobs import run_all
from punchcard.kit.clock import FixedClock
from punchcard.programs.domain import Scope
from tests.analytics import kpi_helpers
from tests.analytics.kpi_helpers import Shop, at, get_summary, order
from tests.conftest import START, Api, ProgramFactory
from tests.events.test_events_api import line, per_unit, put_rules, rule

shop_fixture = kpi_helpers.shop_fixture


@pytest.mark.parametrize("scope", [Scope.ADMIN, Scope.ANALYST])
def test_admin_and_analyst_keys_may_read_it(api: Api, scope: Scope) -> None:
    assert get_summary(api, scope=scope).status_code == 200


@pytest.mark.parametrize("scope", [Scope.STOREFRONT, Scope.POS])
def test_storefront_and_till_keys_are_refused(api: Api, scope: Scope) -> None:
    response = get_summary(api, scope=scope)

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "insufficient_scope"


def test_no_key_is_refused(api: Api) -> None:
    assert api.client.get("/v1/analytics/summary").status_code == 401


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"from": "2026-02-30"}, "invalid_date"),
        ({"to": "yesterday"}, "invalid_date"),
        ({"from": ""}, "invalid_date"),
        ({"from": "2026-03-01", "to": "2026-02-01"}, "invalid_date_range"),
        ({"from": "0001-01-01"}, "date_out_of_range"),
        ({"to": "9999-12-31"}, "date_out_of_range"),
    ],
)
def test_bad_dates_are_refused_with_a_code(api: Api, params: dict[str, str], code: str) -> None:
    response = api.client.get("/v1/analytics/summary", params=params, headers=api.headers())

    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == code


def test_a_program_with_no_data_gives_zeros_and_nulls(api: Api) -> None:
    body = get_summary(api).json()

    assert (body["from"], body["to"]) == (str(START.date()), str(START.date()))
    assert body["members"] == {"enrolled": 0, "total": 0, "active_30d": 0, "active_90d": 0}
    assert set(body["points"].values()) == {0}
    assert body["rates"] == {"redemption_rate": None, "breakage_rate": None}
    assert body["liability"] == {
        "outstanding_points": 0,
        "expected_breakage": 0.0,
        "breakage_source": "none",
        "expected_redeemable_points": 0,
        "point_value": None,
        "money": None,
    }
    assert body["orders"] == {
        "orders": 0,
        "revenue": "0.00",
        "buyers": 0,
        "repeat_buyers": 0,
        "repeat_purchase_rate": None,
        "average_order_value": None,
        "purchase_frequency": None,
    }
    assert body["churn"]["churn_rate"] is None
    for section in ("retention", "tier_mix", "by_channel", "by_tier", "campaigns", "rewards"):
        assert body[section] == [], section
    assert body["roi"]["roi"] is None
    assert body["roi"]["cost"] is None
    assert any("point_value is not set" in note for note in body["notes"])


def test_another_programs_data_is_never_counted(shop: Shop, api: Api, clock: FixedClock) -> None:
    before = shop.summary()
    put_rules(api, rule("base", per_unit(1)))
    order(api, clock, "stranger", "s1", at(1, 16), line("x", 1, "500.00"))

    assert shop.summary() == before
    mine = get_summary(api, "2026-01-15", "2026-03-10").json()
    assert (mine["members"]["total"], mine["orders"]["orders"], mine["points"]["issued"]) == (
        1,
        1,
        500,
    )


def test_pending_points_count_until_the_return_window_closes(
    client: TestClient, db: Database, clock: FixedClock, make_program: ProgramFactory
) -> None:
    api = Api(client, db, make_program(pending_days=14), clock())
    put_rules(api, rule("base", per_unit(1)))
    order(api, clock, "p", "p1", at(1, 16), line("x", 1, "25.00"))
    clock.set(at(1, 31))
    run_all(db, now=clock(), settings=Settings(database_url=db.url))

    early = get_summary(api, last="2026-01-20").json()["points"]
    late = get_summary(api, last="2026-01-31").json()["points"]

    assert (early["issued"], early["pending"], early["outstanding"]) == (25, 25, 0)
    assert (late["issued"], late["pending"], late["outstanding"]) == (25, 0, 25)


def test_the_clock_gives_the_default_to(api: Api, clock: FixedClock) -> None:
    clock.set(START + timedelta(days=40))

    body: dict[str, Any] = get_summary(api).json()

    assert body["to"] == str((START + timedelta(days=40)).date())
