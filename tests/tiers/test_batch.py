"""Big batches and imports with tiers: past the COPY threshold, the careful fast path still
decides what the one-by-one path decides, in a constant number of round trips."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from punchcard.db import Database, session_scope
from punchcard.events import fastpath, service
from punchcard.kit.clock import FixedClock
from punchcard.ledger.verify import verify
from punchcard.programs.domain import ProgramSettings
from punchcard.rules import service as rules
from punchcard.tiers import repository
from punchcard.tiers import service as tiers
from punchcard.tiers.schemas import PolicyIn
from tests.conftest import START, ProgramFactory
from tests.events.test_events_api import event, line, order_data
from tests.events.test_fast_paths import _inputs, _state
from tests.tiers.helpers import ladder


def _bodies(customers: int) -> list[dict[str, Any]]:
    bodies = []
    for n in range(customers * 3):
        amount = f"{150 + (n * 37) % 400}.00"
        at = START + timedelta(days=n * 2)
        data = order_data(line("a", 1, amount), order_id=f"o{n}")
        bodies.append(
            event("order.placed", data, customer=f"c{n % customers}", at=at, event_id=f"e{n}")
        )
    return bodies


def _program(db: Database, make_program: ProgramFactory, clock: FixedClock) -> ProgramSettings:
    program = make_program()
    with session_scope(db.writer) as session:
        tiers.replace_policy(
            session,
            program_id=program.id,
            body=PolicyIn.model_validate(ladder(window="rolling_12_months")),
            now=clock(),
        )
    return program


def test_a_big_batch_decides_like_the_one_by_one_path(
    db: Database, make_program: ProgramFactory, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    bodies = _bodies(40)  # 120 events, 40 members: COPY, not a pipeline, on PostgreSQL
    general, batched = _program(db, make_program, clock), _program(db, make_program, clock)
    with session_scope(db.writer) as session:
        for e in _inputs(bodies):
            service.ingest(session, program=general, event=e, now=clock())
    measured: list[int] = []
    real = repository.metrics

    def metrics(*args: Any) -> list[Decimal]:
        measured.append(len(args[3]))
        return real(*args)

    monkeypatch.setattr(repository, "metrics", metrics)
    with session_scope(db.writer) as session:
        current = rules.in_force(session, batched.id)
        fastpath.ingest_many(
            session, program=batched, rules=current, events=_inputs(bodies), now=clock()
        )
    expected = _state(db, general.id)
    assert len(expected["tier_changes"]) > 40
    assert _state(db, batched.id) == expected
    assert measured == [120]  # every event's metric in one statement


def _gappy_bodies() -> list[dict[str, Any]]:
    """Customers who reach a tier, stay away past its period (and grace), then come back:
    each return is judged after catching up on the periods that ended meanwhile. `far` comes
    back five years on, so one event catches up on several periods at once."""
    plan = [
        ("near", "1000.00", 0),
        ("gap", "600.00", 10),
        ("far", "1200.00", 20),
        ("near", "250.00", 420),  # Platinum ended on day 365: judged first, then this event
        ("gap", "700.00", 400),  # grace ended on day 390: judged, then Gold again
        ("gap", "50.00", 900),  # judged on day 765; this event qualifies for nothing
        ("far", "600.00", 365 * 5 + 40),
        ("near", "900.00", 430),
    ]
    return [
        event(
            "order.placed",
            order_data(line("a", 1, amount), order_id=f"g{n}"),
            customer=customer,
            at=START + timedelta(days=day),
            event_id=f"g{n}",
        )
        for n, (customer, amount, day) in enumerate(plan)
    ]


NO_BASE = [{"name": "Silver", "threshold": 200}, {"name": "Gold", "threshold": 500}]


@pytest.mark.parametrize(
    ("window", "downgrade", "tiers_"),
    [
        ("rolling_12_months", "recalculate", None),
        ("calendar_year", "one_down", None),
        ("rolling_12_months", "recalculate", NO_BASE),  # a catch-up can leave no tier
    ],
)
def test_catching_up_at_an_event_decides_like_the_one_by_one_path(
    db: Database,
    make_program: ProgramFactory,
    clock: FixedClock,
    window: str,
    downgrade: str,
    tiers_: list[dict[str, Any]] | None,
) -> None:
    """Periods that ended before a member's next event (the job never ran) are judged at the
    event on both paths, with more tier changes than events for the batch to number."""
    body = ladder(window=window, downgrade=downgrade, grace_days=15)
    policy = PolicyIn.model_validate(body if tiers_ is None else {**body, "tiers": tiers_})
    general, batched = make_program(), make_program()
    with session_scope(db.writer) as session:
        for program in (general, batched):
            tiers.replace_policy(session, program_id=program.id, body=policy, now=clock())
    bodies = _gappy_bodies()
    clock.set(START + timedelta(days=365 * 6))  # every event is in the past
    with session_scope(db.writer) as session:
        for e in _inputs(bodies):
            service.ingest(session, program=general, event=e, now=clock())
    with session_scope(db.writer) as session:
        current = rules.in_force(session, batched.id)
        fastpath.ingest_many(
            session, program=batched, rules=current, events=_inputs(bodies), now=clock()
        )
    expected = _state(db, general.id)
    changes = expected["tier_changes"]
    assert len(changes) > (len(bodies) if tiers_ is None else 4)
    assert any(c[1] == "downgraded" for c in changes)  # judged at an event, not by the job
    if tiers_ is not None:  # `gap` fell out of the ladder for good: no row
        assert "gap" not in {row[0] for row in expected["member_tiers"]}
    assert _state(db, batched.id) == expected
    with db.reader() as session:
        assert verify(session).ok
