"""What a result depends on besides the code: the machine, its load, the tools' versions and
the exact source measured (the commit, and whether the working tree had changes on top)."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from datetime import UTC, datetime
from typing import Any

import psutil
import psycopg

from bench.common import PG_ADMIN, ROOT, libpq_url


def _output(*cmd: str) -> str:
    """A command's standard output ("" when it cannot run; `wrk -v` exits 1 after printing
    its version). Nothing here changes anything: GIT_OPTIONAL_LOCKS=0 keeps `git status` from
    rewriting the index."""
    env = {**os.environ, "GIT_OPTIONAL_LOCKS": "0"}
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env=env, check=False)
    except OSError:
        return ""
    return done.stdout.strip()


def _cpu_model() -> str | None:
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            lines = [line for line in cpuinfo if line.startswith("model name")]
    except OSError:
        return None
    return lines[0].split(":", 1)[1].strip() if lines else None


def _postgres_version() -> str | None:
    try:
        with psycopg.connect(libpq_url(PG_ADMIN)) as conn:
            row = conn.execute("SHOW server_version").fetchone()
    except psycopg.Error:
        return None
    return str(row[0]) if row else None


def describe(with_postgres: bool) -> dict[str, Any]:
    changed = _output("git", "status", "--porcelain", "--untracked-files=no")
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "git_commit": _output("git", "rev-parse", "HEAD") or None,
        "git_uncommitted_files": len(changed.splitlines()),
        "cpu_count": os.cpu_count(),
        "cpu_physical": psutil.cpu_count(logical=False),
        "cpu_model": _cpu_model(),
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "platform": platform.platform(),
        "python": platform.python_version(),
        # Which build: Debian's (optimised) or another, such as pyenv's (docs/performance.md,
        # item 35); the same version runs the earning path a fifth faster or slower.
        "python_executable": os.path.realpath(sys.executable),
        "postgresql": _postgres_version() if with_postgres else None,
        "wrk": _output("wrk", "-v").split(" Copyright")[0] or None,
        "pgbench": _output("pgbench", "--version") or None,
    }
