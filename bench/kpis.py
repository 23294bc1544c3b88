"""KPI summary on 10 million ledger transactions: seeds a scratch PostgreSQL database with one
program of ~500k members, 10M ledger transactions (20M postings), 2M orders (each with its
event and award), 0.5M other events, tiers and redemptions over two years, then times
`GET /v1/analytics/summary` through the service and over HTTP, and the snapshot job (its
first build of every month, then an incremental run).

    .venv/bin/python -m bench.kpis [--transactions 10000000] [--members 500000] [--runs 5]
        [--keep] [--measure-only [--rebuild]]

Seeding is set-based SQL (generate_series), with foreign-key triggers off for the session
and the big tables' secondary indexes built after the load, then VACUUM ANALYZE. The daily
points rollup is then refreshed (timed) and a tail of --tail transactions is written above its
watermark, which every summary reads live, as it would between two job runs. Latencies are
p50/p99 in milliseconds over --runs calls after one warm-up, for the whole history (the
default range) and for the last 90 days. PostgreSQL is PUNCHCARD_BENCH_POSTGRES_URL (default
postgres@127.0.0.1); the scratch database pcbench_kpis is dropped at the end unless --keep.
Prints JSON.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.engine import make_url

from bench.common import PG_ADMIN, pg_database, scratch_database
from punchcard import migrate
from punchcard.analytics.kpis import rollup, service
from punchcard.analytics.kpis.domain import check_range
from punchcard.analytics.kpis.figures import Figures
from punchcard.analytics.kpis.sql import tune
from punchcard.analytics.kpis.tasks import refresh_rollup, refresh_snapshots
from punchcard.app import create_app
from punchcard.config import Settings
from punchcard.db import Database, open_database, session_scope
from punchcard.programs import service as programs
from punchcard.programs.domain import Scope
from punchcard.tiers import service as tiers
from punchcard.tiers.schemas import PolicyIn

NOW = datetime(2026, 3, 4, 12, tzinfo=UTC)
START = NOW - timedelta(days=730)
BIG = ("ledger_transactions", "postings", "events", "orders", "awards")

# Kinds by g % 20: earn (0-8 and 18-19; 1 goes to pending), release (9), spend (10-12),
# expire (13-14), reversal of the earn 15 ids before (15), adjustment credit (16-17).
# Orders are the earns with g % 20 in (0, 2, 3, 4); other events the earns with g % 20 = 6.
_KIND = (
    "CASE WHEN g % 20 IN (0,1,2,3,4,5,6,7,8,18,19) THEN 'earn' WHEN g % 20 = 9 THEN 'release' "
    "WHEN g % 20 IN (10,11,12) THEN 'spend' WHEN g % 20 IN (13,14) THEN 'expire' "
    "WHEN g % 20 = 15 THEN 'reversal' ELSE 'adjust_credit' END"
)
# A release and a reversal belong to the member (and points) of the earn they follow up.
_BASE = "(CASE WHEN g % 20 = 9 THEN g - 8 WHEN g % 20 = 15 THEN g - 15 ELSE g END)"
_MEMBER = f"((({_BASE})::bigint * 7919) % 1000003 % :m + 1)"
_AT = "(CAST(:start AS timestamp) + (g::float8 / :n) * interval '730 days')"
_SEED = {
    "members": (
        "INSERT INTO members (id, program_id, external_id, channel, card_number, qr_token, "
        "created_at, updated_at) SELECT g, :p, 'm' || g, "
        "(ARRAY['web','app','pos','other'])[1 + g % 4], lpad(g::text, 16, '0'), md5(g::text), "
        "(CAST(:start AS timestamp) + (g::float8 / :m) * interval '700 days'), :now "
        "FROM generate_series(1, :m) g"
    ),
    "member_tiers": (
        "INSERT INTO member_tiers (program_id, member_id, tier, since, valid_until, granted, "
        "updated_at) SELECT :p, g, CASE WHEN g % 100 < 7 THEN 'Silver' ELSE 'Gold' END, :now, "
        "NULL, false, :now FROM generate_series(1, :m) g WHERE g % 100 < 10"
    ),
    "ledger_transactions": (
        "INSERT INTO ledger_transactions (id, program_id, member_id, kind, points, reason, "
        f"reference, reverses_id, occurred_at, created_at, meta, digest) SELECT g, :p, {_MEMBER}, "
        f"{_KIND}, 10 + {_BASE} % 90, 'bench', NULL, CASE WHEN g % 20 = 15 THEN g - 15 END, {_AT}, "
        f"{_AT}, NULL, md5(g::text) || md5((g + 1)::text) FROM generate_series(1, :n) g"
    ),
    "postings": (
        "INSERT INTO postings (program_id, transaction_id, member_id, account, amount) "
        "SELECT :p, t.id, t.member_id, CASE "
        "WHEN t.kind = 'earn' AND leg = 1 THEN CASE WHEN t.id % 20 = 1 THEN 'member:pending' "
        "ELSE 'member:available' END WHEN t.kind = 'earn' THEN 'program:issued' "
        "WHEN t.kind = 'release' AND leg = 1 THEN 'member:pending' "
        "WHEN t.kind = 'release' THEN 'member:available' "
        "WHEN t.kind = 'adjust_credit' AND leg = 1 THEN 'member:available' "
        "WHEN t.kind = 'adjust_credit' THEN 'program:adjusted' "
        "WHEN leg = 1 THEN 'member:available' WHEN t.kind = 'spend' THEN 'program:redeemed' "
        "WHEN t.kind = 'expire' THEN 'program:expired' ELSE 'program:issued' END, "
        "CASE WHEN (t.kind IN ('earn', 'adjust_credit') AND leg = 1) "
        "OR (t.kind NOT IN ('earn', 'adjust_credit', 'release') AND leg = 2) "
        "OR (t.kind = 'release' AND leg = 2) THEN t.points ELSE -t.points END "
        "FROM ledger_transactions t CROSS JOIN (VALUES (1), (2)) v(leg) "
        "WHERE t.id BETWEEN :lo AND :hi"
    ),
    "events": (
        "INSERT INTO events (id, program_id, source_id, type, member_id, occurred_at, channel, "
        "data, result, explanation, transaction_id, created_at) SELECT g, :p, 'e' || g, "
        "CASE WHEN g % 20 = 6 THEN 'review.posted' ELSE 'order.placed' END, "
        f"{_MEMBER}, {_AT}, 'web', '{{}}', NULL, NULL, g, {_AT} "
        "FROM generate_series(1, :n) g WHERE g % 20 IN (0, 2, 3, 4, 6)"
    ),
    "orders": (
        "INSERT INTO orders (program_id, order_id, member_id, event_id, transaction_id, currency, "
        "total, lines, refunded_amount, refunded_quantities, refunded_values, status, placed_at) "
        f"SELECT :p, 'o' || g, {_MEMBER}, g, g, 'USD', (10 + g % 90) * 1.5, '[]', "
        "CASE WHEN g % 400 = 0 THEN (10 + g % 90) * 1.5 ELSE 0 END, '{}', '{}', "
        f"CASE WHEN g % 400 = 0 THEN 'refunded' ELSE 'placed' END, {_AT} "
        "FROM generate_series(1, :n) g WHERE g % 20 IN (0, 2, 3, 4)"
    ),
    "awards": (
        "INSERT INTO awards (program_id, member_id, event_id, transaction_id, rule_id, "
        "rule_version, effect, points, reversed_points, lines, occurred_at) "
        f"SELECT :p, {_MEMBER}, g, g, CASE WHEN g % 3 = 0 THEN 'promo' ELSE 'base' END, 1, "
        f"'points', 10 + g % 90, CASE WHEN g % 400 = 0 THEN 10 + g % 90 ELSE 0 END, '[]', {_AT} "
        "FROM generate_series(1, :n) g WHERE g % 20 IN (0, 2, 3, 4)"
    ),
    "rewards": (
        "INSERT INTO rewards (program_id, name, type, points_cost, value, claimed, "
        "code_valid_days, active, created_at, updated_at) SELECT :p, 'Reward ' || g, "
        "'discount_amount', 100 * g, (5 * g)::text, 0, 90, true, :now, :now "
        "FROM generate_series(1, 5) g"
    ),
    # One spend in ten is a reward redemption; half of those codes were used on the order
    # placed 10 ids before (an order id: g % 20 = 0 there).
    "redemptions": (
        "INSERT INTO redemptions (program_id, member_id, reward_id, type, points, status, "
        "transaction_id, code_hash, used_at, used_order_id, created_at, updated_at) "
        "SELECT :p, t.member_id, r.first + t.id % 5, 'discount_amount', t.points, "
        "CASE WHEN t.id % 20 = 10 THEN 'used' ELSE 'issued' END, t.id, md5('c' || t.id), "
        "CASE WHEN t.id % 20 = 10 THEN t.occurred_at END, "
        "CASE WHEN t.id % 20 = 10 THEN 'o' || (t.id - 10) END, t.occurred_at, t.occurred_at "
        "FROM ledger_transactions t, (SELECT min(id) AS first FROM rewards) r "
        "WHERE t.kind = 'spend' AND t.id % 200 IN (10, 11)"
    ),
}


def _percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    p99 = ordered[max(0, int(len(ordered) * 0.99) - 1)]
    return {"p50_ms": round(1000 * statistics.median(ordered), 1), "p99_ms": round(1000 * p99, 1)}


def _timed(call: Callable[[], object], runs: int) -> dict[str, float]:
    call()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        samples.append(time.perf_counter() - started)
    return _percentiles(samples)


def _secondary_indexes(db: Database) -> list[tuple[str, str]]:
    with db.engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT i.indexname, i.indexdef FROM pg_indexes i JOIN pg_index x "
                "ON x.indexrelid = i.indexname::regclass WHERE i.schemaname = 'public' "
                "AND i.tablename = ANY(:t) AND NOT x.indisprimary AND NOT x.indisunique"
            ),
            {"t": list(BIG)},
        ).all()
    return [(r[0], r[1]) for r in rows]


def _run(db: Database, sql: str, params: dict[str, Any]) -> None:
    with db.engine.connect() as conn:
        conn.exec_driver_sql("SET session_replication_role = replica")  # no FK triggers
        conn.execute(text(sql), params)
        conn.commit()


def _setup(db: Database) -> tuple[int, str]:
    with session_scope(db.writer) as session:
        program = programs.create_program(session, name="kpi bench", now=START)
        programs.update_program(
            session, program.id, changes={"point_value": Decimal("0.01")}, now=START
        )
        key = programs.create_api_key(
            session, program_id=program.id, scopes=(Scope.ANALYST,), now=START
        ).api_key
        body = {
            "metric": "spend",
            "window": "lifetime",
            "tiers": [
                {"name": "Member", "threshold": 0},
                {"name": "Silver", "threshold": 200},
                {"name": "Gold", "threshold": 500},
            ],
        }
        tiers.replace_policy(
            session, program_id=program.id, body=PolicyIn.model_validate(body), now=START
        )
    return program.id, key


def seed(db: Database, transactions: int, members: int) -> tuple[int, str, dict[str, float]]:
    program_id, key = _setup(db)
    params = {
        "p": program_id,
        "n": transactions,
        "m": members,
        "start": START.replace(tzinfo=None),
        "now": NOW.replace(tzinfo=None),
    }
    indexes = _secondary_indexes(db)
    with db.engine.connect() as conn:
        for name, _ in indexes:
            conn.exec_driver_sql(f'DROP INDEX "{name}"')
        conn.commit()
    seconds: dict[str, float] = {}
    for step, sql in _SEED.items():
        started = time.perf_counter()
        if step == "postings":
            for low in range(1, transactions + 1, 2_000_000):
                _run(db, sql, {**params, "lo": low, "hi": low + 1_999_999})
        else:
            _run(db, sql, params)
        seconds[step] = round(time.perf_counter() - started, 1)
    started = time.perf_counter()
    with db.engine.connect() as conn:
        conn.exec_driver_sql("SET maintenance_work_mem = '512MB'")
        for _, definition in indexes:
            conn.exec_driver_sql(definition)
        for table in ("members", "ledger_transactions", "events", "postings"):
            conn.exec_driver_sql(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT max(id) FROM {table}))"
            )
        conn.commit()
    seconds["indexes"] = round(time.perf_counter() - started, 1)
    started = time.perf_counter()
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM ANALYZE")
    seconds["vacuum_analyze"] = round(time.perf_counter() - started, 1)
    seconds["total"] = round(sum(seconds.values()), 1)
    return program_id, key, seconds


def add_tail(db: Database, program_id: int, first: int, count: int, members: int) -> None:
    """Transactions (and their events, orders and awards) outside the rollup's and the
    snapshots' bounds, as the earn path writes between job runs."""
    params = {
        "p": program_id,
        "n": first + count,
        "m": members,
        "start": START.replace(tzinfo=None),
        "now": NOW.replace(tzinfo=None),
    }
    tx = _SEED["ledger_transactions"].replace("generate_series(1, :n)", "generate_series(:lo, :n)")
    _run(db, tx, {**params, "lo": first})
    _run(db, _SEED["postings"], {**params, "lo": first, "hi": first + count})
    for table in ("events", "orders", "awards"):  # and the snapshots' tail: their events
        _run(
            db,
            _SEED[table].replace("generate_series(1, :n)", "generate_series(:lo, :n)"),
            {**params, "lo": first},
        )
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for table in ("ledger_transactions", "events", "orders", "awards"):
            conn.exec_driver_sql(f"ANALYZE {table}")


