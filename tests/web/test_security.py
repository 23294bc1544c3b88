"""Sessions in signed cookies (web/security.py): what the cookie says comes back only when the
signature holds and it is not too old; anything else is a new anonymous session."""

from __future__ import annotations

import time

from punchcard.config import Settings
from punchcard.web.security import CookieJar, WebSession, code_hash

SETTINGS = Settings(secret_key="a-test-secret-of-some-length")


def test_a_signed_session_comes_back_whole() -> None:
    jar = CookieJar.make(SETTINGS, "pc_test", 3600)
    session = WebSession.anonymous()
    session.sign_in(42, program_id=7, locale="ka")
    again = jar.read(jar.dump(session))
    assert (again.subject, again.data, again.csrf) == (
        42,
        {"program_id": 7, "locale": "ka"},
        session.csrf,
    )
    assert not again.fresh


def test_a_tampered_or_foreign_cookie_is_an_anonymous_session() -> None:
    jar = CookieJar.make(SETTINGS, "pc_test", 3600)
    session = WebSession.anonymous()
    session.sign_in(42)
    raw = jar.dump(session)
    tampered = raw.replace(raw[5], "A" if raw[5] != "A" else "B", 1)
    for cookie in (tampered, "garbage", ""):
        read = jar.read(cookie)
        assert read.subject is None
        assert read.fresh
    other_key = CookieJar.make(Settings(secret_key="another-secret-of-length"), "pc_test", 3600)
    assert other_key.read(raw).subject is None
    other_name = CookieJar.make(SETTINGS, "pc_admin", 3600)  # a portal cookie is no admin one
    assert other_name.read(raw).subject is None


def test_an_old_cookie_is_refused() -> None:
    jar = CookieJar.make(SETTINGS, "pc_test", 1)
    session = WebSession.anonymous()
    session.sign_in(1)
    raw = jar.dump(session)
    time.sleep(2.1)
    assert jar.read(raw).subject is None


def test_signing_in_and_out_changes_the_csrf_token() -> None:
    session = WebSession.anonymous()
    before = session.csrf
    session.sign_in(3)
    assert session.csrf != before
    assert session.token_matches(session.csrf)
    assert not session.token_matches(before)
    assert not session.token_matches(None)
    assert not session.token_matches("")
    signed_in = session.csrf
    session.sign_out()
    assert session.subject is None
    assert session.csrf != signed_in


def test_code_hashes_are_keyed_and_bound_to_the_member() -> None:
    first = code_hash(SETTINGS, 1, "123456")
    assert first == code_hash(SETTINGS, 1, "123456")
    assert first != code_hash(SETTINGS, 2, "123456")
    assert first != code_hash(Settings(secret_key="another-secret-of-length"), 1, "123456")
    assert "123456" not in first
