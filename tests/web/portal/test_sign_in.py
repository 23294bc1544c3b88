"""Signing in with a one-time code: by e-mail and by card number, wrong, expired, used and
locked codes, and pages that never tell whether an address belongs to a member."""

from __future__ import annotations

import re
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select

from punchcard.app import create_app
from punchcard.config import Settings
from punchcard.db import Database
from punchcard.kit.clock import FixedClock
from punchcard.models.web import LoginCode, OutboxMessage
from punchcard.programs.domain import ProgramSettings
from tests.web.portal.helpers import (
    ask_code,
    card_number,
    csrf_of,
    enrol,
    enter_code,
    latest_code,
    make_program,
    outbox_count,
    sign_in,
    uid,
)


def _visible(html: str) -> str:
    """The page's text without its tokens (which differ on every page)."""
    return re.sub(r'value="[^"]*"', "", html)


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def test_sign_in_by_email_reads_the_code_from_the_outbox(
    portal: TestClient, db: Database, clock: FixedClock, shop: ProgramSettings,
    settings: Settings,
) -> None:  # fmt: skip
    email = f"{uid('a')}@example.com"
    member_id = enrol(db, shop, clock, email=email, locale="fi")
    assert portal.get("/portal/").headers.get("location") is None  # followed to sign-in
    assert portal.get("/portal/", follow_redirects=False).headers["location"] == "/portal/sign-in"
    sign_in(portal, db, shop, email)
    home = portal.get("/portal/")
    assert home.status_code == 200
    assert home.headers["content-language"] == "fi"
    with db.reader() as session:
        message = session.execute(
            select(OutboxMessage).where(OutboxMessage.recipient == email)
        ).scalar_one()
        stored = session.execute(
            select(LoginCode.code_hash, LoginCode.used_at).where(LoginCode.member_id == member_id)
        ).one()
    assert message.locale == "fi"
    assert message.sent_at is not None
    assert "kirjautumiskoodi" in message.subject.lower() or "koodi" in message.subject.lower()
    code = re.search(r"\b\d{6}\b", message.body)
    assert code is not None
    assert code.group(0) not in stored.code_hash
    assert stored.used_at is not None


def test_sign_in_by_card_number(
    portal: TestClient, db: Database, clock: FixedClock, shop: ProgramSettings
) -> None:
    email = f"{uid('c')}@example.com"
    member_id = enrol(db, shop, clock, email=email)
    card = card_number(db, shop, member_id)
    spaced = " ".join(card[i : i + 4] for i in range(0, 16, 4))
    asked = ask_code(portal, shop, spaced)
    assert asked.status_code == 303
    entered = enter_code(portal, latest_code(db, email))
    assert entered.status_code == 303
    assert entered.headers["location"] == "/portal/"
    assert "Nino" in portal.get("/portal/").text


def test_an_unknown_address_gets_the_same_page_as_a_known_one(
    portal: TestClient, db: Database, clock: FixedClock, shop: ProgramSettings
) -> None:
    known = f"{uid('k')}@example.com"
    enrol(db, shop, clock, email=known)
    pages = []
    for email in (known, f"{uid('nobody')}@example.com"):
        portal.cookies.clear()
        asked = ask_code(portal, shop, email)
        assert asked.status_code == 303
        assert asked.headers["location"] == "/portal/sign-in/code"
        page = portal.get("/portal/sign-in/code")
        pages.append(_visible(page.text).replace(email, "EMAIL"))
    assert pages[0] == pages[1]
    assert outbox_count(db, known) == 1
    # A wrong code reads the same for both, too.
    answers = []
    for email in (known, f"{uid('nobody')}@example.com"):
        portal.cookies.clear()
        ask_code(portal, shop, email)
        answer = enter_code(portal, "000000" if email != known else wrong(latest_code(db, known)))
        answers.append((answer.status_code, _visible(answer.text).replace(email, "EMAIL")))
    assert answers[0] == answers[1]


def test_a_card_without_an_email_is_told_to_ask_at_the_till(
    portal: TestClient, db: Database, clock: FixedClock, shop: ProgramSettings
) -> None:
    member_id = enrol(db, shop, clock, email=None)
    asked = ask_code(portal, shop, card_number(db, shop, member_id))
    assert asked.status_code == 409
    assert "ask at the till" in asked.text
    mistyped = ask_code(portal, shop, "8000 0000 0000 0001")
    assert mistyped.status_code == 400
    assert "number on your card" in mistyped.text


