"""The admin console through a TestClient, on SQLite and PostgreSQL: an admin user of the
test's own, a program, and helpers to read the CSRF token and post forms."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx2 import Response

from punchcard.app import create_app
from punchcard.config import Settings
from punchcard.db import Database, session_scope
from punchcard.kit.clock import FixedClock
from punchcard.programs.domain import ProgramSettings
from punchcard.web.admin import users
from tests.conftest import ProgramFactory

SECRET = "admin-tests-secret-key-0123456789"
PASSWORD = "correct horse battery"
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
ONCE = re.compile(r'name="once" value="([^"]+)"')


def token_of(html: str) -> str:
    found = TOKEN.search(html)
    assert found, "the page has no CSRF token"
    return found.group(1)


@dataclass
class Console:
    """A browser-like client of the console: `get`, and `post` that sends the CSRF token of
    the last page it read (or the one given)."""

    client: TestClient
    db: Database
    clock: FixedClock
    program: ProgramSettings
    email: str
    admin_id: int

    @property
    def base(self) -> str:
        return f"/admin/programs/{self.program.id}"

    def get(self, url: str, **kwargs: Any) -> Response:
        return self.client.get(url, follow_redirects=False, **kwargs)

    def token(self, url: str = "/admin/sign-in") -> str:
        page = self.client.get(url, follow_redirects=True)
        return token_of(page.text)

    def form(self, url: str) -> dict[str, str]:
        """What a page's forms carry hidden: the CSRF token and, on a page with one-time
        forms, their nonce."""
        page = self.client.get(url, follow_redirects=True)
        hidden = {"csrf_token": token_of(page.text)}
        if found := ONCE.search(page.text):
            hidden["once"] = found.group(1)
        return hidden

    def post(
        self, url: str, data: dict[str, str], *, token: str | None = None, page: str | None = None
    ) -> Response:
        """Post as the page's form would (its token and nonce, unless given)."""
        hidden = (
            {"csrf_token": token} if token is not None else self.form(page or url.rsplit("/", 1)[0])
        )
        return self.client.post(url, data={**hidden, **data}, follow_redirects=False)

    def sign_in(self, password: str = PASSWORD, email: str | None = None) -> Response:
        csrf = self.token("/admin/sign-in")
        return self.client.post(
            "/admin/sign-in",
            data={"email": email or self.email, "password": password, "csrf_token": csrf},
            follow_redirects=False,
        )


def make_admin(db: Database, clock: FixedClock, password: str = PASSWORD) -> tuple[str, int]:
    email = f"admin-{uuid.uuid4().hex[:8]}@example.com"
    with session_scope(db.writer) as session:
        admin_id = users.create_user(
            session, email=email, password=password, now=clock(), name="Ada"
        )
    return email, admin_id


@pytest.fixture
def anonymous(db: Database, clock: FixedClock, make_program: ProgramFactory) -> Iterator[Console]:
    """A console client with an admin user that is not signed in yet."""
    app = create_app(Settings(database_url=db.url, secret_key=SECRET), db=db, clock=clock)
    email, admin_id = make_admin(db, clock)
    with TestClient(app) as client:
        yield Console(client, db, clock, make_program(), email, admin_id)


@pytest.fixture
def console(anonymous: Console) -> Console:
    """Signed in."""
    response = anonymous.sign_in()
    assert response.status_code == 303, response.text
    return anonymous