def measure(db: Database, program_id: int, key: str, runs: int) -> dict[str, Any]:
    today = NOW.date()
    quarter = today - timedelta(days=89)

    def whole() -> object:
        with db.reader() as session:
            return service.summary(
                session, program_id=program_id, first=None, last=None, today=today
            )

    def recent() -> object:
        with db.reader() as session:
            return service.summary(
                session, program_id=program_id, first=quarter, last=today, today=today
            )

    results: dict[str, Any] = {
        "whole_history_service": _timed(whole, runs),
        "last_90_days_service": _timed(recent, runs),
    }
    app = create_app(Settings(database_url=db.url), db=db, clock=lambda: NOW)
    with TestClient(app) as client:
        headers = {"Authorization": f"Bearer {key}"}

        def http() -> object:
            response = client.get("/v1/analytics/summary", headers=headers)
            assert response.status_code == 200, response.text
            return response

        results["whole_history_http"] = _timed(http, runs)
        results["sections_ms"] = sections(db, program_id)
        body = http().json()  # type: ignore[attr-defined]
    results["figures"] = {
        "members": body["members"],
        "points": body["points"],
        "orders": body["orders"],
        "retention_cohorts": len(body["retention"]),
    }
    return results


@contextmanager
def _database(directory: Path, keep: bool) -> Iterator[str]:
    if keep:
        yield pg_database("pcbench_kpis")
        return
    with scratch_database("postgresql", "kpis", directory) as url:
        yield url


