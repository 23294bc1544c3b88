"""Hot-member contention: 32 wrk connections spend 1 point each from ONE member (a family card,
a corporate account), every request with its own Idempotency-Key, after the member was credited
far more than can be spent. Every spend must serialise on that member's balance, so this
measures the lock the ledger takes there, and afterwards checks that no spend was lost or
doubled: the balance must be the credit less the spends in the member's history, and that
history must hold every spend a client saw succeed (and at most the requests that were still
unanswered when wrk stopped on top). `punchcard ledger verify` then checks every invariant.
"""

from __future__ import annotations

import subprocess
import time
from typing import Any

import httpx2

from bench.common import CLI, Options, new_program
from bench.loadgen import failures, wrk
from bench.server import running

CLIENTS = 32
CREDIT = 1_000_000_000  # 1 point a spend: more than any server could spend in the window


def _history_spends(client: httpx2.Client, member: int) -> tuple[int, int]:
    """Number and points of the spend transactions in the member's history."""
    count = points = 0
    cursor: str | None = None
    while True:
        params: dict[str, str | int] = {"limit": 200, **({"cursor": cursor} if cursor else {})}
        page = client.get(f"/v1/members/{member}/transactions", params=params)
        page.raise_for_status()
        body = page.json()
        spends = [t["points"] for t in body["items"] if t["kind"] == "spend"]
        count, points = count + len(spends), points + sum(spends)
        cursor = body["next_cursor"]
        if cursor is None:
            return count, points


def _settled_balance(client: httpx2.Client, member: int) -> int:
    """The balance once the requests wrk left in flight have finished: two equal reads 1 s
    apart (on SQLite a writer may wait for the lock a while)."""
    last = None
    for _ in range(60):
        answer = client.get(f"/v1/members/{member}/balance")
        answer.raise_for_status()
        available = int(answer.json()["available"])
        if available == last:
            return available
        last = available
        time.sleep(1)
    raise RuntimeError("the member's balance kept changing a minute after the load stopped")


def run(kind: str, url: str, options: Options) -> dict[str, Any]:
    key = new_program(url)
    workers = options.workers_for(kind)
    seconds = max(1, options.seconds // 2)
    with running(url, workers, options.scratch / f"contention-{kind}.log") as server:
        headers = {"Authorization": f"Bearer {key}"}
        with httpx2.Client(base_url=server.base_url, headers=headers, timeout=60) as client:
            created = client.post("/v1/members", json={"external_id": "hot-member"})
            created.raise_for_status()
            member = int(created.json()["id"])
            credit = {"points": CREDIT, "reason": "bench contention credit"}
            client.post(f"/v1/members/{member}/adjustments", json=credit).raise_for_status()

            def window(tag: str, length: int) -> dict[str, Any]:
                args = [key, tag, str(member)]
                return wrk("spend", server.base_url, connections=CLIENTS, seconds=length, args=args)

            warmup = window("warmup", options.warmup)
            measured = window("run", seconds)
            available = _settled_balance(client, member)
            spends, spent = _history_spends(client, member)
    seen = warmup["ok"] + measured["ok"]
    # each wrk run may leave one request per connection unanswered, and a timed-out or broken
    # request may still have been committed
    broken = [n for r in (warmup, measured) for n in r["socket_errors"].values()]
    unanswered = 2 * CLIENTS + sum(broken)
    consistent = available == CREDIT - spent and seen <= spends <= seen + unanswered
    verify = subprocess.run(
        [CLI, "ledger", "verify", "--db", url], capture_output=True, text=True, check=False
    )
    return {
        **measured,
        "spends_per_s": measured["ok_per_s"],
        "conflicts": measured["statuses"].get(409, 0),
        "errors": failures(measured, allowed=(409,)),
        "credited": CREDIT,
        "balance": available,
        "history_spends": spends,
        "client_spends": seen,
        "balance_check": "OK" if consistent else "MISMATCH",
        "ledger_verify": "OK" if verify.returncode == 0 else "FAILED",
        "ledger_verify_output": (verify.stdout + verify.stderr).strip().splitlines()[-20:],
        "workers": workers,
        "clients": CLIENTS,
        **server.report(),
    }
