"""Challenge use cases: defining them, joining one, and where a member stands. Session
first, keyword-only after; never commits. What events do to runs is in `progress`."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import ValidationError
from sqlalchemy.orm import Session

from punchcard.challenges import domain, progress
from punchcard.challenges import repository as repo
from punchcard.challenges.domain import Run, Spec, Status
from punchcard.challenges.errors import (
    ChallengeClosedError,
    ChallengeNotFoundError,
    InvalidChallengeError,
    InvalidWindowError,
    NotEligibleError,
    UnknownBadgeError,
    UnknownRewardError,
    UnknownTierError,
)
from punchcard.challenges.schemas import (
    DEFINITION_FIELDS,
    ChallengeCreate,
    Definition,
    FixedWindow,
    RollingWindow,
    stored_spec,
    to_spec,
)
from punchcard.ledger import service as ledger
from punchcard.members import service as members
from punchcard.redemptions.grants import GRANTABLE
from punchcard.rewards import repository as rewards_repo
from punchcard.rewards.domain import RewardType

_COLUMNS = ("name", "description", "active")
_CLEARABLE = ("description", "window", "opt_in_required", "max_completions")


def create_challenge(
    session: Session, *, program_id: int, body: ChallengeCreate, now: datetime
) -> Any:
    definition = _checked(session, program_id, body)
    challenge_id = repo.insert_challenge(
        session,
        {
            "program_id": program_id,
            "name": body.name,
            "description": body.description,
            "active": body.active,
            "definition": definition,
            "created_at": now,
            "updated_at": now,
        },
    )
    return get_challenge(session, program_id=program_id, challenge_id=challenge_id)


def update_challenge(
    session: Session, *, program_id: int, challenge_id: int, changes: dict[str, Any], now: datetime
) -> Any:
    """Fields left out stay; the whole challenge is checked again, so a change cannot leave
    it inconsistent. Runs already under way keep their progress and deadline."""
    row = get_challenge(session, program_id=program_id, challenge_id=challenge_id)
    merged = {**{k: getattr(row, k) for k in _COLUMNS}, **json.loads(row.definition)}
    if (
        "window" in changes
        and "opt_in_required" not in changes
        and (merged.get("window") or {}).get("type") == "rolling"
    ):
        merged.pop("opt_in_required")  # it was rolling's; decided again for the new window
    for key, value in changes.items():
        if value is None and key not in _CLEARABLE:
            raise InvalidChallengeError(f"{key} cannot be null", details={"field": key})
        merged[key] = value
    try:
        body = ChallengeCreate.model_validate(merged)
    except ValidationError as exc:  # each field was checked alone; this is their mix
        first = exc.errors()[0]
        raise InvalidChallengeError(
            first["msg"], details={"field": ".".join(str(p) for p in first["loc"])}
        ) from exc
    definition = _checked(session, program_id, body)
    values = {k: getattr(body, k) for k in _COLUMNS}
    repo.update_challenge(
        session, program_id, challenge_id, {**values, "definition": definition, "updated_at": now}
    )
    return get_challenge(session, program_id=program_id, challenge_id=challenge_id)


def get_challenge(session: Session, *, program_id: int, challenge_id: int) -> Any:
    row = repo.challenge_row(session, program_id, challenge_id)
    if row is None:
        raise ChallengeNotFoundError(
            f"challenge {challenge_id} not found", details={"challenge_id": challenge_id}
        )
    return row


def list_challenges(
    session: Session, *, program_id: int, after_id: int, limit: int, active: bool | None
) -> list[Any]:
    return repo.challenge_page(session, program_id, after_id=after_id, limit=limit, active=active)


def _checked(session: Session, program_id: int, body: ChallengeCreate) -> str:
    """The definition as stored (JSON), once everything in it holds together."""
    window = body.window
    opt_in = body.opt_in_required
    if isinstance(window, FixedWindow) and window.starts_at >= window.ends_at:
        raise InvalidWindowError(
            "window.starts_at must be before window.ends_at", details={"field": "window"}
        )
    if isinstance(window, RollingWindow):
        if opt_in is False:
            raise InvalidWindowError(
                "a rolling window starts when the member opts in: opt_in_required cannot be false",
                details={"field": "opt_in_required"},
            )
        opt_in = True
    if body.max_completions is not None and not body.repeatable:
        raise InvalidChallengeError(
            "max_completions needs repeatable: true", details={"field": "max_completions"}
        )
    _check_reward(session, program_id, body)
    _check_tiers(session, program_id, body.eligibility.tiers)
    data = body.model_dump(mode="json", include=set(DEFINITION_FIELDS))
    data["opt_in_required"] = bool(opt_in)
    to_spec(Definition.model_validate(data))  # the conditions, through the rules parser: 422
    return json.dumps(data, separators=(",", ":"), sort_keys=True)


def _check_reward(session: Session, program_id: int, body: ChallengeCreate) -> None:
    reward = body.reward
    given = [k for k in ("points", "badge_id", "reward_id") if getattr(reward, k) is not None]
    if len(given) != 1:
        raise InvalidChallengeError(
            "reward takes exactly one of points, badge_id and reward_id",
            details={"field": "reward", "given": given},
        )
    if reward.badge_id is not None and not repo.badge_exists(session, program_id, reward.badge_id):
        raise UnknownBadgeError(
            f"no badge {reward.badge_id} in this program",
            details={"field": "reward.badge_id", "badge_id": reward.badge_id},
        )
    if reward.reward_id is not None:
        kind = repo.reward_type(session, program_id, reward.reward_id)
        if kind is None:
            raise UnknownRewardError(
                f"no active reward {reward.reward_id} in this program's catalog",
                details={"field": "reward.reward_id", "reward_id": reward.reward_id},
            )
        if RewardType(kind) not in GRANTABLE:
            raise InvalidChallengeError(
                "a donation reward cannot be given free: it gives the member's points away",
                details={"field": "reward.reward_id", "reward_id": reward.reward_id},
            )


def _check_tiers(session: Session, program_id: int, names: list[str] | None) -> None:
    if names is None:
        return
    known = rewards_repo.tier_names(session, program_id)
    unknown = [n for n in names if known is None or n not in known]
    if unknown:
        raise UnknownTierError(
            f"not a tier of this program: {', '.join(unknown)}",
            details={"field": "eligibility.tiers", "unknown": unknown, "tiers": known or []},
        )


# --- members ------------------------------------------------------------------------------


def join(
    session: Session, *, program_id: int, member_id: int, challenge_id: int, now: datetime
) -> Run:
    """Opt the member in (idempotent: a run under way is answered as it is). A rolling
    window starts now; after a run that expired unfinished, joining again starts a new one.
    The member's balance lock queues this behind their events."""
    ledger.lock(session, program_id, member_id)  # 404 member_not_found too
    row = get_challenge(session, program_id=program_id, challenge_id=challenge_id)
    spec = stored_spec(row.definition)
    if not row.active or domain.closed(spec, now):
        raise ChallengeClosedError(
            "this challenge is not open", details={"challenge_id": challenge_id}
        )
    latest = repo.latest_runs(session, program_id, member_id, [challenge_id]).get(challenge_id)
    if latest is not None and domain.status(spec, latest, now) is not Status.EXPIRED:
        if latest.completed_at is not None:
            raise ChallengeClosedError(
                "the member has completed this challenge as often as it allows",
                details={"challenge_id": challenge_id, "reason": "completed"},
            )
        return latest
    reason = domain.refusal(spec, progress.member_of(session, program_id, member_id), now)
    if reason is not None:
        raise NotEligibleError(
            "this member cannot take part in this challenge",
            details={"challenge_id": challenge_id, "reason": reason},
        )
    number, done = (1, 0) if latest is None else (latest.run + 1, latest.completions)
    run = domain.new_run(spec, challenge_id, number, done, now, joined=True)
    assert run is not None  # the latest run expired unfinished: a new one is always allowed
    repo.insert_runs(session, program_id, member_id, [run], now)
    return repo.latest_runs(session, program_id, member_id, [challenge_id])[challenge_id]


