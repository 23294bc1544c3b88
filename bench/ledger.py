"""Ledger throughput: credits/s and spends/s on SQLite and PostgreSQL, through the service
layer (one transaction per call, one thread) and through HTTP (`punchcard serve` in its own
process, a thread pool of clients). Prints a table and writes bench/results-ledger.json.

    .venv/bin/python -m bench.ledger [--ops 2000] [--http-seconds 10] [--clients 8]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any

from bench.common import ROOT, free_port, load, pg_database, serve
from punchcard import migrate
from punchcard.db import Database, open_database, session_scope
from punchcard.kit.clock import utcnow
from punchcard.ledger import service
from punchcard.members import service as members
from punchcard.programs import service as programs
from punchcard.programs.domain import ExpiryPolicy, ProgramSettings, Scope

MEMBERS = 200


def _setup(url: str) -> tuple[Database, ProgramSettings, list[int], str]:
    db = open_database(url)
    migrate.upgrade(db.engine)
    now = utcnow()
    with session_scope(db.writer) as session:
        program = programs.create_program(
            session,
            name="bench",
            now=now,
            expiry_policy=ExpiryPolicy.DAYS_AFTER_EARN,
            expiry_value=365,
        )
        key = programs.create_api_key(
            session, program_id=program.id, scopes=(Scope.ADMIN,), now=now
        ).api_key
        ids = [
            members.enrol(session, program_id=program.id, external_id=f"m{i}", now=now)[0].id
            for i in range(MEMBERS)
        ]
    return db, program, ids, key


def _rate(ops: int, action: Callable[[int], object]) -> float:
    start = time.perf_counter()
    for i in range(ops):
        action(i)
    return ops / (time.perf_counter() - start)


def bench_service(
    db: Database, program: ProgramSettings, ids: list[int], ops: int
) -> dict[str, float]:
    def credit(i: int) -> None:
        with session_scope(db.writer) as session:
            service.credit(
                session,
                program=program,
                member_id=ids[i % len(ids)],
                points=100,
                reason="bench",
                now=utcnow(),
            )

    def spend(i: int) -> None:
        with session_scope(db.writer) as session:
            service.debit(
                session,
                program=program,
                member_id=ids[i % len(ids)],
                points=10,
                reason="bench",
                now=utcnow(),
            )

    return {"credits_per_s": _rate(ops, credit), "spends_per_s": _rate(ops, spend)}


def bench_http(
    url: str, ids: list[int], key: str, seconds: float, clients: int, workers: int
) -> dict[str, Any]:
    port = free_port()
    proc = serve(url, port, workers)
    try:
        credits = load(
            port,
            key,
            lambda i: (
                f"/v1/members/{ids[i % len(ids)]}/adjustments",
                {"points": 100, "reason": "bench"},
            ),
            seconds,
            clients,
        )
        spends = load(
            port,
            key,
            lambda i: (f"/v1/members/{ids[i % len(ids)]}/spend", {"points": 1, "reason": "bench"}),
            seconds,
            clients,
        )
    finally:
        proc.terminate()
        proc.wait(10)
    return {"credits": credits, "spends": spends, "workers": workers, "clients": clients}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--ops", type=int, default=2000)
    parser.add_argument("--http-seconds", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--only", choices=["sqlite", "postgresql"], help="One database only.")
    args = parser.parse_args()
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        targets = {
            "sqlite": (f"sqlite:///{tmp}/bench.db", 1),
            "postgresql": (
                pg_database("punchcard_bench") if args.only != "sqlite" else "",
                2,
            ),
        }
        for name, (url, workers) in targets.items():
            if args.only and name != args.only:
                continue
            db, program, ids, key = _setup(url)
            results[name] = {"service": bench_service(db, program, ids, args.ops)}
            db.dispose()
            results[name]["http"] = bench_http(
                url, ids, key, args.http_seconds, args.clients, workers
            )
            check = subprocess.run(
                [str(ROOT / ".venv/bin/punchcard"), "ledger", "verify", "--db", url],
                capture_output=True,
                text=True,
                check=False,
            )
            results[name]["verify"] = check.stdout.strip()
    header = ("database", "path", "credits/s", "spends/s", "p50 ms", "p99 ms")
    print("{:<11} {:<8} {:>10} {:>10} {:>14} {:>14} errors".format(*header))
    for name, r in results.items():
        s = r["service"]
        print(f"{name:<11} {'service':<8} {s['credits_per_s']:>10.0f} {s['spends_per_s']:>10.0f}")
        h = r["http"]
        c, p = h["credits"], h["spends"]
        print(
            f"{name:<11} {'http':<8} {c['per_s']:>10.0f} {p['per_s']:>10.0f} "
            f"{c['p50_ms']:>6.1f} / {p['p50_ms']:<5.1f} {c['p99_ms']:>6.1f} / {p['p99_ms']:<5.1f} "
            f"{c['errors'] + p['errors']}"
        )
        print(f"{'':<11} verify: {r['verify']}")
    print(
        f"(http: {args.clients} client threads, {args.http_seconds:.0f} s per operation; "
        f"uvicorn workers: sqlite 1, postgresql 2; p50/p99 as credits / spends)"
    )
    (ROOT / "bench" / "results-ledger.json").write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