def sections(db: Database, program_id: int) -> dict[str, float]:
    """Milliseconds of each part of one whole-history summary, to see which part costs what
    (the service runs them one after another in one transaction). Points by tier come with
    the rollup's sums; every other figure is computed from the loaded snapshots."""
    span = check_range(START.date(), NOW.date())
    params: dict[str, object] = {
        "start": span.start,
        "stop": span.stop,
        "first": span.first,
        "last": span.last,
    }
    result: dict[str, float] = {}
    with db.reader() as session:
        tune(session)

        def timed(name: str, part: Callable[[], Any]) -> Any:
            started = time.perf_counter()
            value = part()
            result[name] = round(1000 * (time.perf_counter() - started), 1)
            return value

        timed("points_rollup_and_tail_with_tiers", lambda: rollup.sums(session, program_id, params))
        found: Figures = timed(
            "snapshot_load_and_tail", lambda: Figures(session, program_id, "USD", span)
        )
        timed("members_and_activity", found.headcounts)
        timed("orders_per_member", found.buyers)
        timed("cohorts", found.cohort_counts)
        timed("campaigns", found.campaigns)
        timed("rewards", lambda: found.rewards(session, program_id, params))
        timed("roi_orders", found.attributable)
    return result


def refresh_times(db: Database, rebuild: bool, recent: int = 50_000) -> dict[str, float]:
    """Seconds of the snapshot job: the first build of every month (when `rebuild`: the
    snapshots and their watermarks are dropped first), then an incremental run that takes the
    last `recent` events (and their orders and awards) as new: the watermark is moved back by
    that many ids, so the run rebuilds the months they fall on, as after ~2 weeks of traffic."""
    result: dict[str, float] = {}
    if rebuild:
        with db.engine.begin() as conn:
            conn.exec_driver_sql("DELETE FROM analytics_snapshots")
            conn.execute(text("DELETE FROM analytics_rollups WHERE name LIKE 'kpi_%'"))
        started = time.perf_counter()
        for _ in range(2):  # the first run notes the bounds, the second takes them
            refresh_snapshots(db, now=NOW, settle=timedelta(0))
        result["first_build_seconds"] = round(time.perf_counter() - started, 1)
    # The last `recent` ids outside the bounds again, noted as the next bounds by a transaction
    # long ended (xmax 1), so that the next run takes them.
    with db.engine.begin() as conn:
        conn.execute(
            text(
                "UPDATE analytics_rollups SET horizon_id = last_id, horizon_at = rolled_until, "
                "horizon_xmax = 1, last_id = last_id - :k WHERE name = 'kpi_events'"
            ),
            {"k": recent},
        )
    started = time.perf_counter()
    months = refresh_snapshots(db, now=NOW + timedelta(minutes=5), settle=timedelta(0))
    result["incremental_run_seconds"] = round(time.perf_counter() - started, 2)
    result["incremental_run_events"] = recent
    result["incremental_run_months_rebuilt"] = months
    started = time.perf_counter()
    refresh_snapshots(db, now=NOW + timedelta(minutes=10), settle=timedelta(0))
    result["idle_run_seconds"] = round(time.perf_counter() - started, 2)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transactions", type=int, default=10_000_000)
    parser.add_argument("--members", type=int, default=500_000)
    parser.add_argument("--tail", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--keep", action="store_true", help="Keep pcbench_kpis afterwards.")
    parser.add_argument(
        "--measure-only", action="store_true", help="Measure a pcbench_kpis kept by --keep."
    )
    parser.add_argument(
        "--rebuild", action="store_true", help="With --measure-only: rebuild the snapshots, timed."
    )
    args = parser.parse_args()
    if args.measure_only:
        db = open_database(make_url(PG_ADMIN).set(database="pcbench_kpis").render_as_string(False))
        with db.reader() as session:
            program_id = int(session.execute(text("SELECT max(id) FROM programs")).scalar_one())
        with session_scope(db.writer) as session:
            key = programs.create_api_key(
                session, program_id=program_id, scopes=(Scope.ANALYST,), now=NOW
            ).api_key
        jobs = refresh_times(db, args.rebuild)
        for minute in (20, 21):  # the whole job (points too) catches up: notes, then takes
            refresh_rollup(db, now=NOW + timedelta(minutes=minute), settle=timedelta(0))
        # New rows after the job, so that every read has a live tail to add.
        with db.reader() as session:
            top = int(session.execute(text("SELECT max(id) FROM ledger_transactions")).scalar_one())
        add_tail(db, program_id, top + 1, args.tail, args.members)
        results = {"snapshot_job": jobs, **measure(db, program_id, key, args.runs)}
        print(json.dumps(results, indent=2, default=str))
        return
    with tempfile.TemporaryDirectory() as tmp, _database(Path(tmp), args.keep) as url:
        db = open_database(url)
        migrate.upgrade(db.engine)
        program_id, key, seeded = seed(db, args.transactions, args.members)
        started = time.perf_counter()
        rolled = 0
        for minute in (0, 1):  # the first run notes the bounds, the second takes them
            rolled += refresh_rollup(db, now=NOW + timedelta(minutes=minute), settle=timedelta(0))
        rollup_seconds = round(time.perf_counter() - started, 1)
        jobs = refresh_times(db, rebuild=True)
        add_tail(db, program_id, args.transactions + 1, args.tail, args.members)
        results = {"snapshot_job": jobs, **measure(db, program_id, key, args.runs)}
        db.dispose()
    print(
        json.dumps(
            {
                "transactions": args.transactions,
                "members": args.members,
                "tail_above_watermark": args.tail,
                "seed_seconds": seeded,
                "rollup": {"transactions": rolled, "seconds": rollup_seconds},
                **results,
            },
            indent=2,
            default=str,
        )
    )


if __name__ == "__main__":
    main()
