"""What the database already holds about a batch of earning events, read in one round trip
(`read`), and the part of it a batch's plan stands on (`basis`): the fast path plans a large
batch on an unlocked read and keeps the plan only if the locked read has the same basis. On
SQLite, whose ids come from the largest one under the write lock, a batch planned before the
lock plans with ids set aside for it (`IdBlock`)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from punchcard.engagement.hooks import Engaged
from punchcard.events.service import EventInput
from punchcard.ledger.domain import BalanceView
from punchcard.rawsql import Raw
from punchcard.rules.domain import RuleSet
from punchcard.tiers import repository as tiers_repo
from punchcard.tiers.domain import Held, Policy


@dataclass
class Known:
    """What the database already holds about a batch, read after its members are locked."""

    members: dict[tuple[str, str], int]  # ("external_id" | "id", value) -> member id
    balances: dict[int, BalanceView]
    results: dict[str, str]  # source id -> stored result
    orders: set[str]
    first_orders: dict[int, datetime]
    tx_ids: list[int]
    event_ids: list[int]
    lot_ids: list[int]
    held: dict[int, Held] = field(default_factory=dict)  # stored tiers (programs with tiers)
    change_ids: list[int] = field(default_factory=list)


ID_TABLES = ("ledger_transactions", "events", "lots")  # the ids an earning batch draws
# A batch's members and balances, completed by which members (`read`). From the members to
# their balances, never the other way: without statistics SQLite chose to read every balance
# of the program and look each member up, 20,000 rows for a batch of 1,000 (50 ms against 10
# on a cold cache), and the write lock was held for it. SQLite keeps the tables of a CROSS
# JOIN in the order written; PostgreSQL plans it as any inner join.
MEMBERS_SQL = (
    "SELECT b.member_id, m.external_id, b.available, b.pending, b.debt "
    "FROM members m CROSS JOIN balances b "
    "WHERE b.member_id = m.id AND b.program_id = m.program_id AND m.program_id = ? AND "
)


@dataclass(frozen=True)
class IdBlock:
    """Ids of `ID_TABLES` set aside for one batch planned before SQLite's write lock (the
    import's processes, `importworkers`): `size` ids from each of `firsts`. The import sets
    aside one block per batch, all of them at or below `ceilings`. Another writer (the API, say)
    takes the largest id plus one and may land in a block not yet written: the batch then sees
    its block taken under the lock (`taken`) and draws ids above every block (`above`)."""

    firsts: tuple[int, int, int]
    size: int
    ceilings: tuple[int, int, int]
    # How far above the largest id the blocks of batches in flight may reach (`idslots`).
    spread: int = 0

    def ids(self) -> tuple[list[int], list[int], list[int]]:
        tx, ev, lot = (list(range(first, first + self.size)) for first in self.firsts)
        return tx, ev, lot

    def taken(self, raw: Raw) -> bool:
        """Whether any row already holds one of these ids (read under the write lock)."""
        found = [
            raw.cursor(
                f"SELECT EXISTS (SELECT 1 FROM {table} WHERE id BETWEEN ? AND ?)",
                (first, first + self.size - 1),
            ).fetchone()[0]
            for table, first in zip(ID_TABLES, self.firsts, strict=True)
        ]
        return any(found)

    def above(self, raw: Raw, count: int) -> tuple[list[int], list[int], list[int]]:
        """`count` fresh ids of each table above every block (read under the write lock)."""
        starts = [
            max(top + self.spread, ceiling) + 1
            for top, ceiling in zip(tops(raw), self.ceilings, strict=True)
        ]
        tx, ev, lot = (list(range(start, start + count)) for start in starts)
        return tx, ev, lot


def tops(raw: Raw) -> tuple[int, int, int]:
    """The largest id of each of `ID_TABLES` (on SQLite, under the write lock: the last taken)."""
    found = [raw.cursor(f"SELECT coalesce(max(id), 0) FROM {t}").fetchone()[0] for t in ID_TABLES]
    return int(found[0]), int(found[1]), int(found[2])


def read(
    raw: Raw,
    program_id: int,
    events: list[EventInput],
    orders: list[str],
    policy: Policy | None = None,
    *,
    lock: bool = True,
    draw: bool = True,
    history: bool = True,
    members_only: bool = False,
) -> Known:
    """`lock`: take the members' balance rows (PostgreSQL) before the other reads; `draw`:
    draw ids for every event (a second read of the same batch has its ids already);
    `history`: read each member's first order, which only a first-order condition looks at
    (`first_orders_matter`): a lookup per member, a tenth of PostgreSQL's time in a batch;
    `members_only`: the members and their balances alone (`held_basis`), read after the
    batch's own rows were inserted, which the other reads would find."""
    refs = [e.member_ref for e in events]
    ext = sorted({v for k, v in refs if k == "external_id"})
    by_id = sorted({int(v) for k, v in refs if k == "id"})
    order_by = " ORDER BY b.member_id"
    lock_sql = order_by + (" FOR UPDATE OF b" if raw.postgres and lock else "")
    member_match = (
        f"(({raw.any_of('m.external_id')}) OR ({raw.any_of('m.id', 'bigint')}))"
        if by_id
        else raw.any_of("m.external_id")
    )
    member_params: list[Any] = [raw.listed(ext)] + ([raw.listed(by_id)] if by_id else [])
    n = len(events)
    with raw.pipeline():
        locked = raw.cursor(MEMBERS_SQL + member_match + lock_sql, [program_id, *member_params])
        if members_only:
            return _held(locked)
        stored = raw.cursor(
            "SELECT source_id, result FROM events WHERE program_id = ? AND "
            + raw.any_of("source_id"),
            (program_id, raw.listed([e.source_id for e in events])),
        )
        placed = raw.cursor(
            "SELECT order_id FROM orders WHERE program_id = ? AND " + raw.any_of("order_id"),
            (program_id, raw.listed(orders)),
        )
        first = history and raw.cursor(
            "SELECT m.id, (SELECT min(o.placed_at) FROM orders o WHERE o.program_id = "
            "m.program_id AND o.member_id = m.id) FROM members m "
            f"WHERE m.program_id = ? AND {member_match}",
            [program_id, *member_params],
        )
        tables = ID_TABLES if draw else ()
        ids = [raw.ids_cursor(table, n) for table in tables]
        if policy is not None:  # one tier change per event; catch-ups draw more as needed
            held = tiers_repo.held_cursor(raw, program_id, member_match, member_params)
            if draw:
                ids.append(raw.ids_cursor("tier_changes", n))
    found = _held(locked)
    members, balances = found.members, found.balances
    first_orders = {int(m): raw.read_moment(t) for m, t in first.fetchall()} if first else {}
    tx_ids, event_ids, lot_ids = [raw.drawn_ids(cursor, n) for cursor in ids[:3]] or [[], [], []]
    known = Known(
        members,
        balances,
        dict(stored.fetchall()),
        {r[0] for r in placed.fetchall()},
        {m: t for m, t in first_orders.items() if t is not None},
        tx_ids,
        event_ids,
        lot_ids,
    )
    if policy is not None:
        known.held = tiers_repo.held_rows(raw, held)
        known.change_ids = raw.drawn_ids(ids[3], n) if draw else []
    return known


