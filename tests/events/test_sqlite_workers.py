"""`punchcard serve --workers 2` on SQLite: the two processes plan their batches at once
(`events.idslots`) and write in turn (`db._WriterLock`). Batches sharing members, sent at once
from several clients, must add up exactly, leave a ledger that verifies, and answer a batch
sent again with its first results."""

from __future__ import annotations

import itertools
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx2
import pytest
from sqlalchemy import text

from punchcard.db import open_database
from punchcard.events import idslots
from tests.events.test_events_api import event, line, order_data, uid
from tests.reliability.conftest import Server, ledger_verify, make_tenant, put_rules

CLIENTS = 4
BATCHES = 3  # per client
SIZE = 120  # events per batch: planned before the lock (fastpath.OPTIMISTIC_FROM)
CUSTOMERS = 60  # shared by every batch, most enrolled by the batches themselves
AT = datetime(2026, 11, 1, 12, tzinfo=UTC)


def _batch(client: int, number: int) -> list[dict[str, Any]]:
    customers = itertools.cycle(range(CUSTOMERS))
    for _ in range((client * 7 + number * 13) % CUSTOMERS):
        next(customers)
    return [
        event(
            "order.placed",
            order_data(line("TSHIRT", 1, "10.00"), order_id=uid("o")),
            customer=f"shared-{next(customers)}",
            event_id=uid(f"c{client}-b{number}"),
            at=AT,
        )
        for _ in range(SIZE)
    ]


@pytest.fixture
def server(tmp_path: Path) -> Any:
    url = f"sqlite:///{tmp_path / 'workers.db'}"
    tenant = make_tenant(url)
    running = Server(url, tmp_path / "serve.log", workers=2)
    running.start()
    try:
        put_rules(running, tenant.api_key)
        yield running, tenant
    finally:
        running.kill()


def test_two_sqlite_workers_add_up_batches_sharing_members(server: Any) -> None:
    running, tenant = server
    headers = {"Authorization": f"Bearer {tenant.api_key}"}
    batches = [[_batch(c, n) for n in range(BATCHES)] for c in range(CLIENTS)]

    def send(client: int) -> list[dict[str, Any]]:
        answers = []
        with httpx2.Client(base_url=running.base_url, headers=headers, timeout=120) as http:
            for body in batches[client]:
                response = http.post("/v1/events/batch", json={"events": body})
                assert response.status_code == 200, response.text
                answers.append(response.json())
        return answers

    with ThreadPoolExecutor(CLIENTS) as pool:
        answered = list(pool.map(send, range(CLIENTS)))
    assert all(a["accepted"] == SIZE for answers in answered for a in answers)
    firsts = [a["items"][0]["result"]["transaction_id"] for answers in answered for a in answers]
    # planned in a slot's block (past the first batch, whose ids would start at 1 anyway)
    assert any(first > 1 and (first - 1) % idslots.SIZE == 0 for first in firsts)

    sent: dict[str, int] = {}
    for body in itertools.chain.from_iterable(batches):
        for one in body:
            sent[one["member"]["external_id"]] = sent.get(one["member"]["external_id"], 0) + 10
    handle = open_database(tenant.url)
    try:
        with handle.reader() as session:
            rows = session.execute(
                text(
                    "SELECT m.external_id, b.available FROM balances b JOIN members m "
                    "ON m.id = b.member_id WHERE b.program_id = :p"
                ),
                {"p": tenant.program_id},
            )
            found = {str(external_id): int(points) for external_id, points in rows}
            events = session.execute(text("SELECT count(*) FROM events")).scalar_one()
    finally:
        handle.dispose()
    assert found == sent
    assert events == CLIENTS * BATCHES * SIZE
    assert ledger_verify(tenant.url).returncode == 0

    again = httpx2.post(
        f"{running.base_url}/v1/events/batch",
        json={"events": batches[0][0]},
        headers=headers,
        timeout=120,
    ).json()
    assert [i["result"] for i in again["items"]] == [i["result"] for i in answered[0][0]["items"]]
