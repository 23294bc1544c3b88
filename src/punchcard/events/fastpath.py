"""The earn fast path: `order.placed` and action events (reviews, sign-ups, shares, ...) in a
constant number of round trips, one event or thousands at a time.

One event costs three round trips and the commit, whatever it earns:
1. find and lock the members' balance rows (in member id order, so batches cannot deadlock),
   and, in the same pipeline and so after the lock, read what was already recorded (results of
   these event ids, orders with these order ids, each member's first order) and draw ids;
2. (only for a member seen for the first time) enrol, then step 1 again;
3. write every row (`earnplan` plans them) in one pipeline: PostgreSQL gets them in one round
   trip, SQLite needs none.
Rules, program settings and API keys come from the process cache, so nothing else is read.
A program with tiers also has its members' stored tiers read in step 1, and one more round
trip measures the qualifying metric of every event (`tiers.batch`); its tier rows go out with
the others in step 3.

A batch of `OPTIMISTIC_FROM` events or more on PostgreSQL (without tiers) takes step 1 without
the lock, plans, then locks and reads again before step 3: one round trip more, so that two
batches sharing members do not plan in turn. The plan stands unless what it depends on
(`batchstate.basis`) changed meanwhile; then it is made again under the lock.

Refunds, dry runs, custom event types, members given by card number, and rule sets whose
rules for these events have caps or budgets (they need usage counted under lock) take the
general path in `events.service`; both paths write the same rows.
"""

from __future__ import annotations

import json
from bisect import bisect_left
from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from punchcard.engagement import hooks as engagement
from punchcard.engagement.context import EventSeen
from punchcard.engagement.hooks import Engaged
from punchcard.errors import PunchcardError
from punchcard.events import batchstate, earnplan
from punchcard.events.batchstate import Known
from punchcard.events.earnplan import Evaluated
from punchcard.events.orders import OrderExistsError
from punchcard.events.service import EventInput, EventMemberNotFoundError
from punchcard.events.types import CUSTOM, OrderPlaced, check_data
from punchcard.ledger.domain import MAX_POINTS
from punchcard.ledger.errors import InvalidPointsError
from punchcard.members.domain import new_card_number, new_qr_token
from punchcard.programs.domain import ProgramSettings
from punchcard.rawsql import COPY_THRESHOLD, Raw
from punchcard.rules.domain import Facts, RuleSet, evaluate
from punchcard.rules.service import RulesInForce
from punchcard.tiers import service as tiers_service
from punchcard.tiers.batch import TierBatch
from punchcard.tiers.domain import CENT, Policy

Outcome = dict[str, Any] | PunchcardError
ORDER_REFUNDS = ("order.refunded", "order.cancelled")
# From this many events a batch on PostgreSQL is planned before its members are locked, then
# checked under the lock (`batchstate.basis`): two batches sharing members then wait for each
# other only while writing, not while planning. Below it the plan is short and the second read
# not worth it.
OPTIMISTIC_FROM = 50
EARLY_ROWS = "early_rows"  # the savepoint of rows inserted before the locks (`_inserted`)
UNIQUE_VIOLATION, DEADLOCK_DETECTED = "23505", "40P01"  # PostgreSQL's SQLSTATE codes
# An event written by a batch, as the engagement hooks will see it: event, member, facts, points.
Written = tuple[EventInput, int, Facts, int]


def eligible(rules: RuleSet, event: EventInput) -> bool:
    if event.type in ORDER_REFUNDS or CUSTOM.match(event.type):
        return False
    if "card_number" in event.member:
        return False
    return not any(
        r.caps or r.budget is not None for r in rules.rules if r.active and event.type in r.events
    )


def _enrol(
    raw: Raw, program: ProgramSettings, events: list[EventInput], now: datetime, *, apart: bool
) -> None:
    """Members for the unknown external ids, with their balance rows; a racing enrolment of
    the same customer makes no second member (ON CONFLICT DO NOTHING).

    On PostgreSQL the enrolment commits on its own connection: this transaction already holds
    the locks of its known members, and a concurrent batch inserting the same new customer
    while waiting for one of those locks would deadlock with it. A member enrolled by an event
    that then fails stays enrolled, as after `POST /v1/members`. `apart`: commit on another
    connection on SQLite too (a batch planned before its write lock, `Early`)."""
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
    with raw.pipeline():
        if raw.postgres:  # one statement, not one per member: as for the balances (`_write`)
            raw.cursor(
                "INSERT INTO members (program_id, external_id, channel, card_number, qr_token, "
                "created_at, updated_at) SELECT ?, d->>0, d->>1, d->>2, d->>3, "
                "(d->>4)::timestamp, (d->>4)::timestamp FROM json_array_elements(?::json) AS d "
                "ON CONFLICT DO NOTHING",
                (program.id, raw.listed([row[1:6] for row in rows])),
            )
        else:
            raw.many(
                "INSERT INTO members (program_id, external_id, channel, card_number, qr_token, "
                "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                rows,
            )
        raw.cursor(
            "INSERT INTO balances (program_id, member_id, available, pending, debt, "
            "lifetime_earned) SELECT program_id, id, 0, 0, 0, 0 FROM members WHERE program_id = ?"
            f" AND {raw.any_of('external_id')} ORDER BY id ON CONFLICT DO NOTHING",
            (program.id, raw.listed(sorted(first_seen))),
        )


