"""Social sharing over HTTP: the program's settings, members' shares and their figures, and
the public `GET /s/{token}` that records a click and sends the browser on."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel
from sqlalchemy.orm import Session

from punchcard.api import paging
from punchcard.api.deps import (
    Admin,
    Caller,
    DbDep,
    IdempotencyKey,
    NowDep,
    Reader,
    Writer,
    require,
)
from punchcard.api.params import Id
from punchcard.api.schemas import errors
from punchcard.api.writes import run_write
from punchcard.engagement.writes import run_config_write
from punchcard.kit import cursor as cursors
from punchcard.programs.domain import Scope
from punchcard.rewards.paging import PageSize
from punchcard.social import service
from punchcard.social.domain import is_token
from punchcard.social.figures import PlatformRow
from punchcard.social.schemas import (
    MemberShareOut,
    MemberSharePage,
    PlatformSummary,
    SettingsIn,
    SettingsOut,
    ShareIn,
    ShareOut,
    SummaryOut,
    figures_of,
)

router = APIRouter(tags=["social"])
Analyst = Annotated[Caller, Depends(require((Scope.ADMIN, Scope.ANALYST)))]

NOT_FOUND_PAGE = (
    "<!doctype html><html lang=en><meta charset=utf-8><title>Link not found</title>"
    "<p>This link does not exist or is no longer active.</p></html>"
)


_SHARE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"model": ShareOut, "description": "The member's existing link, shared again"},
    **errors(400, 403, 404, 409),
}


def _base_url(request: Request) -> str:
    """Where members' browsers reach this server: PUNCHCARD_PUBLIC_URL, else the request's."""
    public: str | None = request.app.state.settings.public_url
    return public or str(request.base_url)


@router.get("/v1/social/settings", response_model=SettingsOut, responses=errors(403))
def get_settings(who: Admin, db: DbDep) -> SettingsOut:
    """The program's sharing settings; the (inactive) defaults before the first PUT."""
    with db.reader() as session:
        return SettingsOut.of(*service.get_settings(session, who.program_id))


@router.put("/v1/social/settings", response_model=SettingsOut, responses=errors(400, 403, 409))
def put_settings(
    body: SettingsIn,
    request: Request,
    who: Admin,
    db: DbDep,
    now: NowDep,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Replace the settings. Fields left out take their defaults; `active` defaults to true."""

    def handler(session: Session) -> tuple[int, BaseModel]:
        settings = service.put_settings(
            session, program_id=who.program_id, settings=body.settings(), now=now
        )
        return 200, SettingsOut.of(settings, now)

    return run_config_write(request, db, who, now, body, handler, idempotency_key)


@router.post(
    "/v1/members/{member_id}/shares",
    status_code=201,
    response_model=ShareOut,
    responses=_SHARE_RESPONSES,
    tags=["members"],
)
def share(
    member_id: Id,
    body: ShareIn,
    request: Request,
    who: Writer,
    db: DbDep,
    now: NowDep,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Record that the member shares a page on a platform, and give the link to share: 201
    with a new link, 200 with the member's existing link for that platform and page. The
    answer says what the share earned (`points_earned`, `earn_status`, `detail`). 409
    `sharing_inactive`; 422 `platform_not_allowed`, `target_url_required`,
    `target_url_not_allowed`; 404 `member_not_found`."""
    base_url = _base_url(request)

    def handler(session: Session) -> tuple[int, BaseModel]:
        result = service.share(
            session,
            program_id=who.program_id,
            member_id=member_id,
            platform=body.platform,
            target_url=body.target_url,
            now=now,
        )
        out = ShareOut.model_validate(
            ShareOut.fields_of(result.link, base_url)
            | {"created": result.created, "points_earned": result.points_earned,
               "detail": result.detail}
        )  # fmt: skip
        return (201 if result.created else 200), out

    return run_write(request, db, who, now, body, handler, idempotency_key)


@router.get(
    "/v1/members/{member_id}/shares",
    response_model=MemberSharePage,
    responses=errors(403, 404),
    tags=["members"],
)
def member_shares(
    member_id: Id,
    request: Request,
    who: Reader,
    db: DbDep,
    cursor: str | None = None,
    limit: PageSize = 50,
) -> MemberSharePage:
    """The member's links, oldest first, with clicks (all and unique), the sign-ups, orders
    and revenue attributed to them, and the points each earned."""
    after = paging.position(cursor) or 0
    with db.reader() as session:
        found = service.member_shares(
            session, program_id=who.program_id, member_id=member_id, after_id=after,
            limit=limit + 1,
        )  # fmt: skip
    base_url = _base_url(request)
    items = [
        MemberShareOut.model_validate(
            MemberShareOut.fields_of(f.link, base_url) | figures_of(f.figures)
        )
        for f in found[:limit]
    ]
    more = len(found) > limit
    return MemberSharePage(
        items=items, next_cursor=cursors.encode(found[limit - 1].link.id) if more else None
    )


@router.get("/v1/social/summary", response_model=SummaryOut, responses=errors(403))
def summary(who: Analyst, db: DbDep) -> SummaryOut:
    """Per platform: links, shares, points, clicks, sign-ups, orders and revenue (admin and
    analyst keys)."""
    with db.reader() as session:
        rows = service.summary(session, program_id=who.program_id)
    return SummaryOut(
        platforms=[
            PlatformSummary.model_validate(_platform_fields(r) | figures_of(r.figures))
            for r in rows
        ]
    )


def _platform_fields(row: PlatformRow) -> dict[str, object]:
    return {
        "platform": row.platform,
        "links": row.links,
        "shares": row.shares,
        "points": row.points,
        "rejected_signups": row.figures.rejected_signups,
    }


@router.get(
    "/s/{token}",
    response_class=RedirectResponse,
    status_code=302,
    responses={
        404: {
            "description": "No such link, or sharing is off (a small HTML page)",
            "content": {"text/html": {"schema": {"type": "string"}}},
        }
    },
)
def follow(token: str, request: Request, db: DbDep, now: NowDep) -> Response:
    """Public, no API key: record the click (no address or user agent kept, only a daily
    salted hash to count unique visitors) and redirect to the shared page with utm_source,
    utm_medium=social, utm_campaign and pc_share=<token> added to its own parameters."""
    if not is_token(token.lower()):
        return HTMLResponse(NOT_FOUND_PAGE, status_code=404)
    address = request.client.host if request.client else None
    with db.writer() as session:
        try:
            url = service.click(
                session,
                token=token,
                address=address,
                user_agent=request.headers.get("user-agent"),
                now=now,
            )
            session.commit()
        except BaseException:
            session.rollback()
            raise
    if url is None:
        return HTMLResponse(NOT_FOUND_PAGE, status_code=404)
    return RedirectResponse(url, status_code=302, headers={"Cache-Control": "no-store"})
