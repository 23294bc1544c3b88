"""The batch endpoint's work without HTTP: microseconds of this process's CPU per event for
calls of 1,000 `order.placed` events (the body of batch earn, bench/batch.py) handed to the
endpoint's own function, on a scratch database, one call after the other.

Batch earn's rate moves with the machine's load from one run to the next by a tenth or more;
the CPU time one process spends on an event moves much less, so this is the figure to compare
two versions of the code (or two Python interpreters, docs/performance.md item 35) with. It
counts parsing nothing (the events arrive as Python objects) and answering nothing: what is
left is validating the events, the reads, the planning and writing the rows (COPY on
PostgreSQL), with PostgreSQL's own CPU in its server process, not counted here.

    .venv/bin/python -m bench.batchpath [--db postgresql|sqlite] [--calls 40] [--warm 5]

The first --warm calls (members enrolled, caches filled) are not counted. Prints JSON.
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from bench.batch import BATCH, _body
from bench.common import new_program, scratch_database
from punchcard.db import Database, open_database
from punchcard.engagement import hooks as engagement
from punchcard.events import endpoints
from punchcard.kit import heap
from punchcard.kit.clock import utcnow
from punchcard.models import Program
from punchcard.tiers import service as tiers

OCCURRED_AT = "2026-11-01T12:00:00Z"


def _call(db: Database, program_id: int, events: list[dict[str, Any]]) -> None:
    """What `POST /v1/events/batch` does once its body is parsed and its caller known."""
    now = utcnow()
    with db.writer() as session:
        program = endpoints._program(db, program_id)
        current = endpoints._rules(db, program_id)
        policy = tiers.cached_policy(db, program_id)
        engaged = engagement.cached_configured(db, program_id)
        items = endpoints._batch_items(session, program, current, policy, events, now, engaged)
        session.commit()
    failed = [item for item in items if item["status"] != 200]
    if failed:
        raise RuntimeError(f"{len(failed)} events refused, the first: {failed[0]}")


def measure(url: str, calls: int, warm: int) -> dict[str, Any]:
    new_program(url)
    db = open_database(url)
    with db.reader() as session:
        program_id = session.scalar(select(func.max(Program.id)))
    assert program_id is not None
    heap.settle()  # as a server worker does once its app is built
    random.seed(1)  # the same members in the same order on every run
    bodies = [
        json.loads(_body(f"call{n}-", 0, BATCH, OCCURRED_AT))["events"] for n in range(warm + calls)
    ]
    try:
        for events in bodies[:warm]:
            _call(db, program_id, events)
        cpu, wall = time.process_time(), time.perf_counter()
        for events in bodies[warm:]:
            _call(db, program_id, events)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    finally:
        db.dispose()
    events = calls * BATCH
    return {
        "calls": calls,
        "events": events,
        "cpu_us_per_event": round(cpu * 1e6 / events, 1),
        "wall_us_per_event": round(wall * 1e6 / events, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.batchpath", description=__doc__)
    parser.add_argument("--db", choices=("postgresql", "sqlite"), default="postgresql")
    parser.add_argument("--calls", type=int, default=40)
    parser.add_argument("--warm", type=int, default=5)
    args = parser.parse_args(argv)
    with (
        tempfile.TemporaryDirectory(prefix="pcbench-") as scratch,
        scratch_database(args.db, "batchpath", Path(scratch)) as url,
    ):
        figures = measure(url, args.calls, args.warm)
    print(json.dumps({"db": args.db, **figures}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
