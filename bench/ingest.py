"""Bulk import: the whole CDNOW master file (69,659 real orders) through `punchcard import
orders`, the way an operator loads a store's history, into a new program with the default rule
set. The command runs in its own process, reaped with wait4(), so its peak RSS is its own and
not that of an earlier child (a server, pgbench), which RUSAGE_CHILDREN would mix in."""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
import time
from typing import Any

from bench.common import CLI, ROOT, Options, new_program

DATA = ROOT / "data" / "cdnow" / "CDNOW_master.txt"
EXPECTED_ORDERS = 69_579  # the master file less its 80 zero-value rows (data/cdnow/README.md)


def run(kind: str, url: str, options: Options) -> dict[str, Any]:
    new_program(url)
    cmd = [CLI, "import", "orders", str(DATA), "--format", "cdnow", "--db", url, "--json"]
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, stdin=subprocess.DEVNULL)
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        except BaseException:
            proc.kill()
            proc.wait()
            raise
        seconds = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(), err.read().decode()
    if proc.returncode != 0:
        raise RuntimeError(f"import failed ({proc.returncode}): {stderr.strip()[-2000:]}")
    summary = json.loads(stdout.strip().splitlines()[-1])
    return {
        "seconds": round(seconds, 2),
        "orders_per_s": summary["orders_imported"] / seconds,
        "orders_imported": summary["orders_imported"],
        "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),  # Linux: KiB
        "summary": summary,
    }
