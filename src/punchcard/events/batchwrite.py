"""The rows of an earning batch, written: the members it enrols, and what it planned
(`earnplan`) for the ledger, the events, the orders and the balances. `fastpath` decides
when; this module says how each database takes them (one statement or a pipeline, COPY for
many rows, a savepoint for rows inserted before the batch's locks)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.exc import DBAPIError

from punchcard.events import earnplan
from punchcard.events.service import EventInput
from punchcard.members.domain import new_card_number, new_qr_token
from punchcard.programs.domain import ProgramSettings
from punchcard.rawsql import COPY_THRESHOLD, Raw
from punchcard.tiers.batch import TierBatch

EARLY_ROWS = "early_rows"  # the savepoint of rows inserted before the locks (`insert_early`)
UNIQUE_VIOLATION, DEADLOCK_DETECTED = "23505", "40P01"  # PostgreSQL's SQLSTATE codes


def enrol(
    raw: Raw, program: ProgramSettings, events: list[EventInput], now: datetime, *, apart: bool
) -> None:
    """Members for the unknown external ids, with their balance rows; a racing enrolment of
    the same customer makes no second member (ON CONFLICT DO NOTHING).

    On PostgreSQL the enrolment commits on its own connection: this transaction already holds
    the locks of its known members, and a concurrent batch inserting the same new customer
    while waiting for one of those locks would deadlock with it. A member enrolled by an event
    that then fails stays enrolled, as after `POST /v1/members`. `apart`: commit on another
    connection on SQLite too (a batch planned before its write lock, `fastpath.Early`)."""
    if raw.postgres or apart:
        with raw.beside() as other:
            _insert_members(other, program, events, now)
    else:  # one writer at a time: no one to deadlock with
        _insert_members(raw, program, events, now)


def _insert_members(
    raw: Raw, program: ProgramSettings, events: list[EventInput], now: datetime
) -> None:
    first_seen: dict[str, EventInput] = {}
    for event in events:
        kind, value = event.member_ref
        if kind == "external_id" and (
            value not in first_seen or event.occurred_at < first_seen[value].occurred_at
        ):
            first_seen[value] = event
    rows = []
    for external_id, event in sorted(first_seen.items()):
        at = raw.moment(min(event.occurred_at, now))
        card, token = new_card_number(), new_qr_token()
        rows.append((program.id, external_id, event.channel.value, card, token, at, at))
    insert = (
        "INSERT INTO members (program_id, external_id, channel, card_number, qr_token, "
        "created_at, updated_at) "
    )
    with raw.pipeline():
        if raw.postgres:  # one statement, not one per member, as for the balances
            raw.cursor(
                insert + "SELECT ?, d->>0, d->>1, d->>2, d->>3, (d->>4)::timestamp, "
                "(d->>4)::timestamp FROM json_array_elements(?::json) AS d ON CONFLICT DO NOTHING",
                (program.id, raw.listed([row[1:6] for row in rows])),
            )
        else:
            raw.many(insert + "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING", rows)
        raw.cursor(
            "INSERT INTO balances (program_id, member_id, available, pending, debt, "
            "lifetime_earned) SELECT program_id, id, 0, 0, 0, 0 FROM members WHERE program_id = ?"
            f" AND {raw.any_of('external_id')} ORDER BY id ON CONFLICT DO NOTHING",
            (program.id, raw.listed(sorted(first_seen))),
        )


def insert_early(raw: Raw, rows: earnplan.EarnRows) -> bool:
    """The rows of a batch planned before its locks, inserted before taking them, in a
    savepoint: the members' rows are then locked only for the balances' update and the
    commit, and a second batch sharing some of its members (two calls of 1,000 from a pool
    of 20,000 customers share about fifty) no longer waits for the first one's whole insert.
    The event and order ids of the plan are then checked by their unique keys: one that
    another transaction committed meanwhile fails the insert. What is left to check under
    the locks is who the members are and their debts (`batchstate.held_basis`); a first
    order committed meanwhile breaks no key, so a batch that looks at first orders does not
    come here. False (rolled back already): a key was taken meanwhile, or another
    transaction was inserting it too and the two inserts deadlocked; the batch is then read
    again under the locks and planned again if anything changed. (A transaction holding one
    of these members while it inserts one of these ids deadlocks with the locking read that
    follows; PostgreSQL ends one of the two, which the API answers 409 `concurrent_write`,
    nothing of it written: the same event sent twice at once, by a client retrying early.)"""
    raw.cursor(f"SAVEPOINT {EARLY_ROWS}")
    try:
        with raw.pipeline() if len(rows.events) < COPY_THRESHOLD else raw.guard():
            insert_rows(raw, rows)
    except DBAPIError as exc:
        if getattr(exc.orig, "sqlstate", None) not in (UNIQUE_VIOLATION, DEADLOCK_DETECTED):
            raise
        raw.cursor(f"ROLLBACK TO SAVEPOINT {EARLY_ROWS}")
        return False
    return True


def end_early(raw: Raw, *, keep: bool) -> None:
    """Keep the rows `insert_early` inserted (the plan stood under the locks) or drop them."""
    raw.cursor(f"{'RELEASE' if keep else 'ROLLBACK TO'} SAVEPOINT {EARLY_ROWS}")


def write(
    raw: Raw, program_id: int, rows: earnplan.EarnRows, tiering: TierBatch | None = None
) -> None:
    """Parents before children (the foreign keys are checked row by row). A few rows go out in
    one pipeline; many go by COPY, table by table."""
    few = len(rows.events) < COPY_THRESHOLD
    with raw.pipeline() if few else raw.guard():
        insert_rows(raw, rows)
        add_to_balances(raw, program_id, rows.deltas)
        if tiering is not None:
            tiering.write(raw)


def insert_rows(raw: Raw, rows: earnplan.EarnRows) -> None:
    """Inside the caller's pipeline, if it has one."""
    raw.insert("ledger_transactions", earnplan.TRANSACTION_COLUMNS, rows.transactions, exact=True)
    raw.insert("postings", earnplan.POSTING_COLUMNS, rows.postings, exact=True)
    raw.insert("lots", earnplan.LOT_COLUMNS, rows.lots, exact=True)
    raw.insert("lot_entries", earnplan.LOT_ENTRY_COLUMNS, rows.lot_entries, exact=True)
    raw.insert("pending_credits", earnplan.PENDING_COLUMNS, rows.pending, exact=True)
    raw.insert("events", earnplan.EVENT_COLUMNS, rows.events, exact=True)
    raw.insert("orders", earnplan.ORDER_COLUMNS, rows.orders, exact=True)
    raw.insert("awards", earnplan.AWARD_COLUMNS, rows.awards, exact=True)


