"""The benchmark suite of `make bench`: pgbench as the machine's reference, HTTP earn, batch
earn, the CDNOW bulk import and hot-member contention, each on a fresh scratch database,
PostgreSQL and SQLite, with the server's peak memory. Prints a table against the targets and
writes bench/results.json (every figure, the machine, the commit).

    .venv/bin/python -m bench.run [--only pgbench,http,engaged,batch,import,contention]
        [--seconds 30] [--workers N] [--db sqlite,postgresql]

--seconds is the measured window of pgbench and HTTP earn; batch earn runs 2/3 of it and the
hot member 1/2 (20 s and 15 s by default), each load after a 3 s warm-up. The whole default
run takes about 9 minutes. --workers sets the uvicorn workers of every server (default: 2 on
PostgreSQL, and 3 for batch earn; on SQLite 1, and 3 for batch earn). PostgreSQL is
PUNCHCARD_BENCH_POSTGRES_URL (a user who may create databases; default
postgres@127.0.0.1:5432); the scratch databases are pcbench_*, dropped after each part.
Exit status 1 when a part could not run; missed targets do not fail the run.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import tempfile
import traceback
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, NoReturn

from bench import batch, contention, earn, engaged, ingest, pgbench, report
from bench.common import ROOT, Options, scratch_database
from bench.machine import describe

PARTS = ("pgbench", "http", "engaged", "batch", "import", "contention")
DATABASES = ("postgresql", "sqlite")
PER_DATABASE: dict[str, Callable[[str, str, Options], dict[str, Any]]] = {
    "http": earn.run,
    "engaged": engaged.run,
    "batch": batch.run,
    "import": ingest.run,
    "contention": contention.run,
}
RESULTS = ROOT / "bench" / "results.json"


def _choices(allowed: tuple[str, ...]) -> Callable[[str], list[str]]:
    def parse(text: str) -> list[str]:
        picked = [x.strip() for x in text.split(",") if x.strip()]
        unknown = sorted(set(picked) - set(allowed))
        if unknown or not picked:
            raise argparse.ArgumentTypeError(f"choose among {','.join(allowed)}")
        return [x for x in allowed if x in picked]

    return parse


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.run",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--only", type=_choices(PARTS), default=list(PARTS))
    parser.add_argument("--seconds", type=int, default=30, help="measured window (default 30)")
    parser.add_argument(
        "--workers", type=int, help="uvicorn workers (default: 2, 3 for batches; SQLite 1, 3)"
    )
    parser.add_argument("--db", type=_choices(DATABASES), default=list(DATABASES))
    args = parser.parse_args(argv)
    if args.seconds < 2 or (args.workers is not None and args.workers < 1):
        parser.error("--seconds must be at least 2 and --workers at least 1")
    return args


def _attempt(label: str, part: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """One part; a failure is recorded in its results and the suite goes on with the next."""
    print(f"== {label}", file=sys.stderr, flush=True)
    try:
        return part()
    except Exception as exc:
        traceback.print_exc()
        message = str(exc).strip().splitlines() or [type(exc).__name__]
        return {"error": message[0], "error_detail": message[1:]}


def _terminate(signum: int, frame: object) -> NoReturn:
    raise SystemExit(128 + signum)  # unwinds like Ctrl-C: every server and database is cleaned


def _ratio(results: dict[str, Any]) -> float | None:
    """HTTP earn on PostgreSQL over pgbench tps: how much of the machine the earn path gets."""
    tps = results.get("pgbench", {}).get("tps")
    rate = results.get("http", {}).get("postgresql", {}).get("events_per_s")
    return round(rate / tps, 3) if tps and rate is not None else None


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    signal.signal(signal.SIGTERM, _terminate)
    recent = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    results: dict[str, Any] = {
        "machine": describe(with_postgres="postgresql" in args.db),
        "options": {
            "parts": args.only,
            "databases": args.db,
            "seconds": args.seconds,
            "workers": args.workers,
        },
    }
    with tempfile.TemporaryDirectory(prefix="pcbench-") as scratch:
        options = Options(
            seconds=args.seconds,
            workers=args.workers,
            scratch=Path(scratch),
            occurred_at=recent.isoformat().replace("+00:00", "Z"),
        )
        if "pgbench" in args.only and "postgresql" in args.db:
            results["pgbench"] = _attempt("pgbench", lambda: pgbench.run(options))
        for part in [p for p in args.only if p in PER_DATABASE]:
            for db in args.db:

                def one(part: str = part, db: str = db) -> dict[str, Any]:
                    with scratch_database(db, part, options.scratch) as url:
                        return PER_DATABASE[part](db, url, options)

                label = f"{part} on {db}"
                if part != "import":
                    label += f" ({options.workers_for(db, part)} workers)"
                results.setdefault(part, {})[db] = _attempt(label, one)
    results["pgbench_ratio"] = _ratio(results)
    results["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    found = report.rows(results)
    results["table"] = report.as_json(found)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(report.table(found))
    print(f"(written to {RESULTS.relative_to(ROOT)})")
    failed = [r for r in found if r.verdict == "ERROR"]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
