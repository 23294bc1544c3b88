"""Racing events on PostgreSQL: qualifying events of one member sent at once, each in its
own request and connection, complete a once-only challenge once and pay its points once.

SQLite runs one writer at a time, so nothing races there; these tests skip it."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest

from punchcard.db import Database
from punchcard.ledger.verify import verify
from punchcard.programs.domain import Scope
from tests.challenges.helpers import (
    balance,
    challenge_credits,
    completion_count,
    create,
    enrol,
    event,
    line,
    order_data,
    step,
)
from tests.conftest import Api

THREADS = 16


@pytest.fixture(autouse=True)
def _postgresql_only(backend: str) -> None:
    if backend == "sqlite":
        pytest.skip("SQLite serialises writers: there is no race to test")


def _race(api: Api, bodies: list[dict[str, object]]) -> list[int]:
    barrier = threading.Barrier(len(bodies))

    def send(body: dict[str, object]) -> int:
        barrier.wait()
        response = api.client.post("/v1/events", json=body, headers=api.headers(Scope.STOREFRONT))
        return response.status_code

    with ThreadPoolExecutor(len(bodies)) as pool:
        return list(pool.map(send, bodies))


def test_racing_orders_complete_a_once_only_challenge_once(api: Api, db: Database) -> None:
    challenge = create(api, steps=[step(1)], reward={"points": 50})
    member = enrol(api)
    bodies = [
        event("order.placed", order_data(line("a", 1, "10.00")), customer=member["external_id"])
        for _ in range(THREADS)
    ]

    statuses = _race(api, bodies)

    assert Counter(statuses) == {200: THREADS}
    assert completion_count(db, challenge["id"], member["id"]) == 1
    assert challenge_credits(db, challenge["id"], member["id"]) == 1
    assert balance(api, member["id"]) == 10 * THREADS + 50
    with db.reader() as session:
        assert verify(session, api.program.id).ok


def test_racing_actions_complete_a_multi_event_challenge_once(api: Api, db: Database) -> None:
    """Through the general path (an action event), with a target several events reach."""
    challenge = create(
        api,
        steps=[{"events": ["review.submitted"], "target": 3, "label": "reviews"}],
        reward={"points": 50},
    )
    member = enrol(api)
    bodies = [
        event("review.submitted", {"sku": f"s{i}"}, customer=member["external_id"])
        for i in range(THREADS)
    ]

    statuses = _race(api, bodies)

    assert Counter(statuses) == {200: THREADS}
    assert completion_count(db, challenge["id"], member["id"]) == 1
    assert challenge_credits(db, challenge["id"], member["id"]) == 1


def test_the_completion_key_alone_stops_a_second_reward(api: Api, db: Database) -> None:
    """Without the member's lock (two writers that both saw the run open), the completion's
    primary key lets one through: the second records nothing and pays nothing."""
    from decimal import Decimal

    from punchcard.challenges import domain, progress
    from punchcard.challenges import repository as repo
    from punchcard.challenges.schemas import stored_spec
    from punchcard.db import session_scope
    from punchcard.engagement.context import EventSeen
    from punchcard.rules.domain import Facts
    from tests.conftest import START

    challenge = create(api, steps=[step(1)], reward={"points": 50})
    member = enrol(api)
    with db.reader() as session:
        row = repo.challenge_row(session, api.program.id, challenge["id"])
    assert row is not None
    spec = stored_spec(row.definition)
    run = domain.Run(challenge["id"], 1, 0, Decimal(0), 0, False, START, None, None)
    facts = Facts("order.placed", START, "web", None, Decimal(10))
    seen = EventSeen(api.program, member["id"], "evt-x", "order.placed", START, "web", None,
                     {}, facts, 0, START)  # fmt: skip

    def attempt() -> None:
        with session_scope(db.writer) as session:
            progress.complete(session, seen, challenge["id"], spec, run)

    with ThreadPoolExecutor(2) as pool:
        list(pool.map(lambda _: attempt(), range(2)))

    assert completion_count(db, challenge["id"], member["id"]) == 1
    assert challenge_credits(db, challenge["id"], member["id"]) == 1
