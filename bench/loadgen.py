"""Closed-loop HTTP load with wrk and the Lua scripts of bench/lua/.

wrk is C and event-driven, so on this 2-core machine the load generator takes little of the CPU
the server needs (a Python client would take a good part of it and measure itself). Its scripts
count answers by status and error code and print one JSON line at the end (report.lua).
Latencies are from the request's write to the end of its answer; requests still in flight when
the window closes are neither counted nor timed.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Sequence
from typing import Any

from bench.common import ROOT

LUA = ROOT / "bench" / "lua"
MARK = "WRK_JSON "


def wrk(
    script: str,
    base_url: str,
    *,
    connections: int,
    seconds: int,
    args: Sequence[str],
    timeout_s: int = 10,
) -> dict[str, Any]:
    """Run `bench/lua/<script>.lua` for `seconds` with `connections` connections (each one
    request at a time) on 2 threads; returns the counts, the rate of 2xx answers per second,
    latency percentiles in ms and the socket errors."""
    cmd = [
        "wrk",
        f"--threads={min(2, connections)}",
        f"--connections={connections}",
        f"--duration={max(1, seconds)}s",
        f"--timeout={timeout_s}s",
        f"--script={LUA / script}.lua",
        base_url,
        "--",
        *args,
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 120, check=False)
    line = next((x for x in done.stdout.splitlines() if x.startswith(MARK)), None)
    if done.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr.strip()[-2000:]}")
    raw = json.loads(line.removeprefix(MARK))
    seconds_run = raw["duration_us"] / 1e6
    statuses = {int(k): v for k, v in raw["statuses"].items()}
    ok = sum(n for status, n in statuses.items() if 200 <= status < 300)
    latency = raw["latency_us"]
    return {
        "seconds": round(seconds_run, 2),
        "connections": connections,
        "requests": raw["requests"],
        "ok": ok,
        "ok_per_s": ok / seconds_run,
        "p50_ms": latency["p50"] / 1000,
        "p90_ms": latency["p90"] / 1000,
        "p99_ms": latency["p99"] / 1000,
        "max_ms": latency["max"] / 1000,
        "statuses": dict(sorted(statuses.items())),
        "error_codes": raw["codes"],
        "socket_errors": raw["socket_errors"],
    }


def failures(run: dict[str, Any], *, allowed: Sequence[int] = ()) -> int:
    """Non-2xx answers (except the `allowed` statuses) plus socket errors (connect, read,
    write, timeout)."""
    statuses: dict[int, int] = run["statuses"]
    socket_errors: dict[str, int] = run["socket_errors"]
    bad = sum(n for s, n in statuses.items() if not 200 <= s < 300 and s not in allowed)
    return bad + sum(socket_errors.values())
