"""What an event does to the member's challenges, in the event's own transaction and under
the member's balance lock (the earn paths hold it when they call the hooks).

A constant number of statements per event, however many challenges the program runs: one
reads all its active challenges (their definitions parse once per process, cached on their
text), one reads the member's latest run at each challenge the event could count for, then
one statement each for new runs, moved runs and contributions. Only a completion, a refund
of a counted order and a run needing eligibility facts cost more."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from punchcard.badges import hooks as badges
from punchcard.challenges import domain, undo
from punchcard.challenges import repository as repo
from punchcard.challenges.domain import Run, Spec
from punchcard.engagement.context import EventSeen
from punchcard.engagement.points import award_points, order_window
from punchcard.events import repository as events_repo
from punchcard.leaderboards import hooks as leaderboards
from punchcard.redemptions import grants
from punchcard.tiers import repository as tiers_repo

REVERSING = ("order.refunded", "order.cancelled")


def active(session: Session, program_id: int) -> list[tuple[int, Spec]]:
    # Loaded here, not with the module: the schemas bring in FastAPI, a quarter of a second
    # that every earn path (and `punchcard import`) paid for a program with no challenge.
    from punchcard.challenges.schemas import stored_spec

    return [
        (row.id, stored_spec(row.definition)) for row in repo.active_challenges(session, program_id)
    ]


def in_window(spec: Spec, seen: EventSeen) -> bool:
    """A first filter, before any run is read: a fixed window the event falls outside."""
    window = spec.window
    if window is None or window.type != "fixed":
        return True
    return bool(window.starts_at and window.starts_at <= seen.occurred_at) and bool(
        window.ends_at and seen.occurred_at < window.ends_at
    )


@dataclass
class _Writes:
    new_runs: list[Run] = field(default_factory=list)
    moves: list[dict[str, Any]] = field(default_factory=list)
    contributions: list[dict[str, Any]] = field(default_factory=list)
    done: list[tuple[int, Spec, Run]] = field(default_factory=list)
    progress: list[tuple[int, Decimal]] = field(default_factory=list)


def on_event(session: Session, seen: EventSeen) -> None:
    challenges = active(session, seen.program.id)
    if not challenges:
        return
    if seen.type in REVERSING and seen.order_id is not None:
        take_out(session, seen, dict(challenges), seen.order_id)
    candidates = [(c, s) for c, s in challenges if seen.type in s.events and in_window(s, seen)]
    if not candidates:
        return
    runs = repo.latest_runs(session, seen.program.id, seen.member_id, [c for c, _ in candidates])
    writes = _Writes()
    member: list[domain.Member] = []  # read once, only if a new run needs it
    for challenge_id, spec in candidates:
        run = runs.get(challenge_id)
        if run is None:
            if spec.opt_in_required or not _eligible(session, seen, spec, member):
                continue
            run = domain.new_run(spec, challenge_id, 1, 0, seen.occurred_at, joined=False)
            if run is None:
                continue
            fresh = True
        else:
            fresh = False
        if not run.open or not domain.counts_at(spec, run, seen.occurred_at):
            continue
        moved = domain.advance(spec, run, seen.type, seen.facts)
        if moved is None:
            continue
        if fresh:
            writes.new_runs.append(run)
        _record(writes, seen, challenge_id, spec, run, moved)
    _write(session, seen, writes)


def _eligible(session: Session, seen: EventSeen, spec: Spec, member: list[domain.Member]) -> bool:
    rules = spec.eligibility
    if rules.tiers is None and rules.channels is None and rules.new_members_within_days is None:
        return True
    if not member:
        member.append(member_of(session, seen.program.id, seen.member_id, seen.facts.tier))
    return domain.refusal(spec, member[0], seen.occurred_at) is None


def member_of(
    session: Session, program_id: int, member_id: int, tier: str | None = None
) -> domain.Member:
    """The member as eligibility sees them; `tier` as the event earned at, else the held one."""
    facts = repo.member_facts(session, program_id, member_id)
    assert facts is not None, "the earn path resolved this member"
    if tier is None:
        tier = tiers_repo.held_tier(session, program_id, member_id)
    return domain.Member(tier, facts[0], facts[1])


def _record(
    writes: _Writes, seen: EventSeen, challenge_id: int, spec: Spec, run: Run, moved: domain.Moved
) -> None:
    program_id, member_id = seen.program.id, seen.member_id
    writes.moves.append(
        {
            "p": program_id,
            "m": member_id,
            "c": challenge_id,
            "r": run.run,
            "step": moved.step,
            "progress": moved.progress,
            "done_at": seen.occurred_at if moved.completed else None,
            "done_by": seen.source_id if moved.completed else None,
            "now": seen.now,
        }
    )
    writes.contributions.append(
        {
            "program_id": program_id,
            "member_id": member_id,
            "challenge_id": challenge_id,
            "run": run.run,
            "source_id": seen.source_id,
            "order_id": seen.order_id,
            "step": run.step,
            "amount": moved.delta,
            "taken": Decimal(0),
            "occurred_at": seen.occurred_at,
        }
    )
    writes.progress.append((challenge_id, moved.delta))
    if moved.completed:
        writes.done.append((challenge_id, spec, run))


def _write(session: Session, seen: EventSeen, writes: _Writes) -> None:
    program_id, member_id = seen.program.id, seen.member_id
    repo.insert_runs(session, program_id, member_id, writes.new_runs, seen.now)
    repo.move_runs(session, writes.moves)
    repo.insert_contributions(session, writes.contributions)
    for challenge_id, delta in writes.progress:
        leaderboards.challenge_progress(
            session,
            program_id=program_id,
            challenge_id=challenge_id,
            member_id=member_id,
            delta=delta,
            occurred_at=seen.occurred_at,
        )
    for challenge_id, spec, run in writes.done:
        complete(session, seen, challenge_id, spec, run)


def complete(session: Session, seen: EventSeen, challenge_id: int, spec: Spec, run: Run) -> None:
    """Record the completion, then reward it: the completion's key (challenge, member, run)
    lets only one writer through, so the reward cannot be given twice. A repeatable challenge
    starts the member's next run at once."""
    program_id, member_id = seen.program.id, seen.member_id
    recorded = repo.insert_completion(
        session,
        {
            "program_id": program_id,
            "member_id": member_id,
            "challenge_id": challenge_id,
            "run": run.run,
            "completed_at": seen.occurred_at,
            "source_id": seen.source_id,
            "reward": "{}",
            "recorded_at": seen.now,
        },
    )
    if not recorded:
        return
    reward = give(session, seen, challenge_id, spec, run.run)
    repo.set_completion_reward(
        session, program_id, member_id, challenge_id, run.run, json.dumps(reward),
        transaction_id=reward.get("transaction_id"),
    )  # fmt: skip
    following = domain.new_run(
        spec, challenge_id, run.run + 1, run.completions + 1, seen.occurred_at, joined=run.joined
    )
    if following is not None:
        repo.insert_runs(session, program_id, member_id, [following], seen.now)


