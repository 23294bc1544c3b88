"""Ledger throughput: credits/s and spends/s on SQLite and PostgreSQL, through the service
layer (one transaction per call, one thread) and through HTTP (`punchcard serve` in its own
process, a thread pool of clients). Prints a table and writes bench/results-ledger.json.

    .venv/bin/python bench/ledger.py [--ops 2000] [--http-seconds 10] [--clients 8]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx2
import psycopg
from sqlalchemy.engine import make_url

from punchcard import migrate
from punchcard.db import Database, open_database, session_scope
from punchcard.kit.clock import utcnow
from punchcard.ledger import service
from punchcard.members import service as members
from punchcard.programs import service as programs
from punchcard.programs.domain import ExpiryPolicy, ProgramSettings, Scope

ROOT = Path(__file__).resolve().parents[1]
PG_ADMIN = os.environ.get(
    "PUNCHCARD_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
MEMBERS = 200


def _pg_database(name: str) -> str:
    admin = make_url(PG_ADMIN)
    libpq = admin.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(libpq, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return admin.set(database=name).render_as_string(hide_password=False)


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


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(url: str, port: int, workers: int) -> subprocess.Popen[bytes]:
    cmd = [
        str(ROOT / ".venv/bin/punchcard"),
        "serve",
        "--db",
        url,
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--no-access-log",
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx2.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return proc
        except httpx2.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("server did not start")


def _load(
    port: int,
    key: str,
    path_body: Callable[[int], tuple[str, dict[str, Any]]],
    seconds: float,
    clients: int,
) -> dict[str, float]:
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    stop = time.monotonic() + seconds
    counter = iter(range(10**9))

    def worker(_: int) -> None:
        nonlocal errors
        with httpx2.Client(
            base_url=f"http://127.0.0.1:{port}",
            headers={"Authorization": f"Bearer {key}"},
            timeout=10,
        ) as client:
            while time.monotonic() < stop:
                path, body = path_body(next(counter))
                start = time.perf_counter()
                response = client.post(path, json=body)
                elapsed = time.perf_counter() - start
                with lock:
                    latencies.append(elapsed)
                    if response.status_code >= 400:
                        errors += 1

    start = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(worker, range(clients)))
    wall = time.perf_counter() - start
    latencies.sort()
    return {
        "per_s": len(latencies) / wall,
        "p50_ms": 1000 * statistics.median(latencies),
        "p99_ms": 1000 * latencies[int(len(latencies) * 0.99) - 1],
        "errors": errors,
        "requests": len(latencies),
    }


def bench_http(
    url: str, ids: list[int], key: str, seconds: float, clients: int, workers: int
) -> dict[str, Any]:
    port = _free_port()
    proc = _serve(url, port, workers)
    try:
        credits = _load(
            port,
            key,
            lambda i: (
                f"/v1/members/{ids[i % len(ids)]}/adjustments",
                {"points": 100, "reason": "bench"},
            ),
            seconds,
            clients,
        )
        spends = _load(
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
                _pg_database("punchcard_bench") if args.only != "sqlite" else "",
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