def test_a_wrong_code_says_how_many_tries_are_left_then_locks(
    portal: TestClient, db: Database, clock: FixedClock, shop: ProgramSettings
) -> None:
    email = f"{uid('w')}@example.com"
    enrol(db, shop, clock, email=email)
    ask_code(portal, shop, email)
    code = latest_code(db, email)
    for left in (4, 3, 2, 1):
        answer = enter_code(portal, wrong(code))
        assert answer.status_code == 400
        expected = f"try {left} more time" + ("" if left == 1 else "s")
        assert expected in answer.text
    locked = enter_code(portal, wrong(code))
    assert locked.status_code == 400
    assert "too many times" in locked.text
    # Even the right code no longer works: the form is gone and the code is spent.
    assert portal.get("/portal/sign-in/code", follow_redirects=False).status_code == 303
    portal.cookies.clear()
    ask_again = ask_code(portal, shop, email)
    assert ask_again.status_code == 303
    assert enter_code(portal, latest_code(db, email)).status_code == 303  # a new code works


def test_an_expired_code_asks_for_a_new_one(
    portal: TestClient, db: Database, clock: FixedClock, shop: ProgramSettings,
    settings: Settings,
) -> None:  # fmt: skip
    email = f"{uid('e')}@example.com"
    enrol(db, shop, clock, email=email)
    ask_code(portal, shop, email)
    clock.set(clock() + timedelta(minutes=settings.login_code_minutes, seconds=1))
    answer = enter_code(portal, latest_code(db, email))
    assert answer.status_code == 400
    assert "expired" in answer.text
    assert "request a new code" in answer.text
    assert portal.get("/portal/", follow_redirects=False).status_code == 303


def test_a_used_code_cannot_sign_in_again(
    portal: TestClient, db: Database, clock: FixedClock, shop: ProgramSettings
) -> None:
    email = f"{uid('u')}@example.com"
    enrol(db, shop, clock, email=email)
    ask_code(portal, shop, email)
    code = latest_code(db, email)
    page = portal.get("/portal/sign-in/code")
    before = dict(portal.cookies)  # a copy of the browser as it was before signing in
    signed = portal.post(
        "/portal/sign-in/code", data={"csrf_token": csrf_of(page.text), "code": code},
        follow_redirects=False,
    )  # fmt: skip
    assert signed.status_code == 303
    assert signed.headers["location"] == "/portal/"
    portal.cookies.clear()
    for name, value in before.items():
        portal.cookies.set(name, value)
    again = portal.post(
        "/portal/sign-in/code", data={"csrf_token": csrf_of(page.text), "code": code},
        follow_redirects=False,
    )  # fmt: skip
    assert again.status_code == 400
    assert "already been used" in again.text
    assert portal.get("/portal/", follow_redirects=False).status_code == 303


def test_sign_out_needs_the_token_and_ends_the_session(
    portal: TestClient, db: Database, clock: FixedClock, shop: ProgramSettings
) -> None:
    email = f"{uid('o')}@example.com"
    enrol(db, shop, clock, email=email)
    sign_in(portal, db, shop, email)
    refused = portal.post("/portal/sign-out", data={}, follow_redirects=False)
    assert refused.status_code == 403
    assert portal.get("/portal/", follow_redirects=False).status_code == 200
    token = csrf_of(portal.get("/portal/").text)
    out = portal.post("/portal/sign-out", data={"csrf_token": token}, follow_redirects=False)
    assert out.status_code == 303
    assert portal.get("/portal/", follow_redirects=False).headers["location"] == "/portal/sign-in"
    assert portal.get("/portal/sign-in").status_code == 200  # the store is remembered


def test_without_a_program_link_the_visitor_is_told_to_use_the_store_link(
    portal: TestClient, db: Database, clock: FixedClock, shop: ProgramSettings
) -> None:
    for path in ("/portal/sign-in?program=abc", "/portal/sign-in?program=99999999"):
        page = portal.get(path)
        assert page.status_code == 404
        assert "store" in page.text
        assert "Traceback" not in page.text


def test_the_only_program_needs_no_link_but_two_do(
    fresh_db: Database, clock: FixedClock, settings: Settings
) -> None:
    app = create_app(settings.model_copy(update={"database_url": fresh_db.url}), db=fresh_db,
                     clock=clock)  # fmt: skip
    with TestClient(app) as client:
        nobody = client.get("/portal/sign-in")
        assert nobody.status_code == 404
        assert "Which store?" in nobody.text
        only = make_program(fresh_db, clock)
        page = client.get("/portal/sign-in")
        assert page.status_code == 200
        assert f'name="program" value="{only.id}"' in page.text
        make_program(fresh_db, clock)
        client.cookies.clear()
        assert client.get("/portal/sign-in").status_code == 404
