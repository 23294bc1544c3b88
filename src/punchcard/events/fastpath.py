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
(`batchstate.basis`) changed meanwhile; then it is made again under the lock. Where nothing
looks at first orders, such a batch even inserts its rows before it locks (in a savepoint,
`batchwrite.insert_early`), so that two batches sharing members do not insert in turn either:
the unique keys then check its event and order ids, and the locked read its members and debts.
Step 1 reads each member's first order only where a rule or a feature looks at it. On SQLite
such a batch plans with ids set aside for it (`Early`), and under the lock reads only its
members again, leaving its event and order ids to their unique keys (`_holds`).

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

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from punchcard.engagement import hooks as engagement
from punchcard.engagement.context import EventSeen
from punchcard.engagement.hooks import Engaged
from punchcard.errors import PunchcardError
from punchcard.events import batchstate, batchwrite, earnplan
from punchcard.events.batchstate import Known
from punchcard.events.earnplan import Evaluated
from punchcard.events.orders import OrderExistsError
from punchcard.events.service import EventInput, EventMemberNotFoundError
from punchcard.events.types import CUSTOM, OrderPlaced, check_data
from punchcard.ledger.domain import MAX_POINTS
from punchcard.ledger.errors import InvalidPointsError
from punchcard.programs.domain import ProgramSettings
from punchcard.rawsql import Raw
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
        batchwrite.enrol(first, program, unknown, now, apart=early is not None)
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
    # PostgreSQL inserts the planned rows before taking the locks, where it can.
    inserted = optimistic and early is None and not history and batchwrite.insert_early(raw, rows)
    if inserted:
        held = batchstate.read(
            raw, program.id, events, [], policy, draw=False, history=False, members_only=True
        )
        inserted = batchstate.held_basis(held) == batchstate.held_basis(known)
        batchwrite.end_early(raw, keep=inserted)
    # SQLite leaves the plan's event and order ids to their unique keys, where it can.
    keyed = early is not None and not history and _holds(raw, program.id, events, known, early)
    if optimistic and not inserted and not keyed:
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
            batchwrite.add_to_balances(raw, program.id, rows.deltas)
    elif keyed:
        try:
            batchwrite.write(raw, program.id, rows, tiering)
        except IntegrityError:
            # One of the batch's event or order ids was committed after the plan read it
            # (the same event sent twice at once, say): this transaction, which has written
            # nothing else, is dropped, and the batch read and planned again under the lock.
            session.rollback()
            return ingest_many(session, program=program, rules=rules, events=events, now=now,
                               replayed=replayed, tiers=policy, engaged=engaged)  # fmt: skip
    else:
        batchwrite.write(raw, program.id, rows, tiering)
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


def _holds(raw: Raw, program_id: int, events: list[EventInput], known: Known, early: Early) -> bool:
    """Whether a batch planned before SQLite's write lock (`early`) stands without reading
    its event and order ids again: under the lock, its members and their debts are as
    planned on (`batchstate.held_basis`) and no row took its block's ids. An event or order
    id committed meanwhile then fails the batch's insert on its unique key, as on PostgreSQL
    (`batchwrite.insert_early`), and the batch is planned again (`ingest_many`). The locked
    read was about a quarter of the time a batch held SQLite's one write lock; this one
    looks up each member only. Not for a batch that looks at first orders: no key checks
    those."""
    held = batchstate.read(
        raw, program_id, events, [], None, draw=False, history=False, members_only=True
    )
    same = batchstate.held_basis(held) == batchstate.held_basis(known)
    return same and not early.ids.taken(raw)


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
