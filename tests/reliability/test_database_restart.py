"""PostgreSQL goes away under load and comes back, while `punchcard serve` keeps running.

The database is a private throw-away cluster (the shared server is never touched), stopped with
`pg_ctl -m immediate` (as in a crash: connections cut, recovery at the next start) or
`-m fast` (an operator's restart). While it is down every API call answers a clear
`503 database_unavailable` with `Retry-After`, never a 500; once it is back the same server
process answers again by itself, and the clients' retries leave exactly what was acknowledged
and nothing half-written (see audit).
"""

from __future__ import annotations

import random

import httpx2
import pytest

from tests.reliability.audit import audit, read
from tests.reliability.conftest import (
    BUDGET,
    PrivateCluster,
    Server,
    ServerFactory,
    Tenant,
    ledger_verify,
    make_tenant,
    put_rules,
    wait_until,
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
PROBES = 6  # new connections each, so that both workers are likely asked


def probe_event(n: int) -> dict[str, object]:
    return {
        "id": f"probe-{n}-{random.randrange(10**9)}",
        "type": "review.submitted",
        "member": {"external_id": "prober"},
        "occurred_at": "2026-01-15T12:00:00Z",
    }


def assert_unavailable(response: httpx2.Response) -> None:
    assert response.status_code == 503, (response.status_code, response.text)
    assert response.headers["retry-after"].isdigit(), response.headers
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body["error"]["code"] == "database_unavailable", body
    assert "Traceback" not in response.text
    assert "psycopg" not in response.text


def probe_while_down(server: Server, tenant: Tenant) -> None:
    """Reads, writes and the health check, each on a new connection: all a clean 503."""
    headers = {"Authorization": f"Bearer {tenant.api_key}"}
    health = httpx2.get(f"{server.base_url}/health", timeout=30)
    assert health.status_code == 503, health.text
    assert health.json()["status"] == "unavailable"
    for n in range(PROBES):
        read = httpx2.get(f"{server.base_url}/v1/program", headers=headers, timeout=30)
        assert_unavailable(read)
        write = httpx2.post(
            f"{server.base_url}/v1/events",
            json=probe_event(n),
            headers={**headers, "Idempotency-Key": f"probe-{n}"},
            timeout=30,
        )
        assert_unavailable(write)


def answers_again(server: Server, tenant: Tenant) -> bool:
    headers = {"Authorization": f"Bearer {tenant.api_key}"}
    try:
        return all(
            httpx2.get(f"{server.base_url}/v1/program", headers=headers, timeout=30).status_code
            == 200
            for _ in range(PROBES)
        )
    except httpx2.TransportError:
        return False


@pytest.mark.reliability
@pytest.mark.parametrize("mode", BUDGET.restart_modes)
def test_database_restart_under_load_is_a_clean_503_then_recovers_by_itself(
    mode: str, private_cluster: PrivateCluster, servers: ServerFactory
) -> None:
    url = private_cluster.create_database("punchcard")
    tenant = make_tenant(url)
    server = servers(url, workers=2)
    server.start()
    pid = server.pid
    put_rules(server, tenant.api_key)
    seed = random.randrange(2**32)
    shared = Shared()
    clients = start_clients(CLIENTS, server.base_url, tenant.api_key, shared, seed)
    try:
        shared.wait_for("writes to be answered", 120, acknowledged=BUDGET.load_per_round)
        shared.wait_for("a write in flight", 30, in_flight=1)
        private_cluster.stop(mode)
        probe_while_down(server, tenant)
        shared.wait_for("the clients to be told 503", 60, unavailable=CLIENTS)
        private_cluster.start()
        wait_until(lambda: answers_again(server, tenant), 60, "punchcard to answer again")
        target = shared.acknowledged + BUDGET.load_per_round
        shared.wait_for("writes to be answered after the restart", 120, acknowledged=target)
    except BaseException:
        abort_clients(clients, shared)
        raise
    stop_clients(clients, shared)

    context = f"(seed {seed}, server log {server.log})"
    assert server.running(), context
    assert (server.pid, server.starts) == (pid, 1), "punchcard was restarted: it must not need to"
    assert not problems(clients), (problems(clients), context)
    outcomes = seen(clients)
    assert outcomes["503 database_unavailable"] >= CLIENTS, outcomes
    assert set(outcomes) <= {"200", "201", "503 database_unavailable", "409 concurrent_write"}, (
        outcomes
    )
    server.kill()
    verified = ledger_verify(url)
    assert verified.returncode == 0, (verified.stdout, verified.stderr, context)
    audit(url, tenant.program_id, clients)
    stored = read(url, tenant.program_id)
    assert "prober" not in stored.balances  # the probes' 503s enrolled no one...
    assert not [key for key in stored.keys if key.startswith("probe-")]  # ...and kept no key
