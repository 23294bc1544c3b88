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
