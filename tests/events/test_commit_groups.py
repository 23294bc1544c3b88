"""Commit groups (`events.commitgroups`) and their wire (`events.pipeline`), on the real
PostgreSQL server: a group commits all of its statements or none, answers only after its
COMMIT, takes rows in member order, and a statement at fault fails alone."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar

import psycopg
import pytest
from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool
from sqlalchemy import select

from punchcard.db import Database
from punchcard.events import pipeline
from punchcard.events.commitgroups import CommitGroups
from punchcard.events.express import AsyncLane
from punchcard.events.pipeline import InDoubt, run_together
from punchcard.ledger.verify import verify
from punchcard.models import Event
from tests.conftest import Api, _libpq, scratch_pg_database
from tests.events.test_events_api import event, line, order_data, post_event, uid

T = TypeVar("T")

LOG = "INSERT INTO log (member, note) VALUES ($1, $2) RETURNING id, txid_current()"
SLOW = "SELECT pg_sleep($1::float8), txid_current()"


def _run(coroutine: Coroutine[Any, Any, T]) -> T:
    """asyncio.run in a thread of its own: other tests (the browser's) may leave an event loop
    running in this one."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    with scratch_pg_database("pc_groups") as sa_url:
        conninfo = _libpq(sa_url)
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute(
                "CREATE TABLE log (id bigserial PRIMARY KEY, member bigint NOT NULL, "
                "note text UNIQUE)"
            )
            conn.execute(
                "CREATE TABLE later (k int UNIQUE DEFERRABLE INITIALLY DEFERRED, member bigint)"
            )
            conn.execute(
                "CREATE FUNCTION fail(code text) RETURNS int LANGUAGE plpgsql AS "
                "$$ BEGIN RAISE EXCEPTION 'failed on purpose' USING ERRCODE = code; END $$"
            )
        yield conninfo


@pytest.fixture(autouse=True)
def _empty(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("TRUNCATE log, later")


def _order(customer: str) -> dict[str, Any]:
    return event("order.placed", order_data(line("cd", 2, "7.50")), customer=customer)


def _points(answer: dict[str, Any]) -> int:
    return int(answer["points"]["awarded"]) + int(answer["points"]["pending"])


def _notes(url: str) -> list[str]:
    with psycopg.connect(url) as conn:
        return [r[0] for r in conn.execute("SELECT note FROM log ORDER BY id")]


async def _connect(url: str) -> AsyncConnection[Any]:
    return await AsyncConnection.connect(url, autocommit=True)


def _with_pool(
    url: str, body: Callable[[AsyncConnectionPool[AsyncConnection[Any]]], Awaitable[T]]
) -> T:
    async def main() -> T:
        async with AsyncConnectionPool(
            url, min_size=1, max_size=4, kwargs={"autocommit": True}, open=False
        ) as pool:
            return await body(pool)

    return _run(main())


# --- the wire: run_together -------------------------------------------------------------------


def test_statements_sent_together_commit_together_and_answer_in_python_types(url: str) -> None:
    async def main() -> list[Any]:
        async with await _connect(url) as conn:
            return await run_together(
                conn,
                [
                    (LOG, [1, "a"]),
                    (LOG, [2, "b"]),
                    (
                        "SELECT $1::numeric, $2::timestamp, $3::text, txid_current()",
                        [Decimal("7.50"), datetime(2026, 1, 2, 3, 4, 5), None],
                    ),
                    ("SELECT 1 WHERE false", []),
                ],
            )

    rows = _run(main())
    first, second, third, nothing = rows
    assert first is not None
    assert second is not None
    assert third is not None
    assert isinstance(first[0], int)
    assert second[0] == first[0] + 1
    assert first[1] == second[1] == third[3]  # one transaction
    assert third[:3] == (Decimal("7.50"), datetime(2026, 1, 2, 3, 4, 5), None)
    assert nothing is None  # no row: None, as fetchone gives
    assert _notes(url) == ["a", "b"]


def test_one_failing_statement_commits_nothing_and_raises_its_own_error(url: str) -> None:
    async def main() -> list[Any]:
        async with await _connect(url) as conn:
            with pytest.raises(psycopg.errors.UniqueViolation):
                await run_together(conn, [(LOG, [1, "a"]), (LOG, [2, "a"]), (LOG, [3, "c"])])
            # the connection is idle and whole again: the same prepared statement still works
            assert conn.pgconn.transaction_status == psycopg.pq.TransactionStatus.IDLE
            return await run_together(conn, [(LOG, [4, "d"])])

    (row,) = _run(main())
    assert row is not None
    assert _notes(url) == ["d"]


def test_statements_are_prepared_once_per_connection(url: str) -> None:
    async def main() -> list[str]:
        async with await _connect(url) as conn:
            for n in range(3):
                await run_together(conn, [(LOG, [n, f"n{n}"]), (LOG, [n, f"m{n}"])])
            cur = await conn.execute(
                "SELECT statement FROM pg_prepared_statements WHERE name LIKE 'pc\\_%'"
            )
            return [r[0] for r in await cur.fetchall()]

    assert _run(main()) == [LOG]
    assert len(_notes(url)) == 6


def test_a_statement_that_does_not_prepare_fails_alone_and_leaves_no_name(url: str) -> None:
    bad = "SELEC nonsense"

    async def main() -> None:
        async with await _connect(url) as conn:
            with pytest.raises(psycopg.errors.SyntaxError):
                await run_together(conn, [(bad, []), (LOG, [1, "a"])])
            prepared = pipeline._prepared[conn]
            assert bad not in prepared.names
            assert LOG not in prepared.names  # its Parse was skipped too
            await run_together(conn, [(LOG, [1, "b"])])
            with pytest.raises(psycopg.errors.SyntaxError):  # and again: not a stale name
                await run_together(conn, [(bad, [])])

    _run(main())
    assert _notes(url) == ["b"]


def test_past_the_prepared_limit_statements_run_unprepared(
    url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pipeline, "MOST_PREPARED", 1)

    async def main() -> list[Any]:
        async with await _connect(url) as conn:
            first = await run_together(conn, [(LOG, [1, "a"])])
            other = "INSERT INTO log (member, note) VALUES ($1, $2) RETURNING note"
            return first + await run_together(conn, [(other, [2, "b"]), (other, [3, "c"])])

    rows = _run(main())
    assert [r[0] for r in rows[1:] if r] == ["b", "c"]
    assert _notes(url) == ["a", "b", "c"]


def test_a_cancelled_group_closes_its_connection_and_commits_nothing(url: str) -> None:
    async def main() -> bool:
        conn = await _connect(url)
        task = asyncio.ensure_future(run_together(conn, [(LOG, [1, "a"]), (SLOW, [5])]))
        await asyncio.sleep(0.3)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return conn.closed

    assert _run(main()) is True
    assert _notes(url) == []


def test_a_failed_commit_raises_the_servers_error(url: str) -> None:
    """A deferred unique key is checked at COMMIT, after every statement succeeded."""
    later = "INSERT INTO later (k, member) VALUES ($1, $2) RETURNING k"

    async def main() -> None:
        async with await _connect(url) as conn:
            with pytest.raises(psycopg.errors.UniqueViolation):
                await run_together(conn, [(later, [1, 1]), (later, [1, 2])])
            assert not conn.closed

    _run(main())
    with psycopg.connect(url) as check:
        assert check.execute("SELECT count(*) FROM later").fetchone() == (0,)


def test_a_parameter_that_cannot_be_sent_fails_before_anything_is(url: str) -> None:
    async def main() -> None:
        async with await _connect(url) as conn:
            with pytest.raises(psycopg.DataError):
                await run_together(conn, [(LOG, [1, "a"]), (LOG, [2, "nul\x00"])])
            assert not conn.closed  # nothing was sent: the connection and its statements stay
            await run_together(conn, [(LOG, [3, "c"])])

    _run(main())
    assert _notes(url) == ["c"]


# --- the groups ---------------------------------------------------------------------------------


def test_statements_waiting_together_share_one_transaction_in_member_order(url: str) -> None:
    async def body(pool: AsyncConnectionPool[AsyncConnection[Any]]) -> list[Any]:
        groups = CommitGroups(pool, lanes=1, most=32)
        busy = asyncio.ensure_future(groups.execute(SLOW, [0.3], 0))
        await asyncio.sleep(0.05)  # the only lane is busy: the next ones wait together
        members = [5, 3, 9, 1, 7]
        waiting = [groups.execute(LOG, [m, f"m{m}"], m) for m in members]
        return await asyncio.gather(busy, *waiting)

    rows = _with_pool(url, body)
    slow, *logged = rows
    assert len({row[1] for row in logged}) == 1  # one transaction for all five
    assert slow[1] != logged[0][1]
    assert _notes(url) == ["m1", "m3", "m5", "m7", "m9"]  # rows written in member order


def test_a_group_holds_at_most_its_limit(url: str) -> None:
    async def body(pool: AsyncConnectionPool[AsyncConnection[Any]]) -> list[Any]:
        groups = CommitGroups(pool, lanes=1, most=2)
        busy = asyncio.ensure_future(groups.execute(SLOW, [0.3], 0))
        await asyncio.sleep(0.05)
        rows = await asyncio.gather(*(groups.execute(LOG, [m, f"m{m}"], m) for m in range(5)))
        await busy
        return rows

    transactions = [row[1] for row in _with_pool(url, body)]
    assert len(set(transactions)) == 3  # 2 + 2 + 1


def test_the_answer_comes_only_after_the_commit(url: str) -> None:
    seen: list[list[str]] = []

    async def body(pool: AsyncConnectionPool[AsyncConnection[Any]]) -> None:
        groups = CommitGroups(pool, lanes=1, most=32)
        busy = asyncio.ensure_future(groups.execute(SLOW, [0.2], 0))
        await asyncio.sleep(0.05)

        async def one(m: int) -> None:
            await groups.execute(LOG, [m, f"m{m}"], m)
            seen.append(_notes(url))  # another connection, the moment the answer arrives

        await asyncio.gather(busy, one(1), one(2))

    _with_pool(url, body)
    assert len(seen) == 2
    assert all(notes == ["m1", "m2"] for notes in seen)


def test_a_statement_at_fault_fails_alone_and_the_others_commit_once(url: str) -> None:
    async def body(pool: AsyncConnectionPool[AsyncConnection[Any]]) -> Any:
        groups = CommitGroups(pool, lanes=1, most=32)
        busy = asyncio.ensure_future(groups.execute(SLOW, [0.3], 0))
        await asyncio.sleep(0.05)
        return await asyncio.gather(
            busy,
            groups.execute(LOG, [1, "a"], 1),
            groups.execute(LOG, [2, "a"], 2),  # the same note: a unique violation
            groups.execute(LOG, [3, "c"], 3),
            return_exceptions=True,
        )

    _, first, twin, third = _with_pool(url, body)
    assert isinstance(twin, psycopg.errors.UniqueViolation)
    assert not isinstance(first, BaseException)
    assert not isinstance(third, BaseException)
    assert first[1] != third[1]  # replayed alone, each in its own transaction
    assert _notes(url) == ["a", "c"]


def test_a_lost_connection_fails_the_whole_group_and_writes_nothing(url: str) -> None:
    async def body(pool: AsyncConnectionPool[AsyncConnection[Any]]) -> tuple[list[Any], Any]:
        groups = CommitGroups(pool, lanes=1, most=32)
        busy = asyncio.ensure_future(groups.execute(SLOW, [0.2], 0))
        await asyncio.sleep(0.05)
        doomed = [
            asyncio.ensure_future(groups.execute(LOG, [1, "a"], 1)),
            asyncio.ensure_future(groups.execute(SLOW, [10], 2)),
        ]
        await busy
        await asyncio.sleep(0.3)  # the group is in the server, sleeping
        async with await _connect(url) as killer:
            await killer.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE state = 'active' AND query LIKE 'SELECT pg_sleep%' "
                "AND pid <> pg_backend_pid() AND datname = current_database()"
            )
        failed = await asyncio.gather(*doomed, return_exceptions=True)
        after = await groups.execute(LOG, [3, "c"], 3)  # the pool gives a new connection
        return failed, after

    failed, after = _with_pool(url, body)
    assert all(isinstance(f, InDoubt) for f in failed)
    assert after is not None
    assert _notes(url) == ["c"]


def test_a_lone_statement_on_an_idle_lane_goes_at_once(url: str) -> None:
    async def body(pool: AsyncConnectionPool[AsyncConnection[Any]]) -> list[Any]:
        groups = CommitGroups(pool, lanes=2, most=32)
        one = await groups.execute(LOG, [1, "a"], 1)
        two = await groups.execute(LOG, [2, "b"], 2)
        return [one, two]

    one, two = _with_pool(url, body)
    assert one[1] != two[1]
    assert _notes(url) == ["a", "b"]


# --- through the API --------------------------------------------------------------------------


@pytest.fixture
def group_sizes(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The size of every commit group the lane settles."""
    sizes: list[int] = []
    real = CommitGroups._settle

    async def spy(self: CommitGroups, group: list[Any]) -> None:
        sizes.append(len(group))
        await real(self, group)

    monkeypatch.setattr(CommitGroups, "_settle", spy)
    return sizes


def test_concurrent_events_through_the_api_land_once_each_in_groups(
    api: Api, db: Database, backend: str, group_sizes: list[int]
) -> None:
    """A burst of events from many threads at once: several for each member, twins of some
    event ids, and a new customer's first orders. Every event is recorded once, each balance
    is the sum of its events' points, and the ledger verifies."""
    customers = [uid("burst") for _ in range(4)]
    earned: Counter[str] = Counter()
    recorded: list[str] = []
    member_of: dict[str, int] = {}
    for customer in customers[:3]:  # known to this process: the express lane takes them
        first = _order(customer)
        answer = post_event(api, first).json()
        earned[customer] += _points(answer)
        recorded.append(first["id"])
    bodies = [_order(customers[n % 4]) for n in range(48)]
    sent = bodies + bodies[:6]  # six twins, sent at the same moment as their originals
    with ThreadPoolExecutor(12) as pool:
        answers = list(pool.map(lambda body: post_event(api, body), sent))
    refused = [a.json()["error"]["code"] for a in answers if a.status_code != 200]
    assert set(refused) <= {"concurrent_write"}  # a twin that lost the race: to retry
    for body in bodies:  # every event's stored answer, as a retry gets it
        again = post_event(api, body)
        assert again.status_code == 200
        customer = body["member"]["external_id"]
        earned[customer] += _points(again.json())
        member_of[customer] = again.json()["member_id"]
        recorded.append(body["id"])
    with db.reader() as session:
        stored = session.execute(
            select(Event.source_id).where(Event.program_id == api.program.id)
        ).scalars()
        assert sorted(stored) == sorted(recorded)  # each event once, nothing else
        report = verify(session, api.program.id)
    assert not report.violations
    for customer in customers:
        balance = api.client.get(
            f"/v1/members/{member_of[customer]}/balance", headers=api.headers()
        )
        held = balance.json()
        assert held["available"] + held["pending"] == earned[customer] > 0
    if backend == "postgresql":
        assert max(group_sizes) > 1  # statements did share commits


def _behind_a_slow_one(url: str, make: Callable[[CommitGroups], list[Awaitable[Any]]]) -> list[Any]:
    """Run `make`'s statements as one group: the only lane is busy with a slow statement
    when they arrive. Their outcomes (rows or exceptions), in order."""

    async def body(pool: AsyncConnectionPool[AsyncConnection[Any]]) -> list[Any]:
        groups = CommitGroups(pool, lanes=1, most=32)
        busy = asyncio.ensure_future(groups.execute(SLOW, [0.3], 0))
        await asyncio.sleep(0.05)
        outcomes = await asyncio.gather(*make(groups), return_exceptions=True)
        await busy
        return list(outcomes)

    return _with_pool(url, body)


def test_a_server_error_of_the_operational_kind_is_still_one_statements_fault(url: str) -> None:
    """A deadlock (40P01) is an OperationalError in psycopg, but the server answered: the group
    was rolled back, and the others run again alone."""
    first, deadlocked, third = _behind_a_slow_one(
        url,
        lambda groups: [
            groups.execute(LOG, [1, "a"], 1),
            groups.execute("SELECT fail($1)", ["40P01"], 2),
            groups.execute(LOG, [3, "c"], 3),
        ],
    )
    assert isinstance(deadlocked, psycopg.errors.DeadlockDetected)
    assert not isinstance(first, BaseException)
    assert not isinstance(third, BaseException)
    assert _notes(url) == ["a", "c"]


def test_a_failed_commit_in_a_group_runs_each_statement_again_alone(url: str) -> None:
    later = "INSERT INTO later (k, member) VALUES ($1, $2) RETURNING k"
    first, twin = _behind_a_slow_one(
        url,
        lambda groups: [
            groups.execute(later, [1, 1], 1),
            groups.execute(later, [1, 2], 2),
        ],
    )
    assert first == (1,)
    assert isinstance(twin, psycopg.errors.UniqueViolation)


def test_a_statement_with_a_parameter_that_cannot_be_sent_fails_alone(url: str) -> None:
    first, bad, third = _behind_a_slow_one(
        url,
        lambda groups: [
            groups.execute(LOG, [1, "a"], 1),
            groups.execute(LOG, [2, "nul\x00"], 2),
            groups.execute(LOG, [3, "c"], 3),
        ],
    )
    assert isinstance(bad, psycopg.DataError)
    assert not isinstance(first, BaseException)
    assert not isinstance(third, BaseException)
    assert _notes(url) == ["a", "c"]


def test_an_unexpected_failure_leaves_no_request_waiting(
    url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = CommitGroups._together

    async def broken(self: CommitGroups, group: list[Any]) -> Any:
        if len(group) > 1:
            raise RuntimeError("a bug")
        return await real(self, group)

    monkeypatch.setattr(CommitGroups, "_together", broken)

    async def body(pool: AsyncConnectionPool[AsyncConnection[Any]]) -> tuple[list[Any], Any]:
        groups = CommitGroups(pool, lanes=1, most=2)
        busy = asyncio.ensure_future(groups.execute(SLOW, [0.3], 0))
        await asyncio.sleep(0.05)
        waiting = [groups.execute(LOG, [m, f"m{m}"], m) for m in range(5)]
        outcomes = await asyncio.wait_for(asyncio.gather(*waiting, return_exceptions=True), 10)
        await busy
        return outcomes, await groups.execute(LOG, [9, "after"], 9)

    outcomes, after = _with_pool(url, body)
    assert [type(o) for o in outcomes[:4]] == [RuntimeError] * 4  # two groups of two
    assert not isinstance(outcomes[4], BaseException)  # the last one, alone
    assert after is not None
    assert _notes(url) == ["m4", "after"]


def test_a_request_cancelled_while_its_group_runs_leaves_the_others_answered(url: str) -> None:
    async def body(pool: AsyncConnectionPool[AsyncConnection[Any]]) -> list[Any]:
        groups = CommitGroups(pool, lanes=1, most=32)
        busy = asyncio.ensure_future(groups.execute(SLOW, [0.2], 0))
        await asyncio.sleep(0.05)
        tasks = [asyncio.ensure_future(groups.execute(LOG, [m, f"m{m}"], m)) for m in (1, 2, 3)]
        await busy
        await asyncio.sleep(0)  # the group of three is on its way
        tasks[1].cancel()
        return list(await asyncio.gather(*tasks, return_exceptions=True))

    first, cancelled, third = _with_pool(url, body)
    assert isinstance(cancelled, asyncio.CancelledError)
    assert not isinstance(first, BaseException)
    assert not isinstance(third, BaseException)
    assert _notes(url) == ["m1", "m2", "m3"]  # its statement still committed with the group


def test_a_request_cancelled_while_the_lane_opens_does_not_close_the_lane(url: str) -> None:
    async def main() -> Any:
        lane = AsyncLane(url, 2)
        try:
            first = asyncio.ensure_future(lane.execute(LOG, [1, "a"], 1))
            await asyncio.sleep(0)
            first.cancel()
            with pytest.raises(asyncio.CancelledError):
                await first
            return await lane.execute(LOG, [2, "b"], 2)
        finally:
            await lane.close()

    assert _run(main()) is not None
    assert "b" in _notes(url)
