"""The express lane of `POST /v1/events` on PostgreSQL: one statement, one round trip.

Most events a store sends are an order (or a review, a sign-up...) of a customer seen before,
with no debt, under rules that look only at the event. For those, everything the event writes
is known in Python before the database is asked anything: the member id (from the process's
member cache), the ids of the new rows (drawn from the sequences in blocks), the points (the
rules on the event alone), the postings and lot (no debt to pay off first) and the stored
result. So the whole event goes out as a single statement: an UPDATE of the member's balance
guarded by "no debt, event id and order id not seen before", and every INSERT made conditional
on that UPDATE having found its row. Either all of it happens, or nothing does and the caller
takes the careful path (`events.fastpath`), which reads first.

The statements a worker has in flight at once share a transaction and its commit
(`events.commitgroups`); each is answered only once that commit is done, and one that fails
runs again alone, so an event's outcome is what it would have been in a transaction of its own.

A twin of the same event racing this one fails on the unique event id, and its client gets
409 `concurrent_write`; a retry then gets the stored result. Nothing is half-written: it is one
statement.
"""

from __future__ import annotations

import asyncio
import itertools
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, Literal

import psycopg
from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool
from sqlalchemy import Table
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from punchcard.db import Database
from punchcard.events import earnplan
from punchcard.events.commitgroups import CommitGroups
from punchcard.events.earnplan import Evaluated
from punchcard.events.service import EventInput
from punchcard.events.types import OrderPlaced, check_data
from punchcard.ledger.domain import MAX_POINTS, BalanceView
from punchcard.members.domain import new_card_number, new_qr_token
from punchcard.models import (
    Award,
    Event,
    LedgerTransaction,
    Lot,
    LotEntry,
    Order,
    PendingCredit,
    Posting,
)
from punchcard.models.base import table_of
from punchcard.programs.domain import ProgramSettings
from punchcard.rawsql import serial_sequence
from punchcard.rules.domain import RuleSet, evaluate
from punchcard.rules.service import RulesInForce

BLOCK = 2000  # ids drawn from a sequence at a time: each draw stalls the worker's loop
GROUP_LANES = 1  # commit groups in flight per worker
GROUP_MOST = 32  # statements in one commit group at most

_TABLES: tuple[tuple[str, Table, tuple[str, ...]], ...] = (
    ("transactions", table_of(LedgerTransaction), earnplan.TRANSACTION_COLUMNS),
    ("postings", table_of(Posting), earnplan.POSTING_COLUMNS),
    ("lots", table_of(Lot), earnplan.LOT_COLUMNS),
    ("lot_entries", table_of(LotEntry), earnplan.LOT_ENTRY_COLUMNS),
    ("pending", table_of(PendingCredit), earnplan.PENDING_COLUMNS),
    ("events", table_of(Event), earnplan.EVENT_COLUMNS),
    ("orders", table_of(Order), earnplan.ORDER_COLUMNS),
    ("awards", table_of(Award), earnplan.AWARD_COLUMNS),
)


