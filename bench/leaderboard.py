"""Leaderboards with a million members: seeds a scratch database with N members, their
leaderboard profiles (a share opted in) and one score each on an all-time points board, then
measures the top-100 list and a random member's own rank, through the service and over HTTP.

    .venv/bin/python -m bench.leaderboard [--db postgresql|sqlite] [--members 1000000]
        [--calls 200] [--opted-in 0.3]

Seeding is set-based (generate_series on PostgreSQL, a recursive CTE on SQLite), then
ANALYZE (and VACUUM on PostgreSQL, so the visibility map allows index-only scans). Latencies
are p50/p99 in milliseconds over --calls calls each, after 20 warm-up calls; HTTP goes through
FastAPI's TestClient (the app in this process, no network), so it adds the framework's cost
to the service's. PostgreSQL is PUNCHCARD_BENCH_POSTGRES_URL (default postgres@127.0.0.1);
the scratch database pcbench_leaderboard is dropped at the end. Prints JSON.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import text

from bench.common import scratch_database
from punchcard import migrate
from punchcard.app import create_app
from punchcard.config import Settings
from punchcard.db import Database, open_database, session_scope
from punchcard.leaderboards import service
from punchcard.leaderboards.domain import Metric, Period
from punchcard.programs import service as programs
from punchcard.programs.domain import Scope

NOW = datetime(2026, 3, 4, 12, tzinfo=UTC)
WARMUP = 20

# Scores skewed like real ones: most members low, a long tail of big earners, many ties.
_SEED_PG = {
    "members": (
        "INSERT INTO members (program_id, external_id, channel, card_number, qr_token, "
        "created_at, updated_at) SELECT :p, 'm' || g, 'web', lpad(g::text, 16, '0'), "
        "md5(g::text), :now, :now FROM generate_series(1, :n) g"
    ),
    "profiles": (
        "INSERT INTO leaderboard_profiles (program_id, member_id, display_name, opted_in, "
        "updated_at) SELECT :p, id, 'Player ' || id, (id * 2654435761) % 1000 < :share, :now "
        "FROM members WHERE program_id = :p"
    ),
    "scores": (
        "INSERT INTO leaderboard_scores (leaderboard_id, period_key, member_id, program_id, "
        "score, visible) SELECT :b, 'all', f.member_id, :p, "
        "floor(power(random(), 3) * 100000)::bigint, f.opted_in "
        "FROM leaderboard_profiles f WHERE f.program_id = :p"
    ),
}
_SEED_SQLITE = {
    "members": (
        "WITH RECURSIVE g(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM g WHERE x < :n) "
        "INSERT INTO members (program_id, external_id, channel, card_number, qr_token, "
        "created_at, updated_at) SELECT :p, 'm' || x, 'web', printf('%016d', x), "
        "hex(randomblob(16)), :now, :now FROM g"
    ),
    "profiles": _SEED_PG["profiles"],
    "scores": (
        "INSERT INTO leaderboard_scores (leaderboard_id, period_key, member_id, program_id, "
        "score, visible) SELECT :b, 'all', f.member_id, :p, "
        "CAST(((abs(random()) % 1000000) / 1000000.0) * ((abs(random()) % 1000000) / 1000000.0) "
        "* ((abs(random()) % 1000000) / 1000000.0) * 100000 AS INTEGER), f.opted_in "
        "FROM leaderboard_profiles f WHERE f.program_id = :p"
    ),
}


def _percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    p99 = ordered[max(0, int(len(ordered) * 0.99) - 1)]
    return {"p50_ms": round(1000 * statistics.median(ordered), 3), "p99_ms": round(1000 * p99, 3)}


def _timed(call: Callable[[int], object], calls: int) -> dict[str, float]:
    for i in range(WARMUP):
        call(i)
    samples = []
    for i in range(calls):
        start = time.perf_counter()
        call(i)
        samples.append(time.perf_counter() - start)
    return _percentiles(samples)


def seed(db: Database, members: int, share: float) -> tuple[int, int, str, dict[str, float]]:
    """The program, its board, a storefront key, and how long each seeding step took."""
    seconds: dict[str, float] = {}
    with session_scope(db.writer) as session:
        program = programs.create_program(session, name="bench", now=NOW)
        key = programs.create_api_key(
            session, program_id=program.id, scopes=(Scope.STOREFRONT,), now=NOW
        ).api_key
        board = service.create_board(
            session,
            program_id=program.id,
            name="All time",
            period=Period.ALL_TIME,
            metric=Metric.POINTS,
            challenge_id=None,
            active=True,
            now=NOW,
        )
    statements = _SEED_SQLITE if db.is_sqlite else _SEED_PG
    params = {
        "p": program.id,
        "b": board.id,
        "n": members,
        "share": int(share * 1000),
        "now": NOW.replace(tzinfo=None),
    }
    for step in ("members", "profiles", "scores"):
        start = time.perf_counter()
        with session_scope(db.writer) as session:
            session.execute(text(statements[step]), params)
        seconds[step] = round(time.perf_counter() - start, 2)
    start = time.perf_counter()
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("ANALYZE" if db.is_sqlite else "VACUUM ANALYZE")
    seconds["analyze"] = round(time.perf_counter() - start, 2)
    seconds["total"] = round(sum(seconds.values()), 2)
    return program.id, board.id, key, seconds


def _explain(db: Database, board_id: int) -> list[str]:
    """The plan of the own-rank count on PostgreSQL, with its buffers."""
    with db.engine.connect() as conn:
        rows = conn.execute(
            text(
                "EXPLAIN (ANALYZE, BUFFERS) SELECT count(CASE WHEN score > 1000 THEN 1 END), "
                "count(*) FROM leaderboard_scores "
                "WHERE leaderboard_id = :b AND period_key = 'all' AND visible = true"
            ),
            {"b": board_id},
        ).all()
    return [str(r[0]) for r in rows]


def key_of(db: Database, board_id: int) -> str:
    with db.reader() as session:
        board = service.get_board(session, program_id=_program_of(db, board_id), board_id=board_id)
        return service.resolve_period(board, None, NOW)


def _program_of(db: Database, board_id: int) -> int:
    with db.reader() as session:
        return int(
            session.execute(
                text("SELECT program_id FROM leaderboards WHERE id = :b"), {"b": board_id}
            ).scalar_one()
        )


def measure(db: Database, program_id: int, board_id: int, key: str, calls: int) -> dict[str, Any]:
    with db.reader() as session:
        ids = list(
            session.execute(
                text("SELECT member_id FROM leaderboard_profiles WHERE program_id = :p"),
                {"p": program_id},
            ).scalars()
        )
    picks = random.Random(6).choices(ids, k=calls + WARMUP)

    def top_service(_: int) -> None:
        with db.reader() as session:
            found = service.standings(
                session, program_id=program_id, board_id=board_id, top=100, period_key=None, now=NOW
            )
            assert len(found.entries) == 100

    def rank_service(i: int) -> None:
        with db.reader() as session:
            service.member_rank(
                session,
                program_id=program_id,
                board_id=board_id,
                member_id=picks[i],
                period_key=None,
                now=NOW,
            )

    app = create_app(Settings(database_url=db.url), db=db, clock=lambda: NOW)
    results: dict[str, Any] = {}
    with TestClient(app) as client:
        headers = {"Authorization": f"Bearer {key}"}

        def top_http(_: int) -> None:
            response = client.get(f"/v1/leaderboards/{board_id}?top=100", headers=headers)
            assert response.status_code == 200, response.text

        def rank_http(i: int) -> None:
            path = f"/v1/leaderboards/{board_id}/members/{picks[i]}"
            response = client.get(path, headers=headers)
            assert response.status_code == 200, response.text

        results["top100_service"] = _timed(top_service, calls)
        results["top100_http"] = _timed(top_http, calls)
        # Counting in the database each time (what a board under SNAPSHOT_FROM listed members
        # does), then the server's way for a large board: a snapshot of the listed scores,
        # loaded once per cache TTL, and a binary search per ask.
        results["own_rank_sql_count"] = _timed(rank_service, calls)
        started = time.perf_counter()
        with db.reader() as session:
            snapshot = service.scores_snapshot(session, board_id, key_of(db, board_id))
        results["snapshot_load_ms"] = round((time.perf_counter() - started) * 1000, 1)
        results["snapshot_size"] = snapshot.size

        def rank_snapshot(i: int) -> None:
            with db.reader() as session:
                service.member_rank(
                    session,
                    program_id=program_id,
                    board_id=board_id,
                    member_id=picks[i],
                    period_key=None,
                    now=NOW,
                    snapshot=lambda _board, _key: snapshot,
                )

        results["own_rank_service_snapshot"] = _timed(rank_snapshot, calls)
        results["own_rank_http"] = _timed(rank_http, calls)
        sample = client.get(f"/v1/leaderboards/{board_id}/members/{picks[0]}", headers=headers)
        results["sample_rank"] = sample.json()
    return results


def run(kind: str, members: int, calls: int, share: float, scratch: Path) -> dict[str, Any]:
    with scratch_database(kind, "leaderboard", scratch) as url:
        db = open_database(url, Settings(database_url=url))
        try:
            migrate.upgrade(db.engine)
            program_id, board_id, key, seeding = seed(db, members, share)
            found: dict[str, Any] = {
                "db": kind,
                "members": members,
                "opted_in_share": share,
                "seed_seconds": seeding,
            }
            found.update(measure(db, program_id, board_id, key, calls))
            if not db.is_sqlite:
                found["explain_own_rank_count"] = _explain(db, board_id)
            return found
        finally:
            db.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.leaderboard",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--db", choices=("postgresql", "sqlite"), default="postgresql")
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--opted-in", type=float, default=0.3, help="share opted in (0-1)")
    args = parser.parse_args(argv)
    if args.members < 200 or args.calls < 1 or not 0 < args.opted_in <= 1:
        parser.error("--members at least 200, --calls at least 1, --opted-in in (0, 1]")
    with tempfile.TemporaryDirectory(prefix="pcbench-") as scratch:
        found = run(args.db, args.members, args.calls, args.opted_in, Path(scratch))
    print(json.dumps(found, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
