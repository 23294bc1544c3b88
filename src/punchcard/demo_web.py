"""The demo's browser side: the sample member gets an e-mail address to sign in to the portal
with, the program names its stars in each portal language, and an admin user is made for the
console. The admin password is new at every run (printed once, never stored in clear)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from punchcard.db import Database, session_scope
from punchcard.members import service as members
from punchcard.models.web import AdminUser
from punchcard.programs import service as programs
from punchcard.web.admin import users

MEMBER_EMAIL = "vera@demo.example"
ADMIN_EMAIL = "admin@demo.example"
STARS = {"en": "stars", "ka": "ვარსკვლავი", "gu": "સ્ટાર", "fi": "tähteä", "hu": "csillag"}


@dataclass(frozen=True)
class WebDemo:
    member_email: str
    card_number: str
    admin_email: str
    admin_password: str

    def lines(self, base: str, program_id: int) -> list[str]:
        return [
            "in the browser:",
            f"  member portal: {base}/portal/sign-in?program={program_id}",
            f"    sign in as {self.member_email} (or card number {self.card_number}); the "
            "one-time code is printed in this log",
            f"  admin console: {base}/admin/",
            f"    sign in as {self.admin_email} with password {self.admin_password}",
        ]


def set_up(db: Database, program_id: int, member_id: int, now: datetime) -> WebDemo:
    password = secrets.token_urlsafe(12)
    with session_scope(db.writer) as session:
        member = members.get(session, program_id=program_id, member_id=member_id)
        if member.email is None:
            member = members.update(
                session,
                program_id=program_id,
                member_id=member_id,
                changes={"email": MEMBER_EMAIL},
                now=now,
            )
        programs.update_program(session, program_id, changes={"points_names": STARS}, now=now)
        found = session.execute(
            select(AdminUser.id).where(AdminUser.email == ADMIN_EMAIL)
        ).scalar_one_or_none()
        if found is None:
            users.create_user(
                session, email=ADMIN_EMAIL, password=password, now=now, name="Demo admin"
            )
        else:  # a new password ends the sessions signed in with the old one
            users.set_password(session, found, password, now)
    return WebDemo(member.email or MEMBER_EMAIL, member.card_number, ADMIN_EMAIL, password)
