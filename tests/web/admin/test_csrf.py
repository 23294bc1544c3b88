"""Every form post of the console is refused (403 page) without the session's CSRF token or
with another one, and changes nothing. The routes are read from the console's router, so a
new POST route is covered (or fails here) without anyone remembering to add it."""

from __future__ import annotations

import re

import pytest
from fastapi.routing import APIRoute
from sqlalchemy import func, select

from punchcard.models import LedgerTransaction, Program
from punchcard.models.badge import Badge
from punchcard.models.challenge import Challenge
from punchcard.models.reward import Reward
from punchcard.models.rule_set import RuleSetVersion
from punchcard.web.admin.routes import AREAS
from tests.web.admin.conftest import Console

POSTS = sorted(
    route.path
    for area in AREAS
    for route in area.router.routes
    if isinstance(route, APIRoute) and "POST" in (route.methods or set())
)
# Bodies that would be accepted with the right token.
BODIES = {
    "rules": {"rules": '{"rules": []}', "event": "{}"},
    "adjust": {"points": "5", "reason": "goodwill"},
    "sign-in": {"email": "x@example.com", "password": "whatever password"},
}


def _counts(console: Console) -> tuple[object, ...]:
    with console.db.reader() as session:
        tables = (LedgerTransaction, RuleSetVersion, Reward, Badge, Challenge)
        counts = [session.execute(select(func.count()).select_from(t)).scalar_one() for t in tables]
        updated = session.execute(
            select(Program.updated_at).where(Program.id == console.program.id)
        ).scalar_one()
    return (*counts, updated)


def test_the_router_has_the_expected_posts() -> None:
    assert len(POSTS) >= 12
    assert "/sign-in" in POSTS
    assert "/sign-out" in POSTS


@pytest.mark.parametrize("path", POSTS)
@pytest.mark.parametrize("token", [None, "forged-token"])
def test_posts_without_the_token_are_refused(
    console: Console, path: str, token: str | None
) -> None:
    from punchcard.db import session_scope
    from punchcard.members import service as members

    with session_scope(console.db.writer) as session:
        member, _ = members.enrol(
            session, program_id=console.program.id, external_id="csrf-m", now=console.clock()
        )
    url = "/admin" + re.sub(r"\{program_id\}", str(console.program.id), path)
    url = re.sub(r"\{member_id\}", str(member.id), url)
    url = re.sub(r"\{[a-z_]+\}", "1", url)
    body = next((b for key, b in BODIES.items() if url.endswith(key) or key in url), {})
    before = _counts(console)
    data = dict(body) if token is None else {**body, "csrf_token": token}
    response = console.client.post(url, data=data, follow_redirects=False)
    assert response.status_code == 403, (url, response.text[:300])
    assert "This form has expired" in response.text
    assert "<title>" in response.text
    assert _counts(console) == before
    assert console.get("/admin/").status_code == 200  # still signed in: sign-out was refused
