"""What the hooks cost on the earn path, and that a reward happens once however often the
order is shown to them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import event

from punchcard.db import Database, session_scope
from punchcard.engagement.context import EventSeen
from punchcard.kit.clock import FixedClock
from punchcard.programs.domain import ProgramSettings
from punchcard.referrals import hooks
from punchcard.rules.domain import Facts
from tests.conftest import Api
from tests.referrals.helpers import (
    at,
    balance,
    enrol,
    put_settings,
    refer,
    referral_of,
    referral_points,
    referrer,
)


@contextmanager
def counting(db: Database) -> Iterator[list[str]]:
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(args[2])

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", count)


def seen(
    program: ProgramSettings, member_id: int, kind: str, moment: datetime, **data: Any
) -> EventSeen:
    amount = Decimal(data["total"]) if "total" in data else None
    return EventSeen(
        program=program,
        member_id=member_id,
        source_id="evt-test",
        type=kind,
        occurred_at=moment,
        channel="web",
        store_id=None,
        data=data,
        facts=Facts(kind, moment, "web", None, amount),
        points=0,
        now=moment,
    )


def test_an_order_of_a_member_who_is_no_referee_costs_one_query(ref: Api, db: Database) -> None:
    put_settings(ref)
    _, code = referrer(ref)
    refer(ref, code)
    stranger = enrol(ref)["id"]
    moment = at(2, 1)
    with session_scope(db.writer) as session:
        session.connection()  # the transaction's own statements are not the hook's
        with counting(db) as statements:
            hooks.on_event(session, seen(ref.program, stranger, "order.placed", moment,
                                         order_id="o-1", total="99.00"))  # fmt: skip
            assert len(statements) == 1
        with counting(db) as statements:
            hooks.on_event(session, seen(ref.program, stranger, "order.refunded", moment,
                                         order_id="o-1"))  # fmt: skip
            hooks.on_event(session, seen(ref.program, stranger, "order.cancelled", moment,
                                         order_id="o-1"))  # fmt: skip
            assert len(statements) == 2
        with counting(db) as statements:
            hooks.on_event(session, seen(ref.program, stranger, "review.submitted", moment))
            assert statements == []


def test_an_order_shown_twice_rewards_once(ref: Api, db: Database, clock: FixedClock) -> None:
    """As a second earn path (or a retried hook) would: the guarded status change wins once."""
    put_settings(ref)
    sponsor, code = referrer(ref)
    friend, _ = refer(ref, code)
    moment = at(2, 1)
    for _ in range(2):
        with session_scope(db.writer) as session:
            hooks.on_event(session, seen(ref.program, friend["id"], "order.placed", moment,
                                         order_id="o-twice", total="50.00"))  # fmt: skip
    assert referral_of(ref, friend["id"])["qualifying_order_id"] == "o-twice"
    assert len(referral_points(ref, sponsor["id"])) == 1
    assert balance(ref, sponsor["id"])["pending"] == 500
    assert balance(ref, friend["id"])["pending"] == 300


def test_the_configured_flag_follows_the_settings(ref: Api, db: Database) -> None:
    with db.reader() as session:
        assert hooks.configured(session, ref.program.id) is False
    put_settings(ref)
    with db.reader() as session:
        assert hooks.configured(session, ref.program.id) is True
    put_settings(ref, active=False)
    with db.reader() as session:
        assert hooks.configured(session, ref.program.id) is False
