"""Helpers shared by the benchmarks: scratch databases, the `punchcard` command, a server in its
own process, and a closed-loop HTTP load generator in Python (used by bench.ledger; bench.run
drives its load with wrk instead, which leaves the two cores to the server)."""

from __future__ import annotations

import json
import os
import signal
import socket
import statistics
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import httpx2
import psutil
import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
CLI = str(ROOT / ".venv" / "bin" / "punchcard")
PG_ADMIN = os.environ.get(
    "PUNCHCARD_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def libpq_url(url: str) -> str:
    """The same URL without SQLAlchemy's `+psycopg` driver suffix, for psycopg and pgbench."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _drop(conn: psycopg.Connection[Any], name: str) -> None:
    conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def pg_database(name: str) -> str:
    """Drop and create database `name` on the PG_ADMIN server; returns its SQLAlchemy URL."""
    with psycopg.connect(libpq_url(PG_ADMIN), autocommit=True) as conn:
        _drop(conn, name)
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return make_url(PG_ADMIN).set(database=name).render_as_string(hide_password=False)


@contextmanager
def scratch_database(kind: str, label: str, directory: Path) -> Iterator[str]:
    """A fresh, empty database for one part of a run, so parts never see each other's rows.
    PostgreSQL ones (pcbench_<label>) are dropped afterwards; SQLite files live in `directory`."""
    if kind == "sqlite":
        yield f"sqlite:///{directory / label}.db"
        return
    name = f"pcbench_{label}"
    url = pg_database(name)
    try:
        yield url
    finally:
        with psycopg.connect(libpq_url(PG_ADMIN), autocommit=True) as conn:
            _drop(conn, name)


def punchcard(*args: str) -> str:
    """Run the `punchcard` command; its stdout, or RuntimeError with its stderr."""
    done = subprocess.run([CLI, *args], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"punchcard {args[0]} failed: {done.stderr.strip()}")
    return done.stdout


def new_program(url: str) -> str:
    """A program with the default rule set (1 point per currency unit), made the way an
    operator would; returns its admin API key."""
    if not url.startswith("sqlite"):
        punchcard("db", "upgrade", "--db", url)  # serve refuses an out-of-date PostgreSQL schema
    created = json.loads(punchcard("program", "create", "--name", "bench", "--db", url))
    return str(created["api_key"])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve(
    url: str, port: int, workers: int, log: IO[bytes] | int = subprocess.DEVNULL
) -> subprocess.Popen[bytes]:
    """Start `punchcard serve` and wait until /health answers. The log goes to a file (or
    nowhere), never to a pipe nobody reads, which would stall a server that logs errors."""
    cmd = [CLI, "serve", "--db", url, "--port", str(port), "--workers", str(workers)]
    proc = subprocess.Popen(
        [*cmd, "--no-access-log"], stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            if httpx2.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return proc
        except httpx2.HTTPError:
            pass
        time.sleep(0.2)
    stop(proc)
    raise RuntimeError(f"server did not start (exit status {proc.returncode})")


def stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM lets uvicorn's supervisor stop its workers; whatever is still alive after 15 s
    (the supervisor hung, or a worker outlived it) is killed."""
    try:
        tree = [psutil.Process(proc.pid), *psutil.Process(proc.pid).children(recursive=True)]
    except psutil.Error:
        tree = []
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    _, alive = psutil.wait_procs(tree, timeout=15)
    for survivor in alive:
        with suppress(psutil.Error):
            survivor.kill()
    proc.wait()


def load(
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


@dataclass(frozen=True)
class Options:
    """What every part of bench.run is given."""

    seconds: int  # the measured window of pgbench and HTTP earn; other parts derive theirs
    workers: int | None  # uvicorn workers; None: see `workers_for`
    scratch: Path  # SQLite files and server logs, deleted after the run
    occurred_at: str  # one recent timestamp for every event of the run
    warmup: int = 3

    def workers_for(self, kind: str, part: str = "") -> int:
        """One server process on SQLite, whose writers go one at a time, except for batches,
        which three processes plan at once, one batch each, and only write in turn
        (`events.idslots`; docs/performance.md, item 37). Two on PostgreSQL, and three for its
        batches: with two, while both workers' calls waited for the database a seventh of the
        machine stayed idle (docs/performance.md, item 34)."""
        if self.workers:
            return self.workers
        return 3 if part == "batch" else 2 if kind == "postgresql" else 1