def give(
    session: Session, seen: EventSeen, challenge_id: int, spec: Spec, run: int
) -> dict[str, Any]:
    """The challenge's reward, as the completion records it. Points earned by an order wait
    for the order's return window, like the order's own points (`order_window`)."""
    prize = spec.reward
    reference = f"challenge:{challenge_id}:{run}"
    if prize.points is not None:
        tx_id = award_points(
            session,
            program=seen.program,
            member_id=seen.member_id,
            points=prize.points,
            reason="challenge",
            reference=reference,
            occurred_at=seen.occurred_at,
            now=seen.now,
            pending_days=order_window(seen),
            meta={"challenge_id": challenge_id, "run": run, "event_id": seen.source_id},
        )
        return {"points": prize.points, "transaction_id": tx_id}
    if prize.badge_id is not None:
        awarded = badges.award(
            session,
            program_id=seen.program.id,
            member_id=seen.member_id,
            badge_id=prize.badge_id,
            source_id=seen.source_id,
            occurred_at=seen.occurred_at,
            now=seen.now,
        )
        return {"badge_id": prize.badge_id, "awarded": awarded}
    assert prize.reward_id is not None
    given = grants.grant(
        session,
        program_id=seen.program.id,
        member_id=seen.member_id,
        reward_id=prize.reward_id,
        now=seen.now,
        reason=reference,
    )
    if given.issued is None:
        return {"reward_id": prize.reward_id, "error": given.refused}
    return {
        "reward_id": prize.reward_id,
        "redemption_id": given.issued.redemption.id,
        "code_hint": given.issued.redemption.code_hint,
    }


def take_out(session: Session, seen: EventSeen, specs: dict[int, Spec], order_id: str) -> None:
    """A refund or cancellation of a counted order takes its contribution out (a count only
    once the whole order is gone; a sum as much as was refunded): from the current step of
    an open run (steps already passed stay as they are), or from a completed run, which is
    undone when it no longer reaches its targets (`undo.undo`)."""
    rows = repo.order_contributions(session, seen.program.id, seen.member_id, order_id)
    rows = [r for r in rows if r.challenge_id in specs]
    rows = [r for r in rows if r.completed_at is not None or r.step == r.run_step]
    if not rows:
        return
    order = events_repo.get_order(session, seen.program.id, order_id)
    fully = seen.type == "order.cancelled" or order is None or order.status == "refunded"
    takes, completed = [], []
    for row in rows:
        spec = specs[row.challenge_id]
        amount, taken = Decimal(str(row.amount)), Decimal(str(row.taken))
        n = domain.to_take(
            spec.steps[row.step].metric if row.step < len(spec.steps) else domain.Metric.COUNT,
            amount,
            taken,
            refunded=order.refunded_amount if order is not None else amount,
            total=order.total if order is not None else amount,
            fully=fully,
        )
        if row.completed_at is None:
            n = min(n, Decimal(str(row.progress)))
        if n <= 0:
            continue
        if row.completed_at is not None:
            completed.append((row.challenge_id, row.run))
        takes.append(
            {"p": seen.program.id, "m": seen.member_id, "c": row.challenge_id, "r": row.run,
             "s": row.source_id, "n": n, "now": seen.now}
        )  # fmt: skip
        leaderboards.challenge_progress(
            session,
            program_id=seen.program.id,
            challenge_id=row.challenge_id,
            member_id=seen.member_id,
            delta=-n,
            occurred_at=seen.occurred_at,
        )
    repo.take_out(session, takes)
    for challenge_id, run in completed:
        undo.undo(session, seen, challenge_id, specs[challenge_id], run)
