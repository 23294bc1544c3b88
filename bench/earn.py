"""HTTP earn: the live path a store hits for every order. 16 wrk connections, each sending a new
`order.placed` event with 3 lines to `POST /v1/events` as soon as the last one was answered,
first for a warm-up (caches, pools, first enrolments), then for the measured window."""

from __future__ import annotations

from typing import Any

from bench.common import Options, new_program
from bench.loadgen import failures, wrk
from bench.server import running

CLIENTS = 16
MEMBER_POOL = 20_000


def run(kind: str, url: str, options: Options) -> dict[str, Any]:
    key = new_program(url)
    workers = options.workers_for(kind)
    with running(url, workers, options.scratch / f"earn-{kind}.log") as server:

        def window(tag: str, length: int) -> dict[str, Any]:
            args = [key, tag, options.occurred_at, str(MEMBER_POOL)]
            return wrk("earn", server.base_url, connections=CLIENTS, seconds=length, args=args)

        window("warmup", options.warmup)
        measured = window("run", options.seconds)
    return {
        **measured,
        "events_per_s": measured["ok_per_s"],
        "errors": failures(measured),
        "workers": workers,
        "clients": CLIENTS,
        **server.report(),
    }
