"""Property-based test: random credits, spends, adjustments, reversals, expiry and pending
release against the in-memory model; balances, lots and every invariant must always agree."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from sqlalchemy import select

from punchcard.db import Database, session_scope
from punchcard.errors import PunchcardError
from punchcard.ledger import queries, reversals, service
from punchcard.ledger.domain import Kind
from punchcard.ledger.verify import verify
from punchcard.models import LedgerTransaction, Lot
from punchcard.programs.domain import ExpiryPolicy
from tests.conftest import START, ProgramFactory
from tests.ledger.helpers import balance, enrol
from tests.ledger.model import Model, RefusedError

points = st.integers(min_value=1, max_value=300)


def refusal_of(check: Callable[[], object]) -> str | None:
    """The error code the model expects the engine to refuse with, or None."""
    try:
        check()
    except RefusedError as refused:
        return refused.code
    return None


def make_machine(db: Database, make_program: ProgramFactory) -> type[RuleBasedStateMachine]:
    class LedgerMachine(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.program = make_program(
                expiry_policy=ExpiryPolicy.DAYS_AFTER_EARN, expiry_value=30, pending_days=7
            )
            self.model = Model(now=START)
            self.member = enrol(db, self.program, START)

        def _write(self, action: str, **kwargs: object) -> int | None:
            """Run a service call; return its transaction id, or None with the refusal code
            checked against what the model expected."""
            with session_scope(db.writer) as session:
                common = {"program": self.program, "member_id": self.member, "now": self.model.now}
                if action == "credit":
                    return service.credit(session, reason="c", **common, **kwargs)  # type: ignore[arg-type]
                if action == "debit":
                    return service.debit(session, reason="d", **common, **kwargs)  # type: ignore[arg-type]
                return reversals.reverse(session, reason="r", **common, **kwargs)  # type: ignore[arg-type]

        @rule(amount=points, pending=st.booleans(), manual=st.booleans())
        def credit(self, amount: int, pending: bool, manual: bool) -> None:
            kind = Kind.ADJUST_CREDIT if manual else Kind.EARN
            pending = pending and not manual
            tx = self._write("credit", points=amount, kind=kind, pending_days=7 if pending else 0)
            assert tx is not None
            self.model.credit(tx, amount, pending=pending, kind=kind.value)

        @rule(amount=points, manual=st.booleans())
        def debit(self, amount: int, manual: bool) -> None:
            kind = Kind.ADJUST_DEBIT if manual else Kind.SPEND
            refusal = refusal_of(lambda: self.model.check_debit(amount, spend=not manual))
            if refusal is not None:
                with pytest.raises(PunchcardError) as info:
                    self._write("debit", points=amount, kind=kind)
                assert info.value.code == refusal
                return
            tx = self._write("debit", points=amount, kind=kind)
            assert tx is not None
            self.model.debit(tx, amount, kind.value)

        @rule(pick=st.integers(min_value=0, max_value=10_000), amount=st.none() | points)
        def reverse(self, pick: int, amount: int | None) -> None:
            if not self.model.txs:
                return
            ids = sorted(self.model.txs)
            original = ids[pick % len(ids)]
            exact = 0

            def check() -> None:
                nonlocal exact
                exact = self.model.check_reversal(original, amount)

            refusal = refusal_of(check)
            if refusal is not None:
                with pytest.raises(PunchcardError) as info:
                    self._write("reverse", transaction_id=original, points=amount)
                assert info.value.code == refusal
                return
            tx = self._write("reverse", transaction_id=original, points=amount)
            assert tx is not None
            self.model.reverse(tx, original, exact)

        @rule(days=st.integers(min_value=0, max_value=40))
        def advance_and_run_jobs(self, days: int) -> None:
            self.model.now += timedelta(days=days)
            with session_scope(db.writer) as session:
                released = service.release_member(
                    session, program=self.program, member_id=self.member, now=self.model.now
                )
                expired = service.expire_member(
                    session, program=self.program, member_id=self.member, now=self.model.now
                )
            self.model.run_jobs(released, expired)

        @rule(days=st.integers(min_value=1, max_value=40))
        def advance_without_jobs(self, days: int) -> None:
            """Time passes and the job is late: spends and reversals must expire by the clock."""
            self.model.now += timedelta(days=days)

        @invariant()
        def balances_agree(self) -> None:
            got = balance(db, self.program, self.member)
            m = self.model
            assert (got.available, got.pending, got.debt, got.lifetime_earned) == (
                m.available,
                m.pending,
                m.debt,
                m.lifetime,
            )
            with db.reader() as session:
                shown = queries.balance(session, self.program.id, self.member, m.now)
                assert shown.available == m.available - m.overdue()
                lots = session.execute(
                    select(Lot.remaining).where(Lot.member_id == self.member, Lot.remaining > 0)
                ).scalars()
                assert sorted(lots) == m.open_lots()
                count = session.execute(
                    select(LedgerTransaction.id).where(LedgerTransaction.member_id == self.member)
                ).all()
                assert len(count) == len(m.txs) + m.hidden_txs

        @invariant()
        def ledger_verifies(self) -> None:
            with db.reader() as session:
                report = verify(session, self.program.id)
            assert report.ok, [str(v) for v in report.violations]

    return LedgerMachine


@pytest.mark.slow
def test_ledger_matches_model(db: Database, make_program: ProgramFactory) -> None:
    machine = make_machine(db, make_program)
    run_state_machine_as_test(
        machine,
        settings=settings(
            max_examples=30,
            stateful_step_count=30,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
