"""Undoing a completion that a refund took away (earn-refund-keep, DESIGN.md section 4: a
refund reverses what the order earned, and a challenge's bonus is part of that).

When a refund or cancellation leaves a completed run short of one of its steps' targets,
in the refund's own transaction and under the member's balance lock:
- the bonus points go back through the ledger's reversal, like the order's own points: a
  credit still pending (an order's bonus waits for its return window) is voided; one
  already released comes off the available balance, and what was spent becomes debt;
- the leaderboards lose those points;
- a catalog reward the completion granted is cancelled while its code is still `issued`
  (used, expired or reserved ones stay: the member has it);
- a badge the completion gave stays (badges are never taken back);
- the completion row is deleted and the run reopened at the first step now short, with
  what still counts there, so new events can complete it again, and only once (the
  completion's key guards it as before). A repeatable challenge's next run, started by the
  completion, is removed while nothing counted in it; if it already has progress, the
  reopened run could never be reached again, so it stays closed: the completion and its
  bonus are still taken back and the later runs count one completion less.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from punchcard.challenges import repository as repo
from punchcard.challenges.domain import Spec
from punchcard.engagement.context import EventSeen
from punchcard.errors import PunchcardError
from punchcard.leaderboards import hooks as leaderboards
from punchcard.ledger import repository as ledger_repo
from punchcard.ledger import reversals
from punchcard.redemptions import service as redemptions
from punchcard.redemptions.domain import Status


def short_step(spec: Spec, totals: dict[int, Decimal]) -> int | None:
    """The first step the run's remaining contributions no longer reach, or None."""
    for index, step in enumerate(spec.steps):
        if totals.get(index, Decimal(0)) < step.target:
            return index
    return None


def undo(session: Session, seen: EventSeen, challenge_id: int, spec: Spec, run: int) -> bool:
    """Undo the run's completion if the refund left it short (True when undone)."""
    program_id, member_id = seen.program.id, seen.member_id
    totals = repo.step_totals(session, program_id, member_id, challenge_id, run)
    step = short_step(spec, totals)
    if step is None:
        return False
    completion = repo.completion_of(session, program_id, member_id, challenge_id, run)
    if completion is None or not repo.delete_completion(
        session, program_id, member_id, challenge_id, run
    ):
        return False
    reward = repo.loaded(completion.reward)
    if completion.transaction_id is not None:
        _take_back(session, seen, completion, challenge_id, run)
    if reward.get("redemption_id") is not None:
        _cancel_grant(session, seen, int(reward["redemption_id"]))
    following = repo.run_state(session, program_id, member_id, challenge_id, run + 1)
    if following is not None and (following.step > 0 or following.progress > 0):
        repo.one_completion_less(session, program_id, member_id, challenge_id, run)
        return True
    if following is not None:
        repo.delete_run(session, program_id, member_id, challenge_id, run + 1)
    repo.reopen_run(
        session, program_id, member_id, challenge_id, run,
        step=step, progress=totals.get(step, Decimal(0)), now=seen.now,
    )  # fmt: skip
    return True


def _take_back(
    session: Session, seen: EventSeen, completion: Any, challenge_id: int, run: int
) -> None:
    """The bonus credit reversed (voided while pending), off the leaderboards too."""
    tx_id = int(completion.transaction_id)
    original = ledger_repo.get_transaction(session, seen.program.id, seen.member_id, tx_id)
    if original is None:
        return
    left = original.points - ledger_repo.reversed_so_far(session, tx_id)
    if left <= 0:
        return  # an admin reversed it already
    reversals.reverse(
        session,
        program=seen.program,
        member_id=seen.member_id,
        transaction_id=tx_id,
        reason="challenge undone",
        reference=f"challenge:{challenge_id}:{run}",
        now=seen.now,
        meta={"challenge_id": challenge_id, "run": run, "order_id": seen.order_id,
              "event": seen.source_id},
    )  # fmt: skip
    leaderboards.add_points(
        session,
        program_id=seen.program.id,
        member_id=seen.member_id,
        points=-left,
        occurred_at=completion.completed_at,
    )


def _cancel_grant(session: Session, seen: EventSeen, redemption_id: int) -> None:
    """Cancel the granted reward if its code is still unused (no points to give back)."""
    try:
        row = redemptions.get(
            session,
            program_id=seen.program.id,
            member_id=seen.member_id,
            redemption_id=redemption_id,
        )
    except PunchcardError:
        return
    if row.status != Status.ISSUED:
        return
    savepoint = session.begin_nested()
    try:
        redemptions.cancel(
            session,
            program=seen.program,
            member_id=seen.member_id,
            redemption_id=redemption_id,
            now=seen.now,
        )
    except PunchcardError:
        savepoint.rollback()  # expired, or used at a checkout meanwhile: the member keeps it
    else:
        savepoint.commit()
