"""kill -9 of `punchcard serve` (the whole process group: the parent and its uvicorn workers)
at random moments while clients send events, batches and spends with Idempotency-Keys; the
server is started again and the clients retry until answered.

Afterwards `punchcard ledger verify` is clean, every acknowledged event id is stored exactly
once and every acknowledged spend is in the ledger exactly once, a write the client gave up on
is wholly there or wholly absent, and every balance is what the answers add up to (see audit).
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from tests.reliability.audit import audit
from tests.reliability.conftest import (
    BUDGET,
    FULL,
    ServerFactory,
    ledger_verify,
    make_tenant,
    put_rules,
)
from tests.reliability.workload import (
    Shared,
    abort_clients,
    problems,
    seen,
    start_clients,
    stop_clients,
)

CLIENTS = 3


@pytest.mark.reliability
@pytest.mark.parametrize("database", ["postgresql", "sqlite"])
def test_kill_9_under_load_loses_nothing_acknowledged_and_doubles_nothing(
    database: str,
    tmp_path: Path,
    servers: ServerFactory,
    request: pytest.FixtureRequest,
) -> None:
    if database == "postgresql":
        url: str = request.getfixturevalue("scratch_pg_url")
    else:
        url = f"sqlite:///{tmp_path / 'crash.db'}"
    tenant = make_tenant(url)
    # SQLite writes take turns whatever the number of processes, and one worker restarts in
    # half the time: two only in the full run.
    server = servers(url, workers=2 if database == "postgresql" or FULL else 1)
    server.start()
    put_rules(server, tenant.api_key)
    seed = random.randrange(2**32)
    rng = random.Random(seed)
    shared = Shared()
    clients = start_clients(CLIENTS, server.base_url, tenant.api_key, shared, seed)
    try:
        for _ in range(BUDGET.kill_rounds):
            # A random moment: after a random number of answers, with a write in flight.
            more = rng.randint(BUDGET.load_per_round // 2, BUDGET.load_per_round * 3 // 2)
            shared.wait_for("writes to be answered", 120, acknowledged=shared.acknowledged + more)
            shared.wait_for("a write in flight", 30, in_flight=1)
            shared.server_up.clear()
            server.kill()
            server.start()
            shared.server_up.set()
        target = shared.acknowledged + BUDGET.load_per_round
        shared.wait_for("writes to be answered after the last restart", 120, acknowledged=target)
    except BaseException:
        abort_clients(clients, shared)
        raise
    stop_clients(clients, shared)
    server.kill()

    context = f"(seed {seed}, server log {server.log})"
    assert not problems(clients), (problems(clients), context)
    assert server.starts == BUDGET.kill_rounds + 1
    verified = ledger_verify(url)
    assert verified.returncode == 0, (verified.stdout, verified.stderr, context)
    assert verified.stdout.startswith("ledger ok"), verified.stdout
    tally = audit(url, tenant.program_id, clients)
    outcomes = seen(clients)
    cut = sum(
        n for label, n in outcomes.items() if label.startswith("lost") and "Connect" not in label
    )
    assert cut >= 1, f"no kill cut a request in flight, so nothing was tested: {outcomes} {context}"
    assert tally["spend acknowledged"] + tally["spend acknowledged (replayed)"] >= 1, tally