def _held(cursor: Any) -> Known:
    """The members and balances of the first read's cursor, and nothing else."""
    members: dict[tuple[str, str], int] = {}
    balances: dict[int, BalanceView] = {}
    for member_id, external_id, available, pending, debt in cursor.fetchall():
        members[("external_id", external_id)] = member_id
        members[("id", str(member_id))] = member_id
        balances[member_id] = BalanceView(int(available), int(pending), int(debt))
    return Known(members, balances, {}, set(), {}, [], [], [])


def with_enrolled(known: Known, enrolled: Known) -> Known:
    """`known` completed with a read of just the events whose members were enrolled after it
    (`enrolled`, read without drawing ids): their members, balances, stored tiers and first
    orders. The ids, and the event and order ids already recorded, stay as first read."""
    return replace(
        known,
        members={**known.members, **enrolled.members},
        balances={**known.balances, **enrolled.balances},
        results={**known.results, **enrolled.results},
        orders=known.orders | enrolled.orders,
        first_orders={**known.first_orders, **enrolled.first_orders},
        held={**known.held, **enrolled.held},
    )


def first_orders_matter(rules: RuleSet, events: list[EventInput], engaged: Engaged | None) -> bool:
    """Whether a member's first order can change what a batch writes: a rule for one of its
    event types has a first-order condition, or engagement features (whose conditions may have
    one) see the events."""
    if engaged is None or engaged:
        return True
    types = {e.type for e in events}
    return any(
        r.conditions.first_order is not None for r in rules.rules if r.active and types & r.events
    )


def held_basis(known: Known) -> tuple[Any, ...]:
    """The part of `basis` that unique keys cannot check: which members exist, and their
    debts (`batchwrite.insert_early`)."""
    return known.members, {m: b.debt for m, b in known.balances.items()}


def basis(known: Known, first_orders: bool) -> tuple[Any, ...]:
    """What a batch's plan depends on of the database's state: which members exist, their
    debt (a credit pays it first), the event ids and order ids already recorded, and, where
    a condition looks at it, their first order. Balances otherwise change only by the
    increments written, so another batch crediting the same member meanwhile leaves the plan
    as good as it was."""
    debts = {m: b.debt for m, b in known.balances.items()}
    history = known.first_orders if first_orders else None
    return (known.members, debts, history, known.results, known.orders)
