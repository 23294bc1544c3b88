"""HTTP routes of tiers: the program's ladder, a member's tier, its history, and grants."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel
from sqlalchemy.orm import Session

from punchcard.api import paging
from punchcard.api.deps import Admin, DbDep, IdempotencyKey, NowDep, Reader
from punchcard.api.params import Id
from punchcard.api.schemas import errors
from punchcard.api.writes import run_write
from punchcard.kit import cursor as cursors
from punchcard.tiers import service
from punchcard.tiers.domain import Policy
from punchcard.tiers.schemas import (
    GrantIn,
    MemberTierOut,
    PolicyIn,
    PolicyOut,
    ProgressOut,
    TierChangeOut,
    TierHistoryPage,
    TierOut,
)

router = APIRouter(tags=["tiers"])


def _policy_out(policy: Policy, updated_at: datetime) -> PolicyOut:
    return PolicyOut.model_validate(
        {
            "metric": policy.metric,
            "window": policy.window,
            "downgrade": policy.downgrade,
            "grace_days": policy.grace_days,
            "version": policy.version,
            "updated_at": updated_at,
            "tiers": [
                TierOut(
                    name=t.name,
                    threshold=service.show(policy, t.threshold),
                    multiplier=t.multiplier,
                    perks=list(t.perks),
                    invitation_only=t.invitation_only,
                )
                for t in policy.tiers
            ],
        }
    )


@router.get("/v1/tiers", response_model=PolicyOut, responses=errors(403, 404))
def get_tiers(who: Reader, db: DbDep) -> PolicyOut:
    """The program's tiers, lowest first; 404 `tiers_not_configured` before the first PUT."""
    with db.reader() as session:
        return _policy_out(*service.require_policy(session, who.program_id))


@router.put("/v1/tiers", response_model=PolicyOut, responses=errors(400, 403, 409))
def put_tiers(
    body: PolicyIn,
    request: Request,
    who: Admin,
    db: DbDep,
    now: NowDep,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Replace the tiers (a new version). 422 `invalid_tiers` lists every problem; 409
    `tier_in_use` when a removed tier is still held by a member."""

    def handler(session: Session) -> tuple[int, BaseModel]:
        policy = service.replace_policy(session, program_id=who.program_id, body=body, now=now)
        return 200, _policy_out(policy, now)

    try:
        return run_write(request, db, who, now, body, handler, idempotency_key)
    finally:
        db.caches.forget(("tiers", who.program_id))


def _standing(session: Session, program_id: int, member_id: int, now: datetime) -> MemberTierOut:
    found = service.standing(session, program_id=program_id, member_id=member_id, now=now)
    policy, held = found.policy, found.held
    tier = policy.get(held.tier)
    progress = found.progress
    return MemberTierOut(
        member_id=member_id,
        tier=held.tier,
        since=held.since,
        valid_until=held.valid_until,
        in_grace_until=found.in_grace_until,
        multiplier=tier.multiplier if tier is not None else 1,
        perks=list(tier.perks) if tier is not None else [],
        metric=policy.metric,
        window=policy.window,
        qualifying_value=service.show(policy, found.value),
        next_tier=progress.next_tier if progress is not None else None,
        progress=None
        if progress is None
        else ProgressOut(
            needed=service.show(policy, progress.needed), by=progress.by, message=progress.message
        ),
    )


@router.get(
    "/v1/members/{member_id}/tier", response_model=MemberTierOut, responses=errors(403, 404)
)
def get_member_tier(member_id: Id, who: Reader, db: DbDep, now: NowDep) -> MemberTierOut:
    """The member's tier, since when and until when, and what the next tier still needs."""
    with db.reader() as session:
        return _standing(session, who.program_id, member_id, now)


@router.post(
    "/v1/members/{member_id}/tier",
    response_model=MemberTierOut,
    responses=errors(400, 403, 404, 409),
)
def grant_tier(
    member_id: Id,
    body: GrantIn,
    request: Request,
    who: Admin,
    db: DbDep,
    now: NowDep,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Set a member's tier by hand (the only way into an invitation-only tier), recorded as
    `granted` in the history with the reason given."""

    def handler(session: Session) -> tuple[int, BaseModel]:
        service.grant(
            session,
            program_id=who.program_id,
            member_id=member_id,
            tier=body.tier,
            reason=body.reason,
            valid_until=body.valid_until,
            now=now,
        )
        return 200, _standing(session, who.program_id, member_id, now)

    return run_write(request, db, who, now, body, handler, idempotency_key)


@router.get(
    "/v1/members/{member_id}/tier/history",
    response_model=TierHistoryPage,
    responses=errors(403, 404),
)
def tier_history(
    member_id: Id,
    who: Reader,
    db: DbDep,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> TierHistoryPage:
    """Every upgrade, downgrade, renewal and grant, newest first."""
    before = paging.position(cursor)
    with db.reader() as session:
        rows = service.history(
            session,
            program_id=who.program_id,
            member_id=member_id,
            before_id=before,
            limit=limit + 1,
        )
    page = rows[:limit]
    return TierHistoryPage(
        items=[TierChangeOut.model_validate(r, from_attributes=True) for r in page],
        next_cursor=cursors.encode(page[-1].id) if len(rows) > limit else None,
    )
