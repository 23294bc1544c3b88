"""The machine's reference: pgbench TPC-B (scale 10, 8 clients, 2 threads) against the same
PostgreSQL server, in the same run. Its tps is what this box and this server can do for short
write transactions of a few statements each; the HTTP earn rate over it (the pgbench ratio)
says how much of that an earn path gets, whatever the hardware or the neighbours' load."""

from __future__ import annotations

import re
import subprocess
import time
from typing import Any

from bench.common import Options, libpq_url, scratch_database

SCALE = 10
CLIENTS = 8
THREADS = 2


def _pgbench(*args: str) -> str:
    done = subprocess.run(["pgbench", *args], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"pgbench {' '.join(args[:2])} failed: {done.stderr.strip()[-2000:]}")
    return done.stdout


def _figure(pattern: str, text: str) -> float:
    found = re.search(pattern, text)
    if found is None:
        raise RuntimeError(f"no {pattern!r} in the pgbench output:\n{text}")
    return float(found.group(1))


def run(options: Options) -> dict[str, Any]:
    with scratch_database("postgresql", "pgbench", options.scratch) as url:
        target = libpq_url(url)
        start = time.perf_counter()
        _pgbench("--initialize", f"--scale={SCALE}", "--quiet", target)
        init_seconds = time.perf_counter() - start
        out = _pgbench(
            f"--client={CLIENTS}", f"--jobs={THREADS}", f"--time={options.seconds}", target
        )
    return {
        "tps": _figure(r"tps = ([\d.]+)", out),
        "latency_avg_ms": _figure(r"latency average = ([\d.]+) ms", out),
        "scale": SCALE,
        "clients": CLIENTS,
        "threads": THREADS,
        "seconds": options.seconds,
        "init_seconds": round(init_seconds, 1),
    }
