"""Signing in to the console: the right password, a wrong one (401, no session), an unknown
e-mail and a locked account (the same answer), the lock after five wrong passwords, pages that
need a sign-in, and sign-out, a lock or a new password ending sessions (a replayed cookie
too)."""

from __future__ import annotations

import re
from datetime import timedelta

from httpx2 import Response
from sqlalchemy import select

from punchcard.db import session_scope
from punchcard.models.web import AdminUser
from punchcard.web.admin import users
from tests.web.admin.conftest import PASSWORD, Console

WRONG = "Wrong e-mail or password, or too many tries: wait 15 minutes and try again."


def _row(console: Console) -> AdminUser:
    with console.db.reader() as session:
        return session.execute(
            select(AdminUser).where(AdminUser.id == console.admin_id)
        ).scalar_one()


def test_pages_send_strangers_to_sign_in(anonymous: Console) -> None:
    for url in ("/admin/", f"{anonymous.base}/rules", f"{anonymous.base}/dashboard"):
        response = anonymous.get(url)
        assert response.status_code == 303
        assert response.headers["location"] == "/admin/sign-in"


def test_right_password_signs_in(anonymous: Console) -> None:
    response = anonymous.sign_in(email=anonymous.email.upper())
    assert response.status_code == 303
    assert response.headers["location"] == "/admin/"
    assert "pc_admin=" in response.headers["set-cookie"]
    home = anonymous.get("/admin/")
    assert home.status_code == 200
    assert anonymous.program.name in home.text
    assert _row(anonymous).last_login_at == anonymous.clock()


def test_wrong_password_is_401_without_a_session(anonymous: Console) -> None:
    response = anonymous.sign_in(password="not the password")
    assert response.status_code == 401
    assert WRONG in response.text
    assert anonymous.get("/admin/").status_code == 303  # still nobody
    assert _row(anonymous).failed_logins == 1


def test_unknown_email_gets_the_same_answer(anonymous: Console) -> None:
    response = anonymous.sign_in(email="nobody@example.com")
    assert response.status_code == 401
    assert WRONG in response.text
    assert anonymous.get("/admin/").status_code == 303


def _answer(response: Response) -> tuple[int, str]:
    """A sign-in answer without what differs by request (the CSRF token, the e-mail typed)."""
    text = re.sub(r'value="[^"]*"', 'value=""', response.text)
    return response.status_code, text


def test_five_wrong_passwords_lock_the_account_for_15_minutes(anonymous: Console) -> None:
    for _ in range(4):
        assert anonymous.sign_in(password="wrong password!").status_code == 401
    locked = anonymous.sign_in(password="wrong password!")
    assert locked.status_code == 401
    assert WRONG in locked.text
    assert _row(anonymous).locked_until is not None
    # Even the right password is refused while the lock holds.
    assert anonymous.sign_in().status_code == 401
    assert anonymous.get("/admin/").status_code == 303
    anonymous.clock.set(anonymous.clock() + timedelta(minutes=15, seconds=1))
    assert anonymous.sign_in().status_code == 303
    assert _row(anonymous).failed_logins == 0


def test_a_locked_account_answers_as_an_unknown_email_does(anonymous: Console) -> None:
    """Nothing tells a stranger that an e-mail is an admin's: not the status, not the page."""
    for _ in range(6):
        anonymous.sign_in(password="wrong password!")
        anonymous.sign_in(email="nobody@example.com", password="wrong password!")
    locked = _answer(anonymous.sign_in(password="wrong password!"))
    unknown = _answer(anonymous.sign_in(email="nobody@example.com", password="wrong password!"))
    assert locked == unknown
    assert locked[0] == 401
    assert _row(anonymous).locked_until is not None


def _cookie(console: Console) -> str:
    value = console.client.cookies.get("pc_admin")
    assert value
    return value


def _keep(console: Console, cookie: str) -> None:
    """Make `cookie` the client's session again, as the server set it."""
    console.client.cookies.clear()
    console.client.cookies.set("pc_admin", cookie, domain="testserver.local")


