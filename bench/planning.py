"""The earn planner alone: microseconds of Python an order to decide every row an earned order
writes (rules, ledger plan, digest, stored result and explanation), on the CDNOW master file,
with no database write. Batch earn, the import and the careful path all plan this way, so this
is the part of their time that the database cannot explain (docs/performance.md, item 18).

    .venv/bin/python -m bench.planning [--runs 3] [--batch 5000] [--profile]

The orders are planned in batches as the import plans them, for members that already exist
with empty balances, into a scratch SQLite database with the default rule set; the best of
--runs passes is reported. --profile prints cProfile's 25 most costly functions. Prints JSON.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.ingest import DATA
from punchcard import migrate
from punchcard.db import open_database, session_scope
from punchcard.events import fastpath, importer
from punchcard.events.batchstate import Known
from punchcard.events.service import EventInput
from punchcard.events.sources import OrderRow, read
from punchcard.events.types import check_data
from punchcard.kit import heap
from punchcard.kit.clock import utcnow
from punchcard.ledger.domain import BalanceView
from punchcard.programs import service as programs
from punchcard.rawsql import Raw
from punchcard.rules import service as rules


def _known(events: list[EventInput], ids: dict[tuple[str, str], int], first: int) -> Known:
    members = {e.member_ref: ids[e.member_ref] for e in events}
    drawn = list(range(first, first + len(events)))
    return Known(
        members=members,
        balances={m: BalanceView(0, 0, 0) for m in members.values()},
        results={},
        orders=set(),
        first_orders={},
        tx_ids=drawn,
        event_ids=drawn,
        lot_ids=drawn,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.planning", description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--batch", type=int, default=5000)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args(argv)
    heap.settle()  # as `punchcard import` does
    rows = [r for r in read(DATA, "cdnow") if isinstance(r, OrderRow)]
    events = [importer._event(r, "cdnow") for r in rows]
    ids: dict[tuple[str, str], int] = {}
    for event in events:
        ids.setdefault(event.member_ref, len(ids) + 1)
    now = utcnow()
    with tempfile.TemporaryDirectory() as scratch:
        db = open_database(f"sqlite:///{Path(scratch) / 'planning.db'}")
        migrate.upgrade(db.engine)
        with session_scope(db.writer) as session:
            program = programs.create_program(session, name="planning", now=now)
        with session_scope(db.writer) as session:
            raw = Raw(session)
            current = rules.in_force(session, program.id)

            def plan_all() -> int:
                planned = 0
                for start in range(0, len(events), args.batch):
                    chunk = events[start : start + args.batch]
                    checked: list[Any] = [check_data(e.type, e.data) for e in chunk]
                    known = _known(chunk, ids, start + 1)
                    _, _, out = fastpath._plan(raw, program, current, chunk, checked, known, now)
                    planned += len(out.events)
                return planned

            plan_all()  # warm-up: caches, the rule set's per-type answers
            best, planned = float("inf"), 0
            for _ in range(args.runs):
                began = time.perf_counter()
                planned = plan_all()
                best = min(best, time.perf_counter() - began)
            if args.profile:
                profile = cProfile.Profile()
                profile.runcall(plan_all)
                pstats.Stats(profile).sort_stats("tottime").print_stats(25)
        db.dispose()
    print(
        json.dumps(
            {
                "orders": planned,
                "batch": args.batch,
                "best_seconds": round(best, 3),
                "us_per_order": round(best * 1e6 / planned, 1),
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
