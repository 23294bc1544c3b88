"""Commit groups: the express statements a worker has in flight at the same moment, sent to
PostgreSQL as one transaction in one round trip, so that they share one commit and one WAL
flush.

An express statement alone is its own transaction: its answer waits for a WAL flush, and
under load most of PostgreSQL's backends were found waiting on `WALWrite` or `WALSync`
(docs/performance.md). Here a worker keeps at most `lanes` groups in flight; a statement that
arrives while they are all busy waits for the next group, which takes every statement waiting
by then (up to `most`). Nothing waits on a timer: a lone statement on an idle worker goes at
once, alone, exactly as before, and groups form only when the worker is busy.

What may not change is what an event's answer promises:

- A statement's answer is given only after its group's COMMIT succeeded, so an acknowledged
  event is durable, as before.
- Every express statement is guarded (it writes only if its event id and order id are new and
  its member's balance row qualifies), so running one again is harmless. When a group fails
  for a reason of one statement (a twin event racing in another process, a deadlock), the
  group is rolled back and each statement runs again alone: each then gets the answer it would
  have had without the group, and the one at fault fails alone.
- When the server gave no verdict (the connection failed mid-way: the database restarted or
  went away), a COMMIT may or may not have happened; every statement of the group gets the
  error (`pipeline.InDoubt`), and its request takes the careful path, which reads before it
  writes and so finds an event that did commit. The same goes when no connection can be had.
  Any error the server did answer with (a unique key, a deadlock, a timeout, a failed COMMIT)
  means the group was rolled back, and its statements run again alone.
- A group takes its members' balance rows in the order of their ids, so two groups of two
  workers never wait for each other in a circle.

The price: a group that waits (for a member's row locked by a batch, say) holds up the events
queued behind it in that worker, where a lone statement held up only its own member's events.
With one group in flight per worker (`express.GROUP_LANES`), measured best under load, such a
wait lasts as long as the other transaction holds the lock: a batch holds its members for a
fraction of a second.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from punchcard.events.pipeline import InDoubt, Row, run_together


@dataclass(order=True)
class _Waiting:
    order: int  # the member id: rows are locked in this order
    sql: str = field(compare=False)
    params: list[Any] = field(compare=False)
    answer: asyncio.Future[Row] = field(compare=False)


class CommitGroups:
    """The statements of one event loop, committed in groups on connections of `pool`."""

    def __init__(
        self, pool: AsyncConnectionPool[AsyncConnection[Any]], *, lanes: int, most: int
    ) -> None:
        self._pool = pool
        self._lanes = lanes
        self._most = most
        self._busy = 0
        self._waiting: list[_Waiting] = []
        self._tasks: set[asyncio.Task[None]] = set()

    async def execute(self, sql: str, params: list[Any], order: int) -> Row:
        """The statement's first row, once the transaction that ran it has committed."""
        answer: asyncio.Future[Row] = asyncio.get_running_loop().create_future()
        self._waiting.append(_Waiting(order, sql, params, answer))
        self._start()
        return await answer

    def _start(self) -> None:
        if self._busy < self._lanes and self._waiting:
            self._busy += 1
            task = asyncio.ensure_future(self._drain())
            self._tasks.add(task)  # the loop keeps only a weak reference to a task
            task.add_done_callback(self._tasks.discard)

    async def _drain(self) -> None:
        try:
            while self._waiting:
                group = sorted(self._waiting[: self._most])
                del self._waiting[: self._most]
                await self._settle(group)
        finally:
            self._busy -= 1
            self._start()  # a drain that ended early leaves no one waiting

    async def _settle(self, group: list[_Waiting]) -> None:
        try:
            if len(group) == 1:
                await self._alone(group[0])
                return
            try:
                rows = await self._together(group)
            except (InDoubt, PoolTimeout) as exc:  # no verdict, or no connection at all
                _fail(group, exc)
                return
            except psycopg.Error:  # the server's verdict: rolled back; each runs again, alone
                for waiting in group:
                    await self._alone(waiting)
                return
            for waiting, row in zip(group, rows, strict=True):
                if not waiting.answer.done():
                    waiting.answer.set_result(row)
        except Exception as exc:  # never leave a request waiting for ever
            _fail(group, exc)
        except BaseException as exc:
            _fail(group, exc)
            raise

    async def _alone(self, waiting: _Waiting) -> None:
        try:
            (row,) = await self._run([waiting])
        except Exception as exc:
            _fail([waiting], exc)
        else:
            if not waiting.answer.done():
                waiting.answer.set_result(row)

    async def _together(self, group: list[_Waiting]) -> list[Row]:
        return await self._run(group)

    async def _run(self, group: list[_Waiting]) -> list[Row]:
        async with self._pool.connection() as conn:
            return await run_together(conn, [(w.sql, w.params) for w in group])


def _fail(group: list[_Waiting], exc: BaseException) -> None:
    for waiting in group:
        if waiting.answer.done():
            continue
        if isinstance(exc, asyncio.CancelledError):
            waiting.answer.cancel()
        else:
            waiting.answer.set_exception(exc)
