"""/v1/members: enrol, look up, change, and the card's QR code."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel
from sqlalchemy.orm import Session

from punchcard.api import paging
from punchcard.api.deps import DbDep, IdempotencyKey, NowDep, Reader, Writer
from punchcard.api.params import Id
from punchcard.api.schemas import errors
from punchcard.api.writes import run_write
from punchcard.engagement import hooks as engagement
from punchcard.kit import cursor as cursors
from punchcard.members import service
from punchcard.members.card import qr_image
from punchcard.members.schemas import MemberCreate, MemberOut, MemberPage, MemberPatch
from punchcard.programs import service as programs

router = APIRouter(prefix="/v1/members", tags=["members"])


@router.post(
    "",
    status_code=201,
    response_model=MemberOut,
    responses={
        200: {"model": MemberOut, "description": "Already enrolled"},
        **errors(400, 403, 409),
    },
)
def enrol_member(
    body: MemberCreate,
    request: Request,
    who: Writer,
    db: DbDep,
    now: NowDep,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Enrol a member; the same `external_id` again returns 200 and the existing member."""

    def handler(session: Session) -> tuple[int, BaseModel]:
        member, created = service.enrol(
            session, program_id=who.program_id, now=now, **body.profile()
        )
        signup = body.signup()
        answer = MemberOut.of(member)
        if not signup.empty:  # referral and share attribution, in the same transaction
            program = programs.get_program(session, who.program_id)
            answer.signup = engagement.after_enrol(
                session, program=program, member_id=member.id, created=created, signup=signup,
                now=now,
            ) or None  # fmt: skip
        return (201 if created else 200), answer

    return run_write(request, db, who, now, body, handler, idempotency_key)


@router.get("", response_model=MemberPage, responses=errors(403))
def find_members(
    who: Reader,
    db: DbDep,
    external_id: str | None = None,
    email: str | None = None,
    phone: str | None = None,
    card_number: str | None = None,
    qr_token: str | None = None,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> MemberPage:
    """Members matching every identifier given (all members when none is), oldest first."""
    filters = {
        name: value
        for name, value in {
            "external_id": external_id,
            "email": email,
            "phone": phone,
            "card_number": card_number,
            "qr_token": qr_token,
        }.items()
        if value is not None
    }
    after = _after(cursor)
    with db.reader() as session:
        rows = service.search(
            session, program_id=who.program_id, filters=filters, after_id=after, limit=limit + 1
        )
    items = [MemberOut.of(r) for r in rows[:limit]]
    next_cursor = cursors.encode(items[-1].id) if len(rows) > limit else None
    return MemberPage(items=items, next_cursor=next_cursor)


def _after(cursor: str | None) -> int:
    return paging.position(cursor) or 0


@router.get("/{member_id}", response_model=MemberOut, responses=errors(403, 404))
def get_member(member_id: Id, who: Reader, db: DbDep) -> MemberOut:
    with db.reader() as session:
        return MemberOut.of(service.get(session, program_id=who.program_id, member_id=member_id))


@router.patch("/{member_id}", response_model=MemberOut, responses=errors(400, 403, 404, 409))
def update_member(
    member_id: Id,
    body: MemberPatch,
    request: Request,
    who: Writer,
    db: DbDep,
    now: NowDep,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Change contact details; fields left out stay as they are, `null` clears one."""

    def handler(session: Session) -> tuple[int, BaseModel]:
        member = service.update(
            session,
            program_id=who.program_id,
            member_id=member_id,
            changes=body.model_dump(exclude_unset=True),
            now=now,
        )
        return 200, MemberOut.of(member)

    return run_write(request, db, who, now, body, handler, idempotency_key)


_CARD = {"content": {"image/svg+xml": {}, "image/png": {}}, "description": "The QR code"}


@router.get(
    "/{member_id}/card.svg", response_class=Response, responses={200: _CARD, **errors(403, 404)}
)
def card_svg(member_id: Id, who: Reader, db: DbDep) -> Response:
    return _card(member_id, who.program_id, db, "svg", "image/svg+xml")


@router.get(
    "/{member_id}/card.png", response_class=Response, responses={200: _CARD, **errors(403, 404)}
)
def card_png(member_id: Id, who: Reader, db: DbDep) -> Response:
    return _card(member_id, who.program_id, db, "png", "image/png")


def _card(member_id: int, program_id: int, db: DbDep, kind: str, media: str) -> Response:
    with db.reader() as session:
        member = service.get(session, program_id=program_id, member_id=member_id)
    return Response(
        qr_image(member.qr_token, kind),
        media_type=media,
        headers={"Cache-Control": "private, max-age=300"},
    )
