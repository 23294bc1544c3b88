"""What a referee's orders do to their referral: the first qualifying order rewards both sides
(pending for that order's return window), and that order coming back inside the window voids
the reward. Runs in the event's transaction, under the referee's balance lock; locks are
always taken referee first, then referrer, so two rewards never wait on each other in a loop.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from punchcard.engagement.context import EventSeen
from punchcard.engagement.points import award_points
from punchcard.leaderboards import hooks as leaderboards
from punchcard.ledger import reversals
from punchcard.ledger import service as ledger
from punchcard.programs.domain import ProgramSettings
from punchcard.referrals import repository as repo
from punchcard.referrals import service
from punchcard.referrals.domain import Settings, Status, Verdict, recheck_checks
from punchcard.referrals.repository import ReferralRow

RETURNS = ("order.refunded", "order.cancelled")


def on_order(session: Session, seen: EventSeen) -> None:
    """One query when the member waits for no referral reward (nearly every order)."""
    waiting = repo.open_for_order(session, seen.program.id, seen.member_id)
    order_id, amount = seen.order_id, seen.amount
    if not waiting or order_id is None or amount is None:
        return
    for referral in waiting:
        if amount >= referral.min_order_total:
            _qualify(session, seen, referral, order_id)


def _qualify(session: Session, seen: EventSeen, referral: ReferralRow, order_id: str) -> None:
    order = {
        "qualifying_order_id": order_id,
        "qualifying_event_id": seen.source_id,
        "qualified_at": seen.occurred_at,
        "updated_at": seen.now,
    }
    if referral.status == Status.REVIEW:
        if repo.transition(
            session, referral.id, from_status=[Status.REVIEW], values=order, unqualified=True
        ):
            return  # kept for the admin: approving rewards from this order
        current = repo.get(session, referral.program_id, referral.id)  # approved meanwhile
        if current is None or current.status != Status.PENDING or current.qualifying_order_id:
            return
        referral = current
    verdict = recheck(session, referral, seen.now)
    if verdict.reasons:  # the referee's checkout gave away what their enrolment did not
        repo.transition(
            session,
            referral.id,
            from_status=[Status.PENDING],
            values={
                **order,
                "status": Status.REVIEW.value,
                "reasons": [*referral.reasons, *(r.value for r in verdict.reasons)],
                "matched": {**referral.matched, **verdict.matched},
            },
            unqualified=True,
        )
        return
    reward(
        session,
        seen.program,
        referral,
        order_id=order_id,
        event_id=seen.source_id,
        occurred_at=seen.occurred_at,
        now=seen.now,
    )


def recheck(session: Session, referral: ReferralRow, now: datetime) -> Verdict:
    """The contact and signal checks again, with what changed since the enrolment (an e-mail
    added by a PATCH, a payment fingerprint at checkout), before any point is given. Only
    reasons the referral did not already have count: those an admin approved stay approved."""
    settings = repo.get_settings(session, referral.program_id) or Settings()
    evidence = service.gather(
        session,
        referral.program_id,
        referral.referrer_id,
        referral.referee_id,
        created=True,
        now=now,
        full=False,
    )
    found = Verdict()
    recheck_checks(settings, evidence, found)
    verdict = Verdict()
    for reason in found.reasons:
        if reason.value not in referral.reasons:
            verdict.flag(reason, found.matched[reason.value])
    return verdict


def reward(
    session: Session,
    program: ProgramSettings,
    referral: ReferralRow,
    *,
    order_id: str,
    event_id: str | None,
    occurred_at: datetime,
    now: datetime,
) -> bool:
    """Both sides get their points, pending until the order's return window closes. The
    guarded status change comes first: a second call (a replayed event, a racing approval)
    changes nothing and gives nothing."""
    if not repo.transition(
        session,
        referral.id,
        from_status=[Status.PENDING],
        values={
            "status": Status.REWARDED.value,
            "qualifying_order_id": order_id,
            "qualifying_event_id": event_id,
            "qualified_at": occurred_at,
            "rewarded_at": now,
            "updated_at": now,
        },
    ):
        return False
    given: dict[str, object] = {}
    sides = (
        ("referee", referral.referee_id, referral.referee_points),
        ("referrer", referral.referrer_id, referral.referrer_points),
    )
    for side, member_id, points in sides:
        if points > 0:
            given[f"{side}_transaction_id"] = award_points(
                session,
                program=program,
                member_id=member_id,
                points=points,
                reason="referral",
                reference=f"referral:{referral.id}:{side}",
                occurred_at=occurred_at,
                now=now,
                pending_days=program.pending_days,
                meta={"referral_id": referral.id, "order_id": order_id},
            )
    if given:
        repo.transition(session, referral.id, from_status=[Status.REWARDED], values=given)
    return True


def on_return(session: Session, seen: EventSeen) -> None:
    """A refund or cancellation of the order that qualified: one query when it is not one."""
    order_id = seen.order_id
    if order_id is None:
        return
    found = repo.qualified_by(session, seen.program.id, seen.member_id, order_id)
    if not found:
        return
    left = None if seen.type == "order.cancelled" else repo.order_left(
        session, seen.program.id, order_id
    )  # fmt: skip
    for referral in found:
        if left is not None and left >= referral.min_order_total:
            continue  # a partial refund that leaves the order qualifying
        if referral.status == Status.REVIEW:
            repo.transition(
                session,
                referral.id,
                from_status=[Status.REVIEW],
                values={
                    "qualifying_order_id": None,
                    "qualifying_event_id": None,
                    "qualified_at": None,
                    "updated_at": seen.now,
                },
                qualifying=order_id,
            )
        else:
            void(session, seen, referral)


def void(session: Session, seen: EventSeen, referral: ReferralRow) -> bool:
    """Take back the referral points that are still pending at the refund's time, through
    the ledger's own reversal (which voids a pending credit). After the window closed the
    points are the members' to keep: nothing is taken back and the referral stays rewarded."""
    program = seen.program
    sides = (
        ("referee", referral.referee_id, referral.referee_transaction_id, referral.referee_points),
        (
            "referrer",
            referral.referrer_id,
            referral.referrer_transaction_id,
            referral.referrer_points,
        ),
    )
    taken = False
    for side, member_id, tx_id, points in sides:
        if tx_id is None:
            continue
        ledger.lock(session, program.id, member_id)  # the release job cannot slip in between
        state = repo.pending_state(session, tx_id)
        if state is None or state[0] != "pending" or state[1] <= seen.occurred_at:
            continue
        reversals.reverse(
            session,
            program=program,
            member_id=member_id,
            transaction_id=tx_id,
            reason="referral voided",
            reference=f"referral:{referral.id}:{side}",
            now=seen.now,
            meta={"referral_id": referral.id, "order_id": seen.order_id, "event": seen.source_id},
        )
        leaderboards.add_points(
            session,
            program_id=program.id,
            member_id=member_id,
            points=-points,
            occurred_at=referral.qualified_at or seen.occurred_at,
        )
        taken = True
    if taken:
        repo.transition(
            session,
            referral.id,
            from_status=[Status.REWARDED],
            values={"status": Status.VOIDED.value, "voided_at": seen.now, "updated_at": seen.now},
        )
    return taken
