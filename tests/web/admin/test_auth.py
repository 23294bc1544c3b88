"""Signing in to the console: the right password, a wrong one (401, no session), an unknown
e-mail (the same answer), the lock after five wrong passwords, and pages that need a sign-in."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from punchcard.models.web import AdminUser
from tests.web.admin.conftest import PASSWORD, Console


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
    assert "Wrong e-mail or password." in response.text
    assert anonymous.get("/admin/").status_code == 303  # still nobody
    assert _row(anonymous).failed_logins == 1


def test_unknown_email_gets_the_same_answer(anonymous: Console) -> None:
    response = anonymous.sign_in(email="nobody@example.com")
    assert response.status_code == 401
    assert "Wrong e-mail or password." in response.text
    assert anonymous.get("/admin/").status_code == 303


def test_five_wrong_passwords_lock_the_account_for_15_minutes(anonymous: Console) -> None:
    for _ in range(4):
        assert anonymous.sign_in(password="wrong password!").status_code == 401
    locked = anonymous.sign_in(password="wrong password!")
    assert locked.status_code == 429
    assert "locked for 15 minutes" in locked.text
    # Even the right password is refused while the lock holds.
    assert anonymous.sign_in().status_code == 429
    assert anonymous.get("/admin/").status_code == 303
    anonymous.clock.set(anonymous.clock() + timedelta(minutes=15, seconds=1))
    assert anonymous.sign_in().status_code == 303
    assert _row(anonymous).failed_logins == 0


def test_sign_out_ends_the_session(console: Console) -> None:
    out = console.post("/admin/sign-out", {}, page="/admin/")
    assert out.status_code == 303
    assert console.get("/admin/").status_code == 303


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