def _replay(console: Console, cookie: str) -> int:
    """A request that carries a saved cookie, whatever the client holds now."""
    console.client.cookies.clear()
    response = console.client.get(
        "/admin/", headers={"Cookie": f"pc_admin={cookie}"}, follow_redirects=False
    )
    return response.status_code


def test_sign_out_ends_the_session(console: Console) -> None:
    saved = _cookie(console)
    assert _replay(console, saved) == 200  # the saved cookie works before sign-out
    _keep(console, saved)
    assert console.get("/admin/").status_code == 200
    out = console.post("/admin/sign-out", {}, page="/admin/")
    assert out.status_code == 303
    assert console.get("/admin/").status_code == 303
    # A copy of the cookie taken before sign-out is refused too (here at the same instant).
    assert _replay(console, saved) == 303
    console.clock.set(console.clock() + timedelta(hours=1))
    assert _replay(console, saved) == 303


def test_sign_in_after_sign_out_works_at_the_same_instant(console: Console) -> None:
    """The test clock stands still: a sign-in in the very instant of the sign-out counts, a
    session from before it does not."""
    before = _cookie(console)
    assert console.post("/admin/sign-out", {}, page="/admin/").status_code == 303
    assert console.sign_in().status_code == 303
    after = _cookie(console)
    assert console.get("/admin/").status_code == 200
    assert _replay(console, after) == 200
    assert _replay(console, before) == 303
    # Signing out again ends the new session as well.
    _keep(console, after)
    assert console.get("/admin/").status_code == 200
    assert console.post("/admin/sign-out", {}, page="/admin/").status_code == 303
    assert _replay(console, after) == 303


def test_sign_out_ends_the_sessions_of_other_browsers(console: Console) -> None:
    other = _cookie(console)
    console.clock.set(console.clock() + timedelta(seconds=1))
    console.client.cookies.clear()
    assert console.sign_in().status_code == 303
    assert console.post("/admin/sign-out", {}, page="/admin/").status_code == 303
    assert _replay(console, other) == 303


def test_a_lock_ends_the_session(console: Console) -> None:
    saved = _cookie(console)
    console.clock.set(console.clock() + timedelta(minutes=1))
    for _ in range(5):
        console.sign_in(password="wrong password!")
    assert _replay(console, saved) == 303


def test_a_new_password_ends_the_session(console: Console) -> None:
    saved = _cookie(console)
    with session_scope(console.db.writer) as session:
        users.set_password(session, console.admin_id, "another good password", console.clock())
    assert _replay(console, saved) == 303
    assert console.sign_in(password="another good password").status_code == 303
    assert console.get("/admin/").status_code == 200


def test_a_cookie_without_a_sign_in_date_is_refused(console: Console) -> None:
    """A cookie signed before sessions kept their date (or with a mangled one) is over."""
    from punchcard.web.security import CookieJar, WebSession

    jar = CookieJar.make(console.client.app.state.settings, "pc_admin", 3600)  # type: ignore[attr-defined]
    for data in ({}, {"at": "yesterday"}, {"at": "2026-01-01T00:00:00"}):
        forged = jar.dump(WebSession(csrf="x" * 24, subject=console.admin_id, data=data))
        assert _replay(console, forged) == 303, data


def test_a_weak_hash_is_upgraded_at_sign_in(anonymous: Console) -> None:
    """Hashes made with older (cheaper) parameters are rehashed with today's on sign-in."""
    from argon2 import PasswordHasher
    from sqlalchemy import update

    from punchcard.db import session_scope

    cheap = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(PASSWORD)
    with session_scope(anonymous.db.writer) as session:
        session.execute(
            update(AdminUser).where(AdminUser.id == anonymous.admin_id).values(password_hash=cheap)
        )
    assert anonymous.sign_in().status_code == 303
    assert _row(anonymous).password_hash != cheap