@dataclass(frozen=True)
class MemberChallenge:
    challenge: Any  # the challenges row
    spec: Spec
    status: Status
    run: Run | None
    completions: list[Any]

    @property
    def step(self) -> domain.Step:
        return self.spec.steps[self.run.step if self.run is not None else 0]

    @property
    def progress(self) -> Decimal:
        return self.run.progress if self.run is not None else Decimal(0)

    @property
    def text(self) -> str:
        return domain.progress_text(self.step, self.progress)


def member_challenges(
    session: Session, *, program_id: int, member_id: int, now: datetime
) -> list[MemberChallenge]:
    """The challenges the member can see: active ones they may take part in (or have begun),
    and any they completed, even once retired or closed. Unknown member: 404."""
    members.get(session, program_id=program_id, member_id=member_id)
    runs = repo.latest_runs(session, program_id, member_id)
    rows = {row.id: row for row in repo.active_challenges(session, program_id)}
    done = repo.completions(session, program_id, member_id, list(runs))
    rows |= repo.challenges_by_id(session, program_id, set(done) - set(rows))
    member = progress.member_of(session, program_id, member_id) if rows else None
    found = []
    for challenge_id, row in sorted(rows.items()):
        spec = stored_spec(row.definition)
        run = runs.get(challenge_id)
        standing = domain.status(spec, run, now)
        if run is None and (
            domain.closed(spec, now)
            or (member is not None and domain.refusal(spec, member, now) is not None)
        ):
            continue
        if not row.active and challenge_id not in done:
            continue
        found.append(MemberChallenge(row, spec, standing, run, done.get(challenge_id, [])))
    return found