def add_to_balances(raw: Raw, program_id: int, deltas: dict[int, list[int]]) -> None:
    """Each member's balance row moved by its delta. PostgreSQL gets every delta in one
    statement, joined from one JSON parameter: a statement per member cost a batch of 1,000
    about 15 ms of Python and as much of PostgreSQL's time, the joined one 1 and 8. The rows are
    already locked (`batchstate.read`), so the order they are updated in cannot deadlock.
    SQLite runs its prepared statement per member, which costs it little."""
    if not deltas:
        return
    if raw.postgres:
        raw.cursor(
            "UPDATE balances AS b SET available = b.available + (d->>1)::bigint, "
            "pending = b.pending + (d->>2)::bigint, debt = b.debt + (d->>3)::bigint, "
            "lifetime_earned = b.lifetime_earned + (d->>4)::bigint "
            "FROM json_array_elements(?::json) AS d "
            "WHERE b.program_id = ? AND b.member_id = (d->>0)::bigint",
            (raw.listed([(m, *d) for m, d in sorted(deltas.items())]), program_id),
        )
        return
    raw.many(
        "UPDATE balances SET available = available + ?, pending = pending + ?, "
        "debt = debt + ?, lifetime_earned = lifetime_earned + ? "
        "WHERE program_id = ? AND member_id = ?",
        [(*d, program_id, m) for m, d in sorted(deltas.items())],
    )
