"""Inviting friends: the member's referral code and link, how their invitations stand, and
share buttons that are plain links built here (nothing is loaded from the share sites)."""

from __future__ import annotations

from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request
from starlette.responses import Response

from punchcard.db import session_scope
from punchcard.referrals import service as referrals
from punchcard.web import i18n
from punchcard.web.deps import Db, Now, Session
from punchcard.web.portal.common import page, signed_in

router = APIRouter()


def share_links(subject: str, text: str, link: str | None) -> list[tuple[str, str]]:
    """(label, href) for e-mail, WhatsApp and X; the text already holds the link."""
    _ = i18n.gettext
    mail = "mailto:?" + urlencode({"subject": subject, "body": text}, quote_via=quote)
    whatsapp = "https://wa.me/?" + urlencode({"text": text}, quote_via=quote)
    x_params = {"text": text} if link is None else {"text": subject, "url": link}
    x = "https://x.com/intent/post?" + urlencode(x_params, quote_via=quote)
    return [(_("Share by e-mail"), mail), (_("Share on WhatsApp"), whatsapp), (_("Share on X"), x)]


@router.get("/invite")
def invite(request: Request, session: Session, db: Db, now: Now) -> Response:
    portal = signed_in(session, db)
    member_id, program_id = portal.member.id, portal.program_id
    with db.reader() as reading:
        settings = referrals.get_settings(reading, program_id=program_id)
        code = referrals.existing_code(reading, program_id=program_id, member_id=member_id)
    context: dict[str, object] = {"active": settings.active}
    if settings.active:
        if code is None:  # made on the first visit, the same ever after
            with session_scope(db.writer) as writing:
                code = referrals.code_for(
                    writing, program_id=program_id, member_id=member_id, now=now
                )
        with db.reader() as reading:
            found = referrals.summary(
                reading, program_id=program_id, member_id=member_id, code=code
            )
        t = i18n.current()
        subject = i18n.gettext("Join me at %(program)s", program=portal.program.name)
        text = i18n.gettext(
            "Join %(program)s with my code %(code)s and get %(count)s %(points)s with your "
            "first order.",
            program=portal.program.name,
            code=code,
            count=t.number(settings.referee_points),
            points=portal.points_name,
        )
        if found.link:
            text = f"{text} {found.link}"
        context |= {
            "summary": found,
            "settings": settings,
            "shares": share_links(subject, text, found.link),
            "stats": found.stats,
        }
    return page(request, session, "invite.html", context, portal=portal)