class IdBlocks:
    """Ids for new rows, drawn from the tables' sequences `BLOCK` at a time per process.
    Sequences never hand out a number twice, committed or not, so blocks of several
    processes never overlap; ids left unused when a process stops are gaps, nothing more."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._lock = threading.Lock()
        self._free: dict[str, Iterator[int]] = {}

    def take(self, table: str) -> int:
        with self._lock:
            found = next(self._free.get(table, iter(())), None)
            if found is None:
                self._free[table] = iter(self._draw(table))
                found = next(self._free[table])
            return found

    def _draw(self, table: str) -> list[int]:
        with self._db.engine.connect() as connection:
            conn: Any = connection.connection.driver_connection
            rows = conn.execute(
                f"SELECT nextval({serial_sequence(table)}) FROM generate_series(1, %s)",
                (BLOCK,),
            ).fetchall()
            conn.commit()
        return [int(r[0]) for r in rows]


def looks_at_member(rules: RuleSet, event_type: str) -> bool:
    """Whether a rule for this event type needs the member's history (first order, tier):
    then the event needs the careful path, which reads it."""
    return any(
        r.conditions.first_order is not None or r.conditions.tiers is not None
        for r in rules.rules
        if r.active and event_type in r.events
    )


def _moment(value: datetime | None) -> datetime | None:
    return None if value is None else value.astimezone(UTC).replace(tzinfo=None)


@dataclass(frozen=True)
class _Prepared:
    sql: str
    params: list[Any]
    result: dict[str, Any]
    member_id: int


class AsyncLane:
    """The express statement sent from the event loop, on asynchronous connections of a pool
    of their own: no thread-pool hand-off (a sixth of a worker's time, by py-spy). The pool
    belongs to the loop that opened it (a uvicorn worker has one); an event on another loop
    (a test client started without its context manager) takes the careful path."""

    def __init__(self, url: str, size: int) -> None:
        self._conninfo = (
            make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        )
        self._size = size
        self._lanes = max(1, min(GROUP_LANES, size))
        self._groups: CommitGroups | None = None
        self._pool: AsyncConnectionPool[AsyncConnection[Any]] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._opened: asyncio.Future[None] | None = None

    async def execute(
        self, sql: str, params: list[Any], order: int
    ) -> tuple[Any, ...] | Literal[False] | None:
        """The statement's row once it has committed (with the others of its commit group,
        `events.commitgroups`); False when this loop has no pool. `order`: the member id."""
        loop = asyncio.get_running_loop()
        if self._pool is None:
            self._loop = loop
            self._pool = AsyncConnectionPool(
                self._conninfo,
                min_size=1,
                max_size=self._size,
                open=False,
                kwargs={"autocommit": True},
            )
            self._groups = CommitGroups(self._pool, lanes=self._lanes, most=GROUP_MOST)
            self._opened = asyncio.ensure_future(self._pool.open())
        if loop is not self._loop or self._opened is None or self._groups is None:
            return False
        try:
            await asyncio.shield(self._opened)  # one cancelled request must not cancel the opening
            return await self._groups.execute(sql, params, order)
        except psycopg.Error as exc:
            lost = isinstance(exc, psycopg.OperationalError)
            raise DBAPIError.instance(
                None, None, exc, psycopg.Error, connection_invalidated=lost
            ) from exc

    async def close(self) -> None:
        if self._pool is not None and self._loop is asyncio.get_running_loop():
            await self._pool.close()


async def try_ingest(
    lane: AsyncLane,
    blocks: IdBlocks,
    *,
    program: ProgramSettings,
    rules: RulesInForce,
    event: EventInput,
    member_id: int | None,
    now: datetime,
) -> tuple[dict[str, Any] | None, int | None] | None:
    """(the event's result, its member id) when the express lane took it; (None, ...) when the
    careful path must (debt, a replay, an existing order, zero points, bad data: it gives the
    right answer); None when this event loop has no connections of the lane. `member_id`
    None: a customer this process has not seen, enrolled by the same statement; if another
    process enrolled them already, the lane tries once more as an existing member."""
    prepared = _prepare(blocks, program, rules, event, member_id, now)
    if prepared is None:
        return None, None
    done = await lane.execute(prepared.sql, prepared.params, prepared.member_id)
    if done is False:
        return None
    result, known = _outcome(prepared, done)
    if result is None and member_id is None and known is not None:
        # enrolled by another process: once more, as an existing member
        prepared = _prepare(blocks, program, rules, event, known, now)
        if prepared is not None:
            done = await lane.execute(prepared.sql, prepared.params, prepared.member_id)
            result, known = _outcome(prepared, None if done is False else done)
    return result, known


def _outcome(
    prepared: _Prepared, done: tuple[Any, ...] | None
) -> tuple[dict[str, Any] | None, int | None]:
    if done is not None and done[0] == 1:
        return prepared.result, prepared.member_id
    return None, (None if done is None or done[1] is None else int(done[1]))


def _prepare(
    blocks: IdBlocks,
    program: ProgramSettings,
    rules: RulesInForce,
    event: EventInput,
    member_id: int | None,
    now: datetime,
) -> _Prepared | None:
    """Everything the event writes, as one statement and its parameters; None when the
    event is not for this lane."""
    try:
        data = check_data(event.type, event.data)
    except Exception:  # the careful path raises the proper 4xx
        return None
    order = data if isinstance(data, OrderPlaced) else None
    new_member = member_id is None
    evaluation = evaluate(rules.rules, earnplan.event_facts(event, order, new_member or None))
    if not 0 < evaluation.total <= MAX_POINTS:
        return None
    member = blocks.take("members") if member_id is None else member_id
    planner = earnplan.Planner(
        program,
        rules.version,
        {member: BalanceView(0, 0, 0)},
        now,
        _moment,
        _one(blocks, "ledger_transactions"),
        _one(blocks, "events"),
        _one(blocks, "lots"),
        money=lambda value: value,
    )
    result = planner.add(Evaluated(event, order, member, evaluation))
    rows = planner.rows
    shape = tuple(len(getattr(rows, name)) for name, _, _ in _TABLES)
    sql = _statement(shape, order is not None, bool(rows.lots), new_member)
    available, pending, _, lifetime = rows.deltas[member]
    params: list[Any] = []
    if new_member:
        at = _moment(min(event.occurred_at, now))
        external_id = str(event.member["external_id"])
        card, token = new_card_number(), new_qr_token()
        params += [member, program.id, external_id, event.channel.value, card, token, at, at]
    params += [program.id, event.source_id]
    if order is not None:
        params += [program.id, order.order_id]
    params += [available, pending, lifetime]
    if not new_member:
        params += [program.id, member]
    for name, _, _ in _TABLES:
        for row in getattr(rows, name):
            params.extend(row)
    if new_member:
        params += [program.id, str(event.member["external_id"])]
    return _Prepared(sql, params, result, member)


def _one(blocks: IdBlocks, table: str) -> Iterator[int]:
    yield blocks.take(table)


@lru_cache(maxsize=256)
def _statement(shape: tuple[int, ...], is_order: bool, immediate: bool, new_member: bool) -> str:
    """The statement for an event with this many rows per table; built once per shape.

    `bal` is the gate: the member's balance row, updated (or, for a new member, inserted)
    with the event's points only when the event and order ids are new (and, for points
    available at once, the member owes nothing); every other row is inserted from it."""
    unseen = ["NOT EXISTS (SELECT 1 FROM events WHERE program_id = %s AND source_id = %s)"]
    if is_order:
        unseen.append("NOT EXISTS (SELECT 1 FROM orders WHERE program_id = %s AND order_id = %s)")
    if new_member:
        parts = [
            "WITH mem AS (INSERT INTO members (id, program_id, external_id, channel, "
            "card_number, qr_token, created_at, updated_at) SELECT %s::bigint, %s::bigint, "
            "%s::varchar, %s::varchar, %s::varchar, %s::varchar, %s::timestamp, %s::timestamp "
            f"WHERE {' AND '.join(unseen)} ON CONFLICT DO NOTHING RETURNING id, program_id), "
            "bal AS (INSERT INTO balances (program_id, member_id, available, pending, debt, "
            "lifetime_earned) SELECT program_id, id, %s, %s, 0, %s FROM mem "
            "RETURNING member_id)"
        ]
    else:
        guards = ["program_id = %s", "member_id = %s"]
        if immediate:
            guards.append("debt = 0")  # debt takes new points first: the careful path's job
        # the unseen checks come first in the parameters: keep their order in the SQL text
        parts = [
            "WITH seen AS (SELECT " + " AND ".join(unseen) + " AS fresh), "
            "bal AS (UPDATE balances SET available = available + %s, pending = pending + %s, "
            "lifetime_earned = lifetime_earned + %s FROM seen WHERE seen.fresh AND "
            + " AND ".join(guards)
            + " RETURNING member_id)"
        ]
    for index, ((_, table, columns), count) in enumerate(zip(_TABLES, shape, strict=True)):
        if count:
            parts.append(f", i{index} AS ({_insert(table, columns, count)})")
    if new_member:  # seen from before the statement: the member another process enrolled
        parts.append(
            " SELECT (SELECT count(*) FROM bal), (SELECT id FROM members "
            "WHERE program_id = %s AND external_id = %s)"
        )
    else:
        parts.append(" SELECT count(*), NULL FROM bal")
    numbers = itertools.count(1)  # $n placeholders: a raw cursor sends them without parsing
    return re.sub("%s", lambda _: f"${next(numbers)}", "".join(parts))


def _insert(table: Table, columns: tuple[str, ...], count: int) -> str:
    """INSERT ... SELECT from a VALUES list, joined to `bal` so that it inserts only when the
    guarded balance update found its row. Every value is cast to its column's type."""
    dialect = postgresql.dialect()  # type: ignore[no-untyped-call]
    casts = [table.c[c].type.compile(dialect=dialect) for c in columns]
    row = "(" + ", ".join(f"%s::{cast}" for cast in casts) + ")"
    names = ", ".join(columns)
    values = ", ".join([row] * count)
    return (
        f"INSERT INTO {table.name} ({names}) SELECT v.* FROM bal, (VALUES {values}) AS v({names})"
    )
