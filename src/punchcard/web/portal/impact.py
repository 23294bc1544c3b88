"""Donations: what the member's points did for the program's causes."""

from __future__ import annotations

from decimal import Decimal

from fastapi import APIRouter, Request
from starlette.responses import Response

from punchcard.redemptions import service as redemptions
from punchcard.web.deps import Db, Session
from punchcard.web.portal.common import page, signed_in

router = APIRouter()


@router.get("/impact")
def impact(request: Request, session: Session, db: Db) -> Response:
    portal = signed_in(session, db)
    with db.reader() as reading:
        causes = redemptions.impact(
            reading, program_id=portal.program_id, member_id=portal.member.id
        )
    rows = [(entry, Decimal(units)) for entry, units in causes]
    context = {
        "causes": rows,
        "total_points": sum(entry.points for entry, _ in causes),
        "total_donations": sum(entry.donations for entry, _ in causes),
    }
    return page(request, session, "impact.html", context, portal=portal)