@dataclass(frozen=True)
class Early:
    """A large batch on SQLite planned before its transaction takes the write lock, so that
    the import's processes plan while another one writes (`importworkers`): the reads go
    through `snapshot`, a read-only session of the same database, enrolment commits on a
    connection of its own, and the plan uses `ids`, set aside for this batch. Under the lock
    the batch is read again; the plan stands unless its basis changed or another writer took
    one of those ids, and is otherwise made again there, as on PostgreSQL."""

    snapshot: Session
    ids: batchstate.IdBlock


def ingest_many(
    session: Session,
    *,
    program: ProgramSettings,
    rules: RulesInForce,
    events: list[EventInput],
    now: datetime,
    replayed: set[int] | None = None,
    tiers: Policy | Literal["read"] | None = "read",
    engaged: Engaged | None = None,
    early: Early | None = None,
    lock_first: bool = False,
) -> list[Outcome]:
    """Each event's stored result (a replay gives the first one back) or its error, in order;
    `replayed` collects the positions of replays. The events must be `eligible`; the caller
    commits. `tiers`: the program's tier policy if the caller has it at hand (cached);
    `engaged`: whether engagement features are set up (`engagement.hooks`), read if None;
    `early`: plan on SQLite before taking the write lock (`Early`); `lock_first`: lock before
    planning whatever the batch's size, for a caller whose batches no one else shares members
    with (the import's processes, each with its own customers), sparing the second read."""
    reads = early.snapshot if early is not None else session
    policy = tiers_service.policy_of(reads, program.id) if tiers == "read" else tiers
    if policy is not None:  # the tier batch reads each member's metric under the lock
        early = None
    checked: list[OrderPlaced | PunchcardError | None] = []
    for event in events:
        try:
            data = check_data(event.type, event.data)
            checked.append(data if isinstance(data, OrderPlaced) else None)
        except PunchcardError as exc:
            checked.append(exc)
    orders = sorted({c.order_id for c in checked if isinstance(c, OrderPlaced)})
    if early is not None:
        first = Raw(early.snapshot)
        assert not first.postgres, "PostgreSQL plans before locking without an Early"
        optimistic = True
    else:
        first = Raw(session)
        optimistic = (
            first.postgres and policy is None and len(events) >= OPTIMISTIC_FROM and not lock_first
        )
    draw = early is None
    history = batchstate.first_orders_matter(rules.rules, events, engaged)
    known = batchstate.read(first, program.id, events, orders, policy, lock=not optimistic,
                            draw=draw, history=history)  # fmt: skip
    unknown = [  # events refused for their data enrol no one
        e
        for e, data in zip(events, checked, strict=True)
        if not isinstance(data, PunchcardError)
        and e.member_ref[0] == "external_id"
        and e.member_ref not in known.members
        and e.source_id not in known.results
    ]
    if unknown and program.auto_enrol:
        _enrol(first, program, unknown, now, apart=early is not None)
        if early is not None:  # a new snapshot, which sees the members just enrolled
            early.snapshot.rollback()
            first = Raw(early.snapshot)
        # Only the events of the members just enrolled are read again: the rest is as read.
        enrolled = batchstate.read(first, program.id, unknown, [], policy, lock=not optimistic,
                                   draw=False, history=history)  # fmt: skip
        known = batchstate.with_enrolled(known, enrolled)
    if early is not None:
        # The snapshot ends before the planning: a reader holding it would keep the other
        # processes' commits from being checkpointed, and SQLite's WAL would only grow.
        early.snapshot.rollback()
        tx_ids, event_ids, lot_ids = early.ids.ids()
        known = replace(known, tx_ids=tx_ids, event_ids=event_ids, lot_ids=lot_ids)
    tiering = None
    if policy is not None:
        tiering = TierBatch(program.id, policy, known.held, now, iter(known.change_ids))
    basis = batchstate.basis(known, history)
    outcomes, written, rows = _plan(
        first, program, rules, events, checked, known, now, tiering, history
    )
    raw = first if early is None else Raw(session)  # `early`: SQLite's write lock, taken now
    # PostgreSQL inserts the planned rows before taking the locks, where it can (`_inserted`).
    inserted = optimistic and early is None and not history and _inserted(raw, rows)
    if inserted:
        held = batchstate.read(
            raw, program.id, events, [], policy, draw=False, history=False, members_only=True
        )
        inserted = batchstate.held_basis(held) == batchstate.held_basis(known)
        raw.cursor(f"{'RELEASE' if inserted else 'ROLLBACK TO'} SAVEPOINT {EARLY_ROWS}")
    if optimistic and not inserted:
        locked = batchstate.read(
            raw, program.id, events, orders, policy, draw=False, history=history
        )
        taken = early is not None and early.ids.taken(raw)
        if taken or batchstate.basis(locked, history) != basis:  # changed: plan again
            if early is not None:
                tx_ids, event_ids, lot_ids = early.ids.above(raw, len(events))
            else:
                tx_ids, event_ids, lot_ids = known.tx_ids, known.event_ids, known.lot_ids
            known = replace(locked, tx_ids=tx_ids, event_ids=event_ids, lot_ids=lot_ids)
            outcomes, written, rows = _plan(
                raw, program, rules, events, checked, known, now, tiering, history
            )
    if inserted:  # and the plan stands: only the balances are left to move
        with raw.guard():
            _add_to_balances(raw, program.id, rows.deltas)
    else:
        _write(raw, program.id, rows, tiering)
    if written and engaged is None:
        engaged = engagement.configured(session, program.id)
    if written and engaged:
        # After the batch's rows are written, still under its locks; each member's events in
        # the order they happened (a till syncing yesterday after today counts both days).
        for event, member_id, facts, points in sorted(
            written, key=lambda one: (one[1], one[0].occurred_at)
        ):
            engagement.after_event(
                session, _seen(program, event, member_id, facts, points, now), engaged
            )
    if replayed is not None:
        replayed.update(i for i, e in enumerate(events) if e.source_id in known.results)
        seen: set[str] = set()
        for i, e in enumerate(events):
            if e.source_id in seen:
                replayed.add(i)
            seen.add(e.source_id)
    return outcomes


