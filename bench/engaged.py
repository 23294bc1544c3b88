"""HTTP earn for a program that uses the game features: the same load as `earn` (16 wrk
connections of `order.placed` events with 3 lines), against a program with an active
challenge, two badges, a weekly streak and a monthly leaderboard, set up through the API the
way a merchant would. Such a program's events leave the one-statement express lane for the
careful path, and each feature adds its statements in the event's transaction: this part
says what that costs next to `earn`."""

from __future__ import annotations

from typing import Any

import httpx2

from bench.common import Options, new_program
from bench.earn import CLIENTS, MEMBER_POOL
from bench.loadgen import failures, wrk
from bench.server import running

FEATURES: tuple[tuple[str, str, dict[str, Any]], ...] = (
    ("POST", "/v1/challenges", {
        "name": "Five orders", "reward": {"points": 100},
        "steps": [{"events": ["order.placed"], "target": 5, "label": "orders"}],
    }),
    ("POST", "/v1/badges", {"name": "First order",
                            "criteria": {"kind": "order_count", "count": 1}}),
    ("POST", "/v1/badges", {"name": "Ten orders", "points": 50,
                            "criteria": {"kind": "order_count", "count": 10}}),
    ("POST", "/v1/streaks", {"name": "Weekly", "period": "week", "events": ["order.placed"],
                             "bonuses": [{"length": 2, "points": 20}]}),
    ("POST", "/v1/leaderboards", {"name": "This month", "period": "month"}),
)  # fmt: skip


def set_up(base_url: str, key: str) -> None:
    headers = {"Authorization": f"Bearer {key}"}
    for method, path, body in FEATURES:
        response = httpx2.request(method, base_url + path, json=body, headers=headers, timeout=30)
        if response.status_code >= 300:
            raise RuntimeError(f"{method} {path}: {response.status_code} {response.text}")


def run(kind: str, url: str, options: Options) -> dict[str, Any]:
    key = new_program(url)
    workers = options.workers_for(kind)
    with running(url, workers, options.scratch / f"engaged-{kind}.log") as server:
        set_up(server.base_url, key)

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
        "features": [path for _, path, _ in FEATURES],
        **server.report(),
    }
