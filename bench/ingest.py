"""Ingest throughput: the bulk import of the whole CDNOW master file (orders/s, peak memory)
and single `POST /v1/events` calls (order.placed with 3 lines) against `punchcard serve`, on
SQLite and PostgreSQL. Prints a table and writes bench/results-ingest.json.

    .venv/bin/python -m bench.ingest [--http-seconds 10] [--clients 8] [--only sqlite]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from typing import Any

from bench.common import ROOT, free_port, load, pg_database, serve
from punchcard import migrate
from punchcard.db import open_database, session_scope
from punchcard.kit.clock import utcnow
from punchcard.programs import service as programs
from punchcard.programs.domain import Scope

DATA = ROOT / "data" / "cdnow" / "CDNOW_master.txt"
CLI = str(ROOT / ".venv" / "bin" / "punchcard")


def _program(url: str) -> str:
    db = open_database(url)
    migrate.upgrade(db.engine)
    with session_scope(db.writer) as session:
        program = programs.create_program(session, name="bench", now=utcnow(), pending_days=14)
        key = programs.create_api_key(
            session, program_id=program.id, scopes=(Scope.ADMIN,), now=utcnow()
        ).api_key
    db.dispose()
    return key


def bench_import(url: str) -> dict[str, Any]:
    """The import runs as the real CLI in its own process, so its peak memory is its own."""
    _program(url)
    start = time.perf_counter()
    done = subprocess.run(
        [CLI, "import", "orders", str(DATA), "--format", "cdnow", "--db", url, "--json"],
        capture_output=True,
        text=True,
        check=True,
    )
    seconds = time.perf_counter() - start
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {
        "seconds": seconds,
        "orders_per_s": summary["orders_imported"] / seconds,
        "summary": summary,
        "peak_rss_mb_max_child": peak_kb / 1024,
    }


def _order(i: int) -> tuple[str, dict[str, Any]]:
    return (
        "/v1/events",
        {
            "id": f"bench-{i}",
            "type": "order.placed",
            "member": {"external_id": f"c{i % 500}"},
            "occurred_at": "2026-11-20T10:00:00Z",
            "channel": "web",
            "data": {
                "order_id": f"o-{i}",
                "currency": "USD",
                "total": "42.50",
                "lines": [
                    {"sku": "a", "category": "cd", "quantity": 1, "unit_price": "12.50"},
                    {"sku": "b", "category": "cd", "quantity": 2, "unit_price": "10.00"},
                    {"sku": "c", "quantity": 1, "unit_price": "10.00"},
                ],
            },
        },
    )


def bench_events(url: str, seconds: float, clients: int, workers: int) -> dict[str, Any]:
    key = _program(url)
    port = free_port()
    proc = serve(url, port, workers)
    try:
        return {**load(port, key, _order, seconds, clients), "workers": workers}
    finally:
        proc.terminate()
        proc.wait(10)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--http-seconds", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--only", choices=["sqlite", "postgresql"])
    args = parser.parse_args()
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, workers in (("sqlite", 1), ("postgresql", 2)):
            if args.only and name != args.only:
                continue

            def fresh(label: str, name: str = name) -> str:
                if name == "sqlite":
                    return f"sqlite:///{tmp}/{label}.db"
                return pg_database(f"punchcard_bench_{label}")

            results[name] = {
                "import": bench_import(fresh("import")),
                "events": bench_events(fresh("events"), args.http_seconds, args.clients, workers),
            }
    header = ("database", "import s", "orders/s", "events/s", "p50 ms", "p99 ms")
    print("{:<11} {:>9} {:>9} {:>9} {:>8} {:>8} errors".format(*header))
    for name, r in results.items():
        i, e = r["import"], r["events"]
        print(
            f"{name:<11} {i['seconds']:>9.1f} {i['orders_per_s']:>9.0f} {e['per_s']:>9.0f} "
            f"{e['p50_ms']:>8.1f} {e['p99_ms']:>8.1f} {e['errors']}"
        )
    print(
        f"(import: {DATA.name} through `punchcard import orders`; events: POST /v1/events, "
        f"order.placed with 3 lines, {args.clients} clients, {args.http_seconds:.0f} s; "
        "uvicorn workers: sqlite 1, postgresql 2)"
    )
    (ROOT / "bench" / "results-ingest.json").write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
