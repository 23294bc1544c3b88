"""The monthly snapshots behind the summary (refresh.py, snapshots.py) on the hand-computed
program of kpi_helpers: the figures are the same read from snapshots as read live, rows
written after a build are counted at once (the live tail), and a refund of an order already
in a snapshot shows once the job has run (the one staleness docs/kpis.md accepts)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from punchcard.analytics.kpis.tasks import refresh_rollup
from punchcard.models.analytics import Rollup, Snapshot
from tests.analytics import kpi_helpers
from tests.analytics.kpi_helpers import Shop, at, order
from tests.events.test_events_api import event, line, send

shop_fixture = kpi_helpers.shop_fixture


def _job(shop: Shop) -> None:
    """Two runs of the KPI job (points rollup and snapshots) without a settle delay: the
    first notes the horizons, the second takes them."""
    for _ in range(2):
        refresh_rollup(shop.db, now=shop.clock(), settle=timedelta(0))


def _kinds(shop: Shop) -> set[str]:
    with shop.db.reader() as session:
        rows = session.execute(
            select(Snapshot.kind).where(Snapshot.program_id == shop.api.program.id)
        ).all()
    return {r[0] for r in rows}


def _figures(shop: Shop) -> list[dict[str, Any]]:
    ranges: list[tuple[str | None, str | None]] = [
        (None, None),
        ("2026-02-01", "2026-03-10"),
        (None, "2026-02-05"),
        ("2026-01-21", "2026-01-21"),
    ]
    return [shop.summary(first, last) for first, last in ranges]


def test_snapshots_tail_and_refunds(shop: Shop) -> None:
    live = _figures(shop)  # the shop's job ran once: every row is still above the watermark

    _job(shop)

    assert _kinds(shop) == {"members", "orders", "events", "campaigns", "rewards"}
    with shop.db.reader() as session:
        marks = dict(session.execute(select(Rollup.name, Rollup.last_id)).all())
    assert marks["kpi_events"] > 0
    assert marks["kpi_members"] > 0
    assert _figures(shop) == live

    # A new order is counted before any job runs: it is read live above the watermark.
    a = f"a-{shop.api.program.id}"
    order(shop.api, shop.clock, a, f"a4-{shop.api.program.id}", at(3, 10, 13), line("x", 1, "10"))
    shop.clock.set(at(3, 10, 14))
    orders = shop.summary()["orders"]
    assert (orders["orders"], orders["revenue"]) == (6, "250.00")

    # A refund of a3 (in a snapshot, used with the reward's code) shows after the job.
    refund = {"order_id": f"a3-{shop.api.program.id}"}
    send(shop.api, event("order.cancelled", refund, customer=a, at=at(3, 10, 14)))
    shop.clock.set(at(3, 10, 15))  # the job's time bound passes the refund's creation
    _job(shop)
    whole = shop.summary()
    assert (whole["orders"]["orders"], whole["orders"]["revenue"]) == (5, "210.00")
    assert whole["campaigns"][0]["orders"] == 5
    assert whole["campaigns"][0]["revenue"] == "210.00"
    assert whole["campaigns"][0]["points"] == 240 + 10 - 40
    assert whole["rewards"][0]["orders"] == 0
    assert whole["rewards"][0]["revenue"] == "0.00"
    assert (whole["roi"]["attributable_orders"], whole["roi"]["attributable_revenue"]) == (
        0,
        "0.00",
    )
    # And reading the rebuilt snapshots gives what reading every row live would.
    assert shop.summary("2026-02-01", "2026-02-28")["orders"]["orders"] == 2


def test_a_currency_change_is_noted_until_the_job_builds_the_months_again(shop: Shop) -> None:
    shop.clock.set(at(3, 11))
    _job(shop)
    assert shop.summary()["orders"]["orders"] > 0

    changed = shop.api.client.patch(
        "/v1/program", json={"currency": "EUR"}, headers=shop.api.headers()
    )
    assert changed.status_code == 200, changed.text
    stale = shop.summary()
    assert any("currency changed" in note for note in stale["notes"])

    _job(shop)
    rebuilt = shop.summary()
    assert not any("currency changed" in note for note in rebuilt["notes"])
    # Every order was in USD: none counts in the program's currency now.
    assert (rebuilt["orders"]["orders"], rebuilt["orders"]["revenue"]) == (0, "0.00")
    assert rebuilt["campaigns"][0]["orders"] == 0
