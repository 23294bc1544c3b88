"""Races on PostgreSQL: 100 members after 10 units of stock, 50 checkouts of one code.

SQLite runs one writer at a time, so nothing races there; these tests skip it. At most
CONNECTIONS transactions hold a connection at once (the server's max_connections is shared
with the rest of the suite): they all contend for the same reward or code row."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import pytest

from punchcard.db import Database, session_scope
from punchcard.errors import PunchcardError
from punchcard.kit.clock import FixedClock
from punchcard.programs.domain import ProgramSettings
from punchcard.redemptions import checkout, service
from punchcard.redemptions import repository as repo
from tests.ledger.helpers import assert_verified, balance, credit, enrol
from tests.redemptions.helpers import claimed, make_reward

CONNECTIONS = 30
T = TypeVar("T")


@pytest.fixture(autouse=True)
def _postgresql_only(backend: str) -> None:
    if backend == "sqlite":
        pytest.skip("SQLite serialises writers: there is no race to test")


def race(threads: int, attempt: Callable[[int], T]) -> list[str]:
    """Run `attempt` in `threads` threads released at once; each outcome as "201" or
    "409 code", the way the API would answer."""
    barrier = threading.Barrier(threads)
    connections = threading.BoundedSemaphore(CONNECTIONS)

    def run(index: int) -> str:
        barrier.wait()
        with connections:
            try:
                attempt(index)
            except PunchcardError as exc:
                return f"{exc.status} {exc.code}"
        return "ok"

    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(run, range(threads)))


@pytest.mark.slow
def test_100_members_racing_for_10_units_of_stock(
    db: Database, program: ProgramSettings, clock: FixedClock
) -> None:
    reward = make_reward(db, program, points_cost=100, stock=10)
    members = [enrol(db, program, clock()) for _ in range(100)]
    for member in members:
        credit(db, program, member, 150, clock(), pending_days=0)

    def attempt(index: int) -> None:
        with session_scope(db.writer) as session:
            service.redeem(
                session, program=program, member_id=members[index], reward_id=reward, now=clock()
            )

    outcomes = race(100, attempt)

    assert Counter(outcomes) == {"ok": 10, "409 out_of_stock": 90}
    assert claimed(db, reward) == 10
    balances = Counter(balance(db, program, m).available for m in members)
    assert balances == {50: 10, 150: 90}  # winners paid once, losers kept every point
    assert_verified(db, program)


@pytest.mark.slow
def test_50_checkouts_of_one_code_let_exactly_one_through(
    db: Database, program: ProgramSettings, clock: FixedClock
) -> None:
    reward = make_reward(db, program)
    member = enrol(db, program, clock())
    credit(db, program, member, 100, clock(), pending_days=0)
    with session_scope(db.writer) as session:
        code = service.redeem(
            session, program=program, member_id=member, reward_id=reward, now=clock()
        ).code
    assert code is not None

    def attempt(index: int) -> None:
        with session_scope(db.writer) as session:
            checkout.redeem_code(
                session, program_id=program.id, code=code, order_id=f"order-{index}", now=clock()
            )

    outcomes = race(50, attempt)

    assert Counter(outcomes) == {"ok": 1, "409 code_used": 49}
    winner = outcomes.index("ok")
    with db.reader() as session:
        row = checkout.lookup(session, program.id, code)
    assert row is not None
    assert (row.status, row.used_order_id) == ("used", f"order-{winner}")


def test_a_checkout_that_wins_against_a_cancel_keeps_the_points_spent(
    db: Database, program: ProgramSettings, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The checkout commits while the cancel is between its refund and its status change:
    the cancel must fail whole (409 code_used), or the member would have the points back
    and the store a used code."""
    reward = make_reward(db, program, stock=5)
    member = enrol(db, program, clock())
    credit(db, program, member, 100, clock(), pending_days=0)
    with session_scope(db.writer) as session:
        issued = service.redeem(
            session, program=program, member_id=member, reward_id=reward, now=clock()
        )
    code = issued.code
    assert code is not None
    real_release = repo.release_stock

    def checkout_meanwhile(*args: object) -> None:
        with ThreadPoolExecutor(1) as pool:  # another connection, committed before we go on
            pool.submit(use, code).result()
        real_release(*args)  # type: ignore[arg-type]

    def use(code: str) -> None:
        with session_scope(db.writer) as session:
            checkout.redeem_code(
                session, program_id=program.id, code=code, order_id="order-1", now=clock()
            )

    monkeypatch.setattr(repo, "release_stock", checkout_meanwhile)
    with pytest.raises(PunchcardError) as refused, session_scope(db.writer) as session:
        service.cancel(
            session,
            program=program,
            member_id=member,
            redemption_id=issued.redemption.id,
            now=clock(),
        )

    assert refused.value.code == "code_used"
    assert balance(db, program, member).available == 0
    assert claimed(db, reward) == 1
    with db.reader() as session:
        row = checkout.lookup(session, program.id, code)
    assert row is not None
    assert (row.status, row.cancel_transaction_id) == ("used", None)
    assert_verified(db, program)


@pytest.mark.slow
def test_cancels_racing_checkouts_give_each_code_one_outcome(
    db: Database, program: ProgramSettings, clock: FixedClock
) -> None:
    """20 codes, each cancelled and used at checkout at the same moment: each ends used (the
    points stay spent) or cancelled (the points and the stock come back), never both."""
    reward = make_reward(db, program, points_cost=10, stock=20)
    member = enrol(db, program, clock())
    credit(db, program, member, 200, clock(), pending_days=0)
    made = []
    for _ in range(20):
        with session_scope(db.writer) as session:
            made.append(
                service.redeem(
                    session, program=program, member_id=member, reward_id=reward, now=clock()
                )
            )

    def attempt(index: int) -> None:
        issued = made[index // 2]
        assert issued.code is not None
        with session_scope(db.writer) as session:
            if index % 2:
                checkout.redeem_code(
                    session, program_id=program.id, code=issued.code, order_id="o", now=clock()
                )
            else:
                service.cancel(
                    session,
                    program=program,
                    member_id=member,
                    redemption_id=issued.redemption.id,
                    now=clock(),
                )

    outcomes = race(40, attempt)

    cancels, uses = outcomes[0::2], outcomes[1::2]
    for cancelled, used in zip(cancels, uses, strict=True):
        assert {cancelled, used} in ({"ok", "409 code_invalid"}, {"ok", "409 code_used"})
    won = cancels.count("ok")
    assert won + uses.count("ok") == 20
    assert balance(db, program, member).available == 10 * won
    assert claimed(db, reward) == 20 - won
    assert_verified(db, program)
