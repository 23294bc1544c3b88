"""Members of a program: search by any identifier, a member's page (balance, tier, the
ledger page by page), the explanation of one transaction, and a manual adjustment with its
required reason. Everything is looked up inside the program in the address, so another
program's member is a 404 page."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import ValidationError
from starlette.responses import Response

from punchcard.api.params import Id
from punchcard.api.schemas import MAX_ID
from punchcard.db import Database, session_scope
from punchcard.errors import PunchcardError
from punchcard.events.repository import explanation_for
from punchcard.ledger import queries
from punchcard.ledger import service as ledger
from punchcard.ledger.schemas import AdjustmentIn
from punchcard.members import service as members
from punchcard.members.repository import MemberRow
from punchcard.programs.domain import ProgramSettings
from punchcard.tiers import service as tiers
from punchcard.web import i18n
from punchcard.web.admin.forms import Fields
from punchcard.web.admin.guard import Admin, Program, not_found
from punchcard.web.admin.once import Once
from punchcard.web.admin.views import pretty, redirect, view
from punchcard.web.deps import Csrf, Db, Now, Session

router = APIRouter()
PAGE = 25
MEMBER_ACCOUNTS = ("member:available", "member:pending")
FIELDS = ("external_id", "email", "phone", "card_number", "qr_token")


def find(session: Any, program_id: int, text: str, field: str = "any") -> list[MemberRow]:
    """Members whose identifier is `text`: one field, or every field it could be (and the
    member id), each match once. A value a field cannot hold (a mistyped card number, say)
    simply matches nothing there."""
    text = text.strip()
    if not text:
        return []
    fields = FIELDS if field == "any" else (field,) if field in FIELDS else ()
    found: dict[int, MemberRow] = {}
    if field in ("any", "id") and text.isdigit() and len(text) < 19:
        try:
            row = members.get(session, program_id=program_id, member_id=int(text))
            found[row.id] = row
        except PunchcardError:
            pass
    for name in fields:
        try:
            rows = members.search(
                session, program_id=program_id, filters={name: text}, after_id=0, limit=20
            )
        except PunchcardError:
            continue
        found.update({row.id: row for row in rows})
    return sorted(found.values(), key=lambda row: row.id)


@router.get("/programs/{program_id}/members")
def members_page(
    request: Request,
    session: Session,
    program: Program,
    db: Db,
    q: str = "",
    field: str = "any",
) -> Response:
    with db.reader() as read:
        found = find(read, program.id, q[:320], field)
    return view(
        request,
        session,
        "members.html",
        i18n.gettext("Members of %(name)s", name=program.name),
        program=program,
        q=q,
        field=field,
        fields=("any", "id", *FIELDS),
        found=found,
        searched=bool(q.strip()),
    )


def _member(read: Any, program: ProgramSettings, member_id: int) -> MemberRow:
    try:
        return members.get(read, program_id=program.id, member_id=member_id)
    except PunchcardError:
        raise not_found() from None


def _member_page(
    request: Request,
    session: Any,
    db: Database,
    program: ProgramSettings,
    member_id: int,
    *,
    now: Any,
    before: int | None = None,
    form: dict[str, str] | None = None,
    error: str | None = None,
    status: int = 200,
) -> Response:
    with db.reader() as read:
        member = _member(read, program, member_id)
        summary = queries.balance(read, program.id, member_id, now)
        policy = tiers.policy_of(read, program.id)
        held = tiers.held(read, policy, program.id, member_id) if policy else None
        history, more = queries.transactions_page(
            read, program.id, member_id, before_id=before, limit=PAGE
        )
    return view(
        request,
        session,
        "member.html",
        i18n.gettext("Member %(id)s", id=member.id),
        status_code=status,
        program=program,
        member=member,
        balance=summary,
        tier=held.tier if held else None,
        history=history,
        change=member_change,
        more=more,
        form=form or {},
        error=error,
    )


@router.get("/programs/{program_id}/members/{member_id}")
def member_page(
    request: Request,
    session: Session,
    program: Program,
    db: Db,
    now: Now,
    member_id: Id,
    before: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
) -> Response:
    return _member_page(request, session, db, program, member_id, now=now, before=before)


@router.get("/programs/{program_id}/members/{member_id}/transactions/{tx_id}")
def transaction_page(
    request: Request, session: Session, program: Program, db: Db, member_id: Id, tx_id: Id
) -> Response:
    """Why a transaction happened: the event's explanation (rules, version, points each
    gave, what did not apply), or the ledger's own record for adjustments and spends."""
    with db.reader() as read:
        member = _member(read, program, member_id)
        try:
            tx = queries.transaction(read, program.id, member.id, tx_id)
        except PunchcardError:
            raise not_found() from None
        found = explanation_for(read, program.id, tx_id)
    return view(
        request,
        session,
        "transaction.html",
        i18n.gettext("Transaction %(id)s", id=tx.id),
        program=program,
        member=member,
        tx=tx,
        explanation=pretty(found) if found is not None else None,
        meta=pretty(tx.meta) if tx.meta else None,
    )


@router.post("/programs/{program_id}/members/{member_id}/adjust", dependencies=[Csrf])
def adjust(
    request: Request,
    session: Session,
    admin: Admin,
    program: Program,
    db: Db,
    now: Now,
    member_id: Id,
    form: Fields,
) -> Response:
    """A manual credit (positive) or debit (negative) with a reason, refused in place when
    the balance cannot cover it; the admin who made it is kept in the transaction's meta.
    The form's nonce makes it one-time: posted twice, it credits once (see once.py)."""
    try:
        body = AdjustmentIn.model_validate(
            {"points": _points(form.get("points", "")), "reason": form.get("reason", "").strip()}
        )
    except (ValidationError, ValueError):
        return _member_page(
            request, session, db, program, member_id, now=now, form=form, status=400,
            error=i18n.gettext(
                "Give the points as a whole number other than 0 (negative to take points "
                "away), and a reason."
            ),
        )  # fmt: skip
    with db.reader() as read:
        _member(read, program, member_id)
    post = Once.of(program.id, "adjust", form)
    try:
        with session_scope(db.writer) as write:
            what = f"{member_id} {body.points} {body.reason}"
            if not post.already_done(write, what=what, now=now):
                ledger.adjust(
                    write,
                    program=program,
                    member_id=member_id,
                    points=body.points,
                    reason=body.reason,
                    now=now,
                    meta={"admin_user_id": admin.id, "admin_email": admin.email},
                )
                post.done(write)
    except PunchcardError as exc:
        message = exc.message
        if exc.code == "insufficient_points":
            message = i18n.gettext(
                "Not enough points: the member's available balance cannot cover a debit of "
                "%(points)s.",
                points=-body.points,
            )
        return _member_page(
            request, session, db, program, member_id, now=now, form=form, error=message,
            status=exc.status if 400 <= exc.status < 500 else 400,
        )  # fmt: skip
    return redirect(f"/admin/programs/{program.id}/members/{member_id}", "adjusted")


def member_change(tx: queries.TransactionDetail) -> int:
    """What the transaction did to the member's points (available and pending), signed:
    the journal keeps magnitudes, the postings keep directions."""
    return sum(amount for account, amount in tx.postings if account in MEMBER_ACCOUNTS)


def _points(text: str) -> int:
    value = int(text.strip())
    if value == 0:
        raise ValueError("zero")
    return value
