"""Review of the KPI summary (issue 7, build 1): one test per problem found, each failing until
the problem is fixed. They drive only the API (`GET /v1/analytics/summary`, `PATCH /v1/program`,
events) and the jobs (`run_all`, what `punchcard jobs run` calls), never the KPI internals,
so they stay valid whatever the KPI queries become."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient

from punchcard.app import create_app
from punchcard.config import Settings
from punchcard.db import Database, session_scope
from punchcard.jobs import run_all
from punchcard.kit.clock import FixedClock
from punchcard.ledger import service as ledger
from punchcard.programs import service as programs
from punchcard.programs.domain import ExpiryPolicy
from tests.analytics import kpi_helpers
from tests.analytics.kpi_helpers import Shop, at, get_summary, order
from tests.conftest import Api, ProgramFactory
from tests.events.test_events_api import (
    event,
    line,
    member_id_of,
    order_data,
    per_unit,
    put_rules,
    rule,
    send,
)

shop_fixture = kpi_helpers.shop_fixture


def _summary(api: Api, first: str | None = None, last: str | None = None) -> dict[str, Any]:
    response = get_summary(api, first, last)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _patch(api: Api, **settings: str) -> None:
    response = api.client.patch("/v1/program", json=settings, headers=api.headers())
    assert response.status_code == 200, response.text


def _jobs(db: Database, clock: FixedClock) -> None:
    run_all(db, now=clock(), settings=Settings(database_url=db.url))


def test_orders_in_another_currency_are_not_added_to_the_revenue(
    api: Api, clock: FixedClock
) -> None:
    """Finding 1. Revenue, AOV, campaign revenue and ROI add every order's total whatever its
    currency, so a EUR 100.00 order adds 100 to a USD program's revenue. The prediction
    (analytics/insights/repository.py `_purchases`) already leaves other currencies out; the
    KPIs must too (or convert), else every money figure of a multi-currency shop is wrong."""
    put_rules(api, rule("base", per_unit(1)))
    order(api, clock, "usd-buyer", "usd-1", at(1, 16), line("x", 1, "20.00"))
    clock.set(at(1, 17))
    foreign = order_data(line("x", 1, "100.00"), order_id="eur-1")
    foreign["currency"] = "EUR"
    send(api, event("order.placed", foreign, customer="eur-buyer", at=at(1, 17)))

    found = _summary(api, "2026-01-15", "2026-01-31")

    assert found["currency"] == "USD"
    assert (found["orders"]["revenue"], found["orders"]["average_order_value"]) == (
        "20.00",
        "20.00",
    )
    assert [c["revenue"] for c in found["campaigns"]] == ["20.00"]


def test_one_expired_lot_does_not_write_off_the_whole_liability(
    client: TestClient, db: Database, clock: FixedClock, make_program: ProgramFactory
) -> None:
    """Finding 2. Without the expected_breakage setting the liability deducts the breakage
    "observed so far", expired / (expired + redeemed + donated). Early in a program's life
    that ratio rests on a handful of points: here 10 points expired and nothing was redeemed
    yet, so the observed breakage is 100% and the liability of 1,000 outstanding points is
    reported as 0 points and 0.00 money. A merchant would book no liability at all. The
    estimate needs a floor of evidence (or a cap, or breakage measured as expired / issued over
    lots whose fate is settled) before it may deduct anything like all of the balance."""
    program = make_program(expiry_policy=ExpiryPolicy.DAYS_AFTER_EARN, expiry_value=30)
    api = Api(client, db, program, clock())
    put_rules(api, rule("base", per_unit(1)))
    _patch(api, point_value="0.01")
    order(api, clock, "lapsed", "l1", at(1, 16), line("x", 1, "10.00"))
    order(api, clock, "loyal", "k1", at(3, 1), line("x", 1, "1000.00"))
    clock.set(at(3, 10))
    _jobs(db, clock)  # the lapsed member's 10 points expire (due Feb 15)

    liability = _summary(api, "2026-01-15", "2026-03-10")["liability"]

    assert liability["outstanding_points"] == 1000
    assert liability["expected_breakage"] < 1
    assert liability["expected_redeemable_points"] > 0
    assert Decimal(liability["money"]) > 0


def test_the_liability_money_is_its_redeemable_points_times_the_point_value(
    api: Api, clock: FixedClock
) -> None:
    """Finding 3. docs/kpis.md: money = expected_redeemable_points x point_value. The code
    multiplies the unrounded points (analytics/kpis/domain.py `liability`), so 3 outstanding
    points at 50% breakage show 2 redeemable points but 1.50 of money at 1.00 a point: the two
    figures of one section disagree. Either compute money from the points shown or document
    (and show) the unrounded points."""
    put_rules(api, rule("base", per_unit(1)))
    _patch(api, point_value="1", expected_breakage="0.5")
    order(api, clock, "three", "t1", at(1, 16), line("x", 1, "3.00"))

    liability = _summary(api, "2026-01-15", "2026-01-31")["liability"]

    assert liability["outstanding_points"] == 3
    shown = liability["expected_redeemable_points"] * Decimal(liability["point_value"])
    assert Decimal(liability["money"]) == shown


def test_a_reward_whose_code_was_bought_before_the_range_keeps_its_name(shop: Shop) -> None:
    """Finding 4. A reward row made only of orders within the range that used codes bought
    before it (analytics/kpis/repository.py `rewards`, the `Usage(key, None, ...)` rows) has
    `name: null`, although the reward has a name ("5 off"); null is documented for nothing
    but "pay with points" (whose name is given). Here A bought R's code on Feb 10 and used it
    on Feb 11."""
    rows = shop.summary("2026-02-11", "2026-03-10")["rewards"]

    assert [(r["reward_id"], r["name"], r["orders"]) for r in rows] == [
        (shop.reward_id, "5 off", 1)
    ]


@pytest.mark.parametrize(
    ("first", "last"),
    [
        ("2026-02-05", "2026-02-10"),  # 100 redeemed of 30 issued in the range: 3.333333
        ("2026-01-25", "2026-01-25"),  # only a refund: issued -20, rate -0.0
    ],
)
def test_the_redemption_rate_is_a_share_from_0_to_1(shop: Shop, first: str, last: str) -> None:
    """Finding 5. docs/kpis.md: "Rates are numbers from 0 to 1". The redemption rate divides
    the points redeemed in the range by the points issued in the same range, so a short range
    in which older points are spent gives 3.33 (333%), and a range holding only a refund gives
    a rate of -0.0 over negative issued points. For a merchant the rate should be bounded and
    meaningful: the lifetime ratio up to `to` (or redemptions of the points issued in the
    range), and null when nothing positive was issued."""
    rate = shop.summary(first, last)["rates"]["redemption_rate"]

    assert rate is None or 0 <= rate <= 1, rate
    assert rate is None or str(rate) != "-0.0"


@pytest.fixture
def pg_only(backend: str) -> None:
    if backend != "postgresql":
        pytest.skip("SQLite has one writer: transactions cannot commit out of id order")


@pytest.fixture
def own_api(fresh_db: Database, clock: FixedClock) -> Iterator[Api]:
    """A database of the test's own: the rollup's watermark is shared by all programs."""
    with session_scope(fresh_db.writer) as session:
        program = programs.create_program(
            session, name=f"rollup {uuid.uuid4().hex[:6]}", now=clock()
        )
    app = create_app(Settings(database_url=fresh_db.url), db=fresh_db, clock=clock)
    with TestClient(app) as client:
        yield Api(client, fresh_db, program, clock())


def _adjust(api: Api, member_id: int, points: int) -> None:
    response = api.client.post(
        f"/v1/members/{member_id}/adjustments",
        json={"points": points, "reason": "goodwill"},
        headers=api.headers(),
    )
    assert response.status_code == 201, response.text


def _roll_up(db: Database, clock: FixedClock) -> None:
    """`jobs run` twice, more than the rollup's settling minute apart: it rolls up for sure."""
    clock.set(clock() + timedelta(hours=1))
    _jobs(db, clock)
    clock.set(clock() + timedelta(hours=1))
    _jobs(db, clock)


