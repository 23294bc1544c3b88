"""Batch earn: `POST /v1/events/batch` with 1,000 `order.placed` events per call (the body of
bench/lua/order.json.tmpl, as in HTTP earn), from two clients per server worker in a closed
loop: while one call of a worker waits for the database (its reads, its rows, its commit), the
other's Python runs; with one call per worker, a fifth of the machine stayed idle.

A batch may take longer than the window itself on a slow server, so this is not wrk (which
drops whatever is in flight when its window closes): each client starts batches until the window
closes and waits for its last one, and the rate is accepted events over the whole wall time.
Two Python threads sending ~10 calls a second cost the server little CPU.
"""

from __future__ import annotations

import itertools
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx2

from bench.common import Options, new_program
from bench.loadgen import LUA
from bench.server import running

CLIENTS_PER_WORKER = 2
BATCH = 1_000
MEMBER_POOL = 20_000
TEMPLATE = (LUA / "order.json.tmpl").read_text().strip()


class _Totals:
    """What the clients saw, added up under a lock."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.latencies: list[float] = []
        self.statuses: dict[int, int] = {}
        self.error_codes: dict[str, int] = {}
        self.accepted = 0
        self.rejected = 0
        self.transport_errors: dict[str, int] = {}

    def add(self, elapsed: float, response: httpx2.Response) -> None:
        body = response.json() if response.headers.get("content-type") == "application/json" else {}
        codes = [f"{i['status']} {i['error']['code']}" for i in body.get("items", []) if i["error"]]
        if response.status_code >= 300:
            codes.append(f"{response.status_code} {body.get('error', {}).get('code', '?')}")
        with self.lock:
            self.latencies.append(elapsed)
            self.statuses[response.status_code] = self.statuses.get(response.status_code, 0) + 1
            self.accepted += body.get("accepted", 0)
            self.rejected += body.get("rejected", 0)
            for code in codes:
                self.error_codes[code] = self.error_codes.get(code, 0) + 1


def _body(prefix: str, first: int, size: int, occurred_at: str) -> str:
    """`size` events whose ids (and order ids) are `prefix` + first, first + 1..."""
    events = []
    for n in range(first, first + size):
        event_id = f"{prefix}{n}"
        events.append(TEMPLATE % (event_id, random.randint(1, MEMBER_POOL), occurred_at, event_id))
    return '{"events": [' + ", ".join(events) + "]}"


def _client(
    base_url: str, key: str, prefix: str, deadline: float, occurred_at: str, totals: _Totals
) -> None:
    """Batches until the deadline; the last one is waited for, and counted."""
    # A connection per call: with keep-alive both clients' connections can land on the same
    # worker for the whole window (the kernel hands each new connection to whichever worker
    # accepts first) and the run measures one worker; a connection per call of 1,000 events
    # costs nothing and spreads the calls the way a load balancer would.
    headers = {
        "Authorization": f"Bearer {key}",
        "Content-Type": "application/json",
        "Connection": "close",
    }
    with httpx2.Client(base_url=base_url, headers=headers, timeout=600) as client:
        for first in itertools.count(0, BATCH):
            if time.monotonic() >= deadline:
                return
            body = _body(prefix, first, BATCH, occurred_at)
            start = time.perf_counter()
            try:
                response = client.post("/v1/events/batch", content=body)
            except httpx2.TransportError as exc:
                with totals.lock:
                    name = type(exc).__name__
                    totals.transport_errors[name] = totals.transport_errors.get(name, 0) + 1
                continue
            totals.add(time.perf_counter() - start, response)


def _warm_up(base_url: str, key: str, occurred_at: str, clients: int) -> None:
    """A small batch on each client's own connection, so that with several uvicorn workers
    more than one of them has its pool and caches ready."""
    for i in range(clients):
        body = _body(f"warmup-{i}-", 0, 10, occurred_at)
        response = httpx2.post(
            f"{base_url}/v1/events/batch",
            content=body,
            headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
            timeout=600,
        )
        response.raise_for_status()


def run(kind: str, url: str, options: Options) -> dict[str, Any]:
    key = new_program(url)
    workers = options.workers_for(kind, "batch")
    clients = CLIENTS_PER_WORKER * workers
    window = max(1, options.seconds * 2 // 3)
    totals = _Totals()
    with running(url, workers, options.scratch / f"batch-{kind}.log") as server:
        _warm_up(server.base_url, key, options.occurred_at, clients)
        start = time.perf_counter()
        deadline = time.monotonic() + window
        with ThreadPoolExecutor(clients) as pool:
            calls = [
                pool.submit(
                    _client, server.base_url, key, f"c{i}-", deadline, options.occurred_at, totals
                )
                for i in range(clients)
            ]
            for call in calls:
                call.result()
        wall = time.perf_counter() - start
    latencies = sorted(totals.latencies)
    failed_calls = sum(totals.transport_errors.values()) + sum(
        n for status, n in totals.statuses.items() if not 200 <= status < 300
    )
    return {
        "seconds": round(wall, 2),
        "window_s": window,
        "calls": len(latencies),
        "events_per_call": BATCH,
        "accepted": totals.accepted,
        "rejected": totals.rejected,
        "events_per_s": totals.accepted / wall,
        "call_p50_ms": 1000 * latencies[len(latencies) // 2] if latencies else None,
        "call_max_ms": 1000 * latencies[-1] if latencies else None,
        "statuses": dict(sorted(totals.statuses.items())),
        "error_codes": totals.error_codes,
        "transport_errors": totals.transport_errors,
        "failed_calls": failed_calls,
        "errors": failed_calls + totals.rejected,
        "workers": workers,
        "clients": clients,
        **server.report(),
    }