def _plan(
    raw: Raw,
    program: ProgramSettings,
    rules: RulesInForce,
    events: list[EventInput],
    checked: list[OrderPlaced | PunchcardError | None],
    known: Known,
    now: datetime,
    tiering: TierBatch | None = None,
    history: bool = True,
) -> tuple[list[Outcome], list[Written], earnplan.EarnRows]:
    """The outcomes, what the engagement hooks are to see of each event written (made into
    an `EventSeen` only where a feature is set up to look), and the rows to write. Writes
    nothing, and leaves `known` as it found it. `history`: whether anything looks at an
    order being the member's first (`batchstate.first_orders_matter`); if not, the first
    orders were not read, and the facts say nothing of it."""
    outcomes: list[Outcome | None] = [None] * len(events)
    seen: dict[str, int] = {}
    placed = set(known.orders)
    fresh: list[tuple[int, EventInput, OrderPlaced | None, int]] = []
    times: dict[int, list[datetime]] = defaultdict(list)
    for index, (event, data) in enumerate(zip(events, checked, strict=True)):
        if event.source_id in known.results:
            outcomes[index] = {"replay": known.results[event.source_id]}
        elif event.source_id in seen:
            outcomes[index] = {"same_as": seen[event.source_id]}
        elif isinstance(data, PunchcardError):
            outcomes[index] = data
        elif (member := event.member_ref) not in known.members:
            outcomes[index] = EventMemberNotFoundError(
                "no such member" + ("" if program.auto_enrol else " (auto-enrolment is off)"),
                details={"member": event.member},
            )
        elif data is not None and data.order_id in placed:
            outcomes[index] = OrderExistsError(
                f"order {data.order_id} was already placed (by another event id)",
                details={"order_id": data.order_id},
            )
        else:
            seen[event.source_id] = index
            member_id = known.members[member]
            if data is not None:
                placed.add(data.order_id)
                times[member_id].append(event.occurred_at)
            fresh.append((index, event, data, member_id))
    for member_times in times.values():
        member_times.sort()
    written: list[Written] = []
    planner = earnplan.Planner(
        program,
        rules.version,
        dict(known.balances),
        now,
        raw.moment,
        iter(known.tx_ids),
        iter(known.event_ids),
        iter(known.lot_ids),
        money=raw.money,
    )
    if tiering is not None:
        tiering.measure(raw, [(member_id, event.occurred_at) for _, event, _, member_id in fresh])
    for position, (index, event, order, member_id) in enumerate(fresh):
        facts = _facts(event, order, member_id, known.first_orders, times, history)
        multiplier = None
        if tiering is not None:
            tier, multiplier = tiering.tier_of(member_id, event.occurred_at)
            facts = replace(facts, tier=tier)
        evaluation = evaluate(rules.rules, facts, tier_multiplier=multiplier)
        earned = evaluation.total
        if earned > MAX_POINTS:
            outcomes[index] = InvalidPointsError(
                f"points must be between 1 and {MAX_POINTS}", details={"points": earned}
            )
            continue
        outcomes[index] = planner.add(Evaluated(event, order, member_id, evaluation))
        if not isinstance(outcomes[index], PunchcardError):
            written.append((event, member_id, facts, earned))
        if tiering is not None:
            spent = order.total.quantize(CENT) if order is not None else Decimal(0)
            tiering.after(position, member_id, event.occurred_at, event.source_id, spent=spent,
                          earned=earned)  # fmt: skip
    return [_resolve(o, outcomes) for o in outcomes], written, planner.rows


