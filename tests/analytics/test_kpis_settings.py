"""What the program's settings and the rollup job change in the summary, on a program of its
own (built as in tests/analytics/kpi_helpers.py) for each test, since each test changes it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from punchcard.analytics.kpis.tasks import refresh_rollup
from punchcard.db import Database, session_scope
from punchcard.programs import service as programs
from punchcard.programs.domain import Scope
from tests.analytics import kpi_helpers
from tests.analytics.kpi_helpers import Shop

shop_fixture = kpi_helpers.shop_fixture
RANGE = ("2026-01-15", "2026-03-10")


@pytest.fixture
def fresh_shop(shop: Shop) -> Iterator[Shop]:
    """The module's program, with its settings put back after each test."""
    yield shop
    _patch(shop, point_value="0.01", expected_breakage=None)


def _patch(shop: Shop, **settings: Any) -> None:
    """Through the service: PATCH /v1/program cannot set these back to null (yet)."""
    values = {k: None if v is None else Decimal(v) for k, v in settings.items()}
    with session_scope(shop.db.writer) as session:
        programs.update_program(session, shop.api.program.id, changes=values, now=shop.clock())


def test_the_expected_breakage_setting_wins_over_the_observed(fresh_shop: Shop) -> None:
    _patch(fresh_shop, expected_breakage="0.25")

    body = fresh_shop.summary(*RANGE)

    assert body["liability"] == {
        "outstanding_points": 40,
        "expected_breakage": 0.25,
        "breakage_source": "setting",
        "expected_redeemable_points": 30,
        "point_value": "0.010000",
        "money": "0.30",
    }
    assert any("expected_breakage setting" in note for note in body["notes"])


def test_without_a_point_value_money_figures_are_null_and_a_note_says_why(
    fresh_shop: Shop,
) -> None:
    _patch(fresh_shop, point_value=None)

    body = fresh_shop.summary(*RANGE)

    assert body["liability"]["money"] is None
    assert body["liability"]["expected_redeemable_points"] == 40
    assert (body["roi"]["cost"], body["roi"]["accrual_cost"], body["roi"]["roi"]) == (
        None,
        None,
        None,
    )
    assert body["roi"]["attributable_revenue"] == "40.00"
    assert [c["cost"] for c in body["campaigns"]] == [None]
    assert [r["cost"] for r in body["rewards"]] == [None]
    assert any("point_value is not set" in note for note in body["notes"])


def test_the_rollup_changes_no_figure_and_new_points_still_count(
    fresh_shop: Shop, db: Database
) -> None:
    before = fresh_shop.summary(*RANGE)
    now = fresh_shop.clock()

    refresh_rollup(db, now=now, settle=timedelta(0))
    after_rollup = fresh_shop.summary(*RANGE)
    response = fresh_shop.api.client.post(
        f"/v1/members/{fresh_shop.members['B']}/adjustments",
        json={"points": 7, "reason": "goodwill"},
        headers=fresh_shop.api.headers(Scope.ADMIN),
    )
    assert response.status_code == 201, response.text
    with_tail = fresh_shop.summary(*RANGE)
    refresh_rollup(db, now=now, settle=timedelta(0))
    rolled_again = fresh_shop.summary(*RANGE)

    assert after_rollup == before
    assert (with_tail["points"]["adjusted"], with_tail["points"]["outstanding"]) == (7, 47)
    assert rolled_again == with_tail
    _take_back(fresh_shop)


def _take_back(shop: Shop) -> None:
    response = shop.api.client.post(
        f"/v1/members/{shop.members['B']}/adjustments",
        json={"points": -7, "reason": "undo goodwill"},
        headers=shop.api.headers(Scope.ADMIN),
    )
    assert response.status_code == 201, response.text
