"""Customer-base prediction through the database: what `POST /v1/analytics/predictions`,
`GET /v1/analytics/segments` and a member's insights cost on real programs.

    .venv/bin/python -m bench.predict_db [--members 1000000] [--skip-master] [--skip-synthetic]

(a) CDNOW master imported with `punchcard import orders --format cdnow` into SQLite and into
    PostgreSQL: the fit with its holdout check, read from the orders table (read + summarise +
    fit), scoring every member (the segments route), and one member's insights, each timed.
(b) A synthetic PostgreSQL program of --members members whose orders follow the BG/NBD process
    with the CDNOW parameters (bench.predict.simulate), loaded with set-based SQL: the same
    timings, and the process's peak RSS. Orders are loaded without their events (foreign-key
    triggers off for the loading session): the prediction reads the orders table only.

Prints a table and the figures as JSON.
"""

from __future__ import annotations

import argparse
import json
import resource
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
from sqlalchemy import text

from bench.common import punchcard, scratch_database
from bench.predict import CALIBRATION_END, DATA, HOLDOUT_END, SYNTHETIC_START, simulate
from punchcard import migrate
from punchcard.analytics.insights import population, service
from punchcard.db import Database, open_database, session_scope
from punchcard.programs import service as programs

T = TypeVar("T")
NOW = datetime(2026, 11, 23, tzinfo=UTC)
_BATCH = 500_000


def _timed(call: Callable[[], T]) -> tuple[T, float]:
    start = time.perf_counter()
    found = call()
    return found, round(time.perf_counter() - start, 3)