def _seen(
    program: ProgramSettings,
    event: EventInput,
    member_id: int,
    facts: Facts,
    points: int,
    now: datetime,
) -> EventSeen:
    return EventSeen(
        program=program,
        member_id=member_id,
        source_id=event.source_id,
        type=event.type,
        occurred_at=event.occurred_at,
        channel=event.channel.value,
        store_id=event.store_id,
        data=event.data,
        facts=facts,
        points=points,
        now=now,
    )


def _facts(
    event: EventInput,
    order: OrderPlaced | None,
    member_id: int,
    first_orders: dict[int, datetime],
    times: dict[int, list[datetime]],
    history: bool = True,
) -> Facts:
    if order is None or not history:
        return earnplan.event_facts(event, order, None)
    earlier = first_orders.get(member_id)
    first = (earlier is None or earlier >= event.occurred_at) and bisect_left(
        times[member_id], event.occurred_at
    ) == 0
    return earnplan.event_facts(event, order, first)


def _resolve(outcome: Outcome | None, outcomes: list[Outcome | None]) -> Outcome:
    assert outcome is not None
    if isinstance(outcome, dict) and "replay" in outcome:
        return json.loads(outcome["replay"])  # type: ignore[no-any-return]
    if isinstance(outcome, dict) and "same_as" in outcome:
        return _resolve(outcomes[outcome["same_as"]], outcomes)
    return outcome


def _inserted(raw: Raw, rows: earnplan.EarnRows) -> bool:
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
            _insert_rows(raw, rows)
    except DBAPIError as exc:
        if getattr(exc.orig, "sqlstate", None) not in (UNIQUE_VIOLATION, DEADLOCK_DETECTED):
            raise
        raw.cursor(f"ROLLBACK TO SAVEPOINT {EARLY_ROWS}")
        return False
    return True


def _write(
    raw: Raw, program_id: int, rows: earnplan.EarnRows, tiering: TierBatch | None = None
) -> None:
    """Parents before children (the foreign keys are checked row by row). A few rows go out in
    one pipeline; many go by COPY, table by table."""
    few = len(rows.events) < COPY_THRESHOLD
    with raw.pipeline() if few else raw.guard():
        _insert_rows(raw, rows)
        _add_to_balances(raw, program_id, rows.deltas)
        if tiering is not None:
            tiering.write(raw)


def _insert_rows(raw: Raw, rows: earnplan.EarnRows) -> None:
    """Inside the caller's pipeline, if it has one."""
    raw.insert("ledger_transactions", earnplan.TRANSACTION_COLUMNS, rows.transactions, exact=True)
    raw.insert("postings", earnplan.POSTING_COLUMNS, rows.postings, exact=True)
    raw.insert("lots", earnplan.LOT_COLUMNS, rows.lots, exact=True)
    raw.insert("lot_entries", earnplan.LOT_ENTRY_COLUMNS, rows.lot_entries, exact=True)
    raw.insert("pending_credits", earnplan.PENDING_COLUMNS, rows.pending, exact=True)
    raw.insert("events", earnplan.EVENT_COLUMNS, rows.events, exact=True)
    raw.insert("orders", earnplan.ORDER_COLUMNS, rows.orders, exact=True)
    raw.insert("awards", earnplan.AWARD_COLUMNS, rows.awards, exact=True)


def _add_to_balances(raw: Raw, program_id: int, deltas: dict[int, list[int]]) -> None:
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