def test_points_earned_after_a_rollup_are_counted(
    own_api: Api, fresh_db: Database, clock: FixedClock
) -> None:
    """Finding 6 (fails on PostgreSQL). The rollup assumes ledger transaction ids grow with
    time: the summary reads the rollup plus the ids above its watermark. But the express lane
    of POST /v1/events draws ids in blocks of 200 per process (events/express.py `IdBlocks`),
    while adjustments, redemptions, expiry and the careful path take the next sequence value.
    Here an order takes id 1 of its block, an adjustment takes 201, the job rolls up to 201,
    and the next order's id 2 is below the watermark: its 20 points are in neither the rollup
    nor the tail, so issued, outstanding and liability miss them for good. With two server
    workers (two blocks) the same happens on every rollup. The watermark cannot be an id."""
    api = own_api
    put_rules(api, rule("base", per_unit(1)))
    order(api, clock, "first", "o1", at(1, 16), line("x", 1, "10.00"))
    _adjust(api, member_id_of(api, "first"), 5)
    _roll_up(fresh_db, clock)
    order(api, clock, "second", "o2", at(1, 17), line("x", 1, "20.00"))

    points = _summary(api, "2026-01-15", "2026-01-31")["points"]

    assert (points["issued"], points["adjusted"], points["outstanding"]) == (30, 5, 35)


@pytest.mark.usefixtures("pg_only")
def test_a_transaction_that_commits_after_the_rollup_passed_its_id_is_counted(
    own_api: Api, fresh_db: Database, clock: FixedClock
) -> None:
    """Finding 7 (PostgreSQL). Even with ids from the sequence alone, the job rolls up to the
    highest id it saw a minute earlier and assumes that every lower id has committed by then.
    A transaction open longer (a long import, a slow request, a session idle in transaction)
    commits below the watermark and is lost from every points figure for good: here a 5-point
    adjustment that takes its id, then another adjustment commits, the job runs twice, and
    only then the first commits (adjusted 7 instead of 12). Keep the ids skipped by a rollup as
    holes and read them with the tail until they appear, or roll up by commit order."""
    api = own_api
    put_rules(api, rule("base", per_unit(1)))
    order(api, clock, "early", "o1", at(1, 16), line("x", 1, "10.00"))
    early = member_id_of(api, "early")
    slow = fresh_db.writer()
    try:
        ledger.adjust(
            slow, program=api.program, member_id=early, points=5, reason="slow", now=clock()
        )
        slow.flush()  # its id is taken; it commits only after the job has rolled past it
        order(api, clock, "late", "o2", at(1, 17), line("x", 1, "20.00"))
        _adjust(api, member_id_of(api, "late"), 7)
        _roll_up(fresh_db, clock)
        slow.commit()
    finally:
        slow.close()

    points = _summary(api, "2026-01-15", "2026-01-31")["points"]

    assert (points["issued"], points["adjusted"], points["outstanding"]) == (30, 12, 42)