def measure(
    db: Database, program_id: int, calibration_end: date, holdout_end: date
) -> dict[str, Any]:
    """Fit with a holdout, keep it, score everyone as of the holdout's end, and one member."""

    def fit() -> service.Analysis:
        with db.reader() as session:
            return service.analyse(
                session,
                program_id=program_id,
                calibration_end=calibration_end,
                holdout_end=holdout_end,
                today=NOW.date(),
            )

    analysis, fit_s = _timed(fit)
    with session_scope(db.writer) as session:
        kept = service.keep(session, program_id=program_id, analysis=analysis, now=NOW)

    def score_all() -> population.Population:
        with db.reader() as session:
            return population.score_all(
                session,
                kept=kept,
                program_id=program_id,
                today=holdout_end,
                weeks=13,
                months=12,
                rate=0.1,
            )

    scored, score_s = _timed(score_all)
    assert scored.summary is not None
    member = int(scored.summary.customer[0])

    def insights() -> service.Insights:
        with db.reader() as session:
            return service.member_insights(
                session,
                program_id=program_id,
                member_id=member,
                today=holdout_end,
                weeks=13,
                months=12,
                annual_discount_rate=0.1,
            )

    insight_times = [_timed(insights)[1] for _ in range(20)]
    held = analysis.result["holdout"]
    bg = analysis.result["bgnbd"]
    return {
        "customers": analysis.customers,
        "bgnbd": {k: round(bg[k], 4) for k in ("r", "alpha", "a", "b", "log_likelihood")},
        "holdout": {k: held[k] for k in ("predicted", "actual", "auc")},
        "seconds": {
            "read_summarise_fit_holdout": fit_s,
            "score_everyone": score_s,
            "one_member_insights_p50": sorted(insight_times)[len(insight_times) // 2],
        },
    }


def cdnow_master(kind: str, directory: Path) -> dict[str, Any]:
    with scratch_database(kind, "predict_master", directory) as url:
        punchcard("db", "upgrade", "--db", url)
        punchcard("program", "create", "--db", url, "--name", "CDNOW")
        start = time.perf_counter()
        punchcard(
            "import", "orders", str(DATA / "CDNOW_master.txt"), "--format", "cdnow", "--db", url
        )
        imported = round(time.perf_counter() - start, 1)
        db = open_database(url)
        try:
            with db.reader() as session:
                program_id = programs.list_programs(session)[0].id
            found = measure(db, program_id, CALIBRATION_END, HOLDOUT_END)
        finally:
            db.dispose()
    found["seconds"]["import"] = imported
    return found


_MEMBERS = (
    "INSERT INTO members (id, program_id, external_id, channel, card_number, qr_token, "
    "created_at, updated_at) SELECT g, :p, 'm' || g, 'web', lpad(g::text, 16, '0'), "
    "md5(g::text), :at, :at FROM generate_series(1, :n) g"
)
_ORDERS = (
    "INSERT INTO orders (program_id, order_id, member_id, event_id, currency, total, lines, "
    "refunded_amount, refunded_quantities, refunded_values, status, placed_at) "
    "SELECT :p, 'o' || (:offset + o.n), o.member, :offset + o.n, 'USD', o.amount, '[]', 0, "
    "'{}', '{}', 'placed', CAST(:start AS timestamp) + o.day * interval '1 day' "
    "+ interval '12 hours' FROM unnest(CAST(:members AS bigint[]), CAST(:days AS int[]), "
    "CAST(:amounts AS numeric[])) WITH ORDINALITY AS o(member, day, amount, n)"
)


def _load(db: Database, program_id: int, members: int, seed: int) -> int:
    customer, day, amount = simulate(members, seed)
    amount = np.maximum(amount, 0.01)
    offsets = (day - np.datetime64(SYNTHETIC_START.isoformat(), "D")).astype(np.int64)
    start = datetime.combine(SYNTHETIC_START, datetime.min.time())
    with session_scope(db.writer) as session:
        session.execute(text("SET LOCAL session_replication_role = replica"))
        session.execute(text(_MEMBERS), {"p": program_id, "n": members, "at": start})
        for first in range(0, customer.size, _BATCH):
            part = slice(first, first + _BATCH)
            session.execute(
                text(_ORDERS),
                {
                    "p": program_id,
                    "offset": first,
                    "start": start,
                    "members": customer[part].tolist(),
                    "days": offsets[part].tolist(),
                    "amounts": [str(a) for a in amount[part].round(2)],
                },
            )
    with db.engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM ANALYZE orders"))
    return int(customer.size)


def synthetic(members: int, seed: int, directory: Path) -> dict[str, Any]:
    with scratch_database("postgresql", "predict_synthetic", directory) as url:
        db = open_database(url)
        try:
            migrate.upgrade(db.engine)
            with session_scope(db.writer) as session:
                program_id = programs.create_program(session, name="synthetic", now=NOW).id
            orders, load_s = _timed(lambda: _load(db, program_id, members, seed))
            found = measure(
                db,
                program_id,
                SYNTHETIC_START + timedelta(weeks=39),
                SYNTHETIC_START + timedelta(weeks=78),
            )
        finally:
            db.dispose()
    found["orders"] = orders
    found["seconds"]["load"] = load_s
    found["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    return found


def table(results: dict[str, Any]) -> str:
    lines = [f"{'part':<28}{'customers':>10}{'fit s':>8}{'score s':>9}{'member ms':>11}  holdout"]
    for name, found in results.items():
        s = found["seconds"]
        held = found["holdout"]
        lines.append(
            f"{name:<28}{found['customers']:>10,}{s['read_summarise_fit_holdout']:>8}"
            f"{s['score_everyone']:>9}{1000 * s['one_member_insights_p50']:>11.1f}  "
            f"pred {held['predicted']:.0f} actual {held['actual']} AUC {held['auc']:.3f}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=float, default=1e6)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--skip-master", action="store_true")
    parser.add_argument("--skip-synthetic", action="store_true")
    args = parser.parse_args(argv)
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as scratch:
        directory = Path(scratch)
        if not args.skip_master:
            for kind in ("sqlite", "postgresql"):
                results[f"cdnow master ({kind})"] = cdnow_master(kind, directory)
        if not args.skip_synthetic:
            results[f"synthetic {int(args.members):,} (postgresql)"] = synthetic(
                int(args.members), args.seed, directory
            )
    print(table(results))
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
