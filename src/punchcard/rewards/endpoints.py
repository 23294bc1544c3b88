"""/v1/rewards and /v1/members/{id}/rewards: the catalog, and what one member can redeem."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel
from sqlalchemy.orm import Session

from punchcard.api.deps import Admin, DbDep, IdempotencyKey, NowDep, Reader
from punchcard.api.params import Id
from punchcard.api.schemas import errors
from punchcard.api.writes import run_write
from punchcard.members.domain import Channel
from punchcard.rewards import service
from punchcard.rewards.causes_endpoints import router as causes_router
from punchcard.rewards.domain import RewardType
from punchcard.rewards.paging import PageSize, after_id, page_of
from punchcard.rewards.schemas import (
    MemberRewardList,
    RewardCreate,
    RewardOut,
    RewardPage,
    RewardPatch,
)

router = APIRouter(tags=["rewards"])
router.include_router(causes_router)


@router.post(
    "/v1/rewards", status_code=201, response_model=RewardOut, responses=errors(400, 403, 409)
)
def create_reward(
    body: RewardCreate,
    request: Request,
    who: Admin,
    db: DbDep,
    now: NowDep,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Add a reward to the catalog. 422 `invalid_reward` (with `details.field`) when the value
    does not fit the type, `unknown_tier` for a tier the program does not have."""

    def handler(session: Session) -> tuple[int, BaseModel]:
        record = service.create_reward(
            session, program_id=who.program_id, fields=body.model_dump(), now=now
        )
        return 201, RewardOut.of(record)

    return run_write(request, db, who, now, body, handler, idempotency_key)


@router.get("/v1/rewards", response_model=RewardPage, responses=errors(403))
def list_rewards(
    who: Reader,
    db: DbDep,
    active: bool | None = None,
    kind: Annotated[RewardType | None, Query(alias="type")] = None,
    cursor: str | None = None,
    limit: PageSize = 50,
) -> RewardPage:
    """The catalog, oldest first, retired rewards included unless `active=true`."""
    after = after_id(cursor)
    with db.reader() as session:
        records = service.list_rewards(
            session,
            program_id=who.program_id,
            after_id=after,
            limit=limit + 1,
            active=active,
            kind=kind,
        )
    items, following = page_of(records, limit, RewardOut.of)
    return RewardPage(items=items, next_cursor=following)


@router.get("/v1/rewards/{reward_id}", response_model=RewardOut, responses=errors(403, 404))
def get_reward(reward_id: Id, who: Reader, db: DbDep) -> RewardOut:
    with db.reader() as session:
        return RewardOut.of(
            service.get_reward(session, program_id=who.program_id, reward_id=reward_id)
        )


@router.patch(
    "/v1/rewards/{reward_id}", response_model=RewardOut, responses=errors(400, 403, 404, 409)
)
def update_reward(
    reward_id: Id,
    body: RewardPatch,
    request: Request,
    who: Admin,
    db: DbDep,
    now: NowDep,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Change any field but the type; fields left out stay, `null` clears an optional one,
    `active: false` retires the reward. 409 `stock_below_claimed` for a stock below what
    members already claimed."""

    def handler(session: Session) -> tuple[int, BaseModel]:
        record = service.update_reward(
            session,
            program_id=who.program_id,
            reward_id=reward_id,
            changes=body.model_dump(exclude_unset=True),
            now=now,
        )
        return 200, RewardOut.of(record)

    return run_write(request, db, who, now, body, handler, idempotency_key)


@router.get(
    "/v1/members/{member_id}/rewards",
    response_model=MemberRewardList,
    responses=errors(403, 404),
    tags=["members"],
)
def member_rewards(
    member_id: Id,
    who: Reader,
    db: DbDep,
    now: NowDep,
    channel: Channel | None = None,
    include_unavailable: bool = False,
) -> MemberRewardList:
    """Every active reward, cheapest first, with `redeemable` and the `reasons` why not.
    Rewards outside their validity window are left out unless `include_unavailable=true`
    (they then show `reward_inactive`). With `channel`, channel eligibility is applied."""
    with db.reader() as session:
        catalog = service.member_catalog(
            session,
            program_id=who.program_id,
            member_id=member_id,
            now=now,
            channel=None if channel is None else channel.value,
            include_unavailable=include_unavailable,
        )
    return MemberRewardList.of(member_id, catalog)
