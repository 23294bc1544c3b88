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
from punchcard.web.portal import codes
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


def _bare(html: str, email: str) -> str:
    """The page as sent, apart from its CSRF token and the address the visitor typed."""
    return re.sub(r'name="csrf_token" value="[^"]*"', "", html).replace(email, "EMAIL")


def _sequence(
    portal: TestClient, db: Database, clock: FixedClock, shop: ProgramSettings,
    settings: Settings, email: str, known: bool,
) -> list[tuple[int, str]]:  # fmt: skip
    """Everything a visitor sees: asking, the code page, wrong tries (one of them posted
    twice with the same cookie), a new request, and a try after the code's lifetime."""
    start = clock()
    portal.cookies.clear()
    seen: list[tuple[int, str]] = []
    asked = ask_code(portal, shop, email)
    seen.append((asked.status_code, asked.headers["location"]))
    page = portal.get("/portal/sign-in/code")
    seen.append((page.status_code, _bare(page.text, email)))
    guess = wrong(latest_code(db, email)) if known else "000001"
    answer = enter_code(portal, guess)
    seen.append((answer.status_code, _bare(answer.text, email)))
    saved = dict(portal.cookies)
    for _ in range(2):  # the same cookie posted twice: counted in it, so the same answer
        portal.cookies.clear()
        for name, value in saved.items():
            portal.cookies.set(name, value)
        answer = enter_code(portal, guess)
        seen.append((answer.status_code, _bare(answer.text, email)))
    for _ in range(3):  # down to the lock
        answer = enter_code(portal, guess)
        seen.append((answer.status_code, _bare(answer.text, email)))
    asked = ask_code(portal, shop, email)
    seen.append((asked.status_code, asked.headers.get("location", "")))
    answer = enter_code(portal, guess)
    seen.append((answer.status_code, _bare(answer.text, email)))
    clock.set(clock() + timedelta(minutes=settings.login_code_minutes))
    late = latest_code(db, email) if known else "000002"  # even the right code is late
    answer = enter_code(portal, late)
    seen.append((answer.status_code, _bare(answer.text, email)))
    clock.set(start)
    return seen


def test_an_unknown_address_gets_the_same_pages_as_a_known_one(
    portal: TestClient, db: Database, clock: FixedClock, shop: ProgramSettings,
    settings: Settings,
) -> None:  # fmt: skip
    known = f"{uid('k')}@example.com"
    member_id = enrol(db, shop, clock, email=known)
    unknown = f"{uid('nobody')}@example.com"
    member = _sequence(portal, db, clock, shop, settings, known, known=True)
    stranger = _sequence(portal, db, clock, shop, settings, unknown, known=False)
    assert member == stranger
    assert [status for status, _ in member] == [303, 200, 400, 400, 400, 400, 400, 400,
                                                303, 400, 400]  # fmt: skip
    assert "try 4 more times" in member[2][1]
    assert "try 3 more times" in member[3][1]
    assert "try 3 more times" in member[4][1]
    assert "too many times" in member[7][1]
    assert "expired" in member[-1][1]
    assert outbox_count(db, known) == 2
    with db.reader() as session:  # the database counted every wrong try all the same
        attempts = session.execute(
            select(LoginCode.attempts).where(LoginCode.member_id == member_id)
            .order_by(LoginCode.id)
        ).scalars().all()  # fmt: skip
    assert list(attempts) == [5, 1]


def test_a_card_number_gets_the_same_pages_known_or_not(
    portal: TestClient, db: Database, clock: FixedClock, shop: ProgramSettings,
    settings: Settings,
) -> None:  # fmt: skip
    email = f"{uid('kc')}@example.com"
    card = card_number(db, shop, enrol(db, shop, clock, email=email))
    nobody = "4000 0000 0000 0002"
    pages = []
    for identifier in (card, nobody):
        portal.cookies.clear()
        ask_code(portal, shop, identifier)
        page = portal.get("/portal/sign-in/code")
        digits = identifier.replace(" ", "")
        answer = enter_code(portal, "000001" if digits == nobody.replace(" ", "") else
                            wrong(latest_code(db, email)))  # fmt: skip
        pages.append([_bare(page.text, digits), answer.status_code, _bare(answer.text, digits)])
    assert pages[0] == pages[1]


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


def test_a_stranger_asking_for_codes_cannot_lock_the_member_out(
    portal: TestClient, db: Database, clock: FixedClock, shop: ProgramSettings
) -> None:
    email = f"{uid('v')}@example.com"
    member_id = enrol(db, shop, clock, email=email)
    with TestClient(portal.app, base_url="http://testserver") as attacker:
        for _ in range(2):  # two browsers, as many codes as each may ask for
            attacker.cookies.clear()
            for _ in range(codes.MAX_CODES_PER_BROWSER_PER_HOUR):
                assert ask_code(attacker, shop, email).status_code == 303
        stolen = latest_code(db, email)  # not even the code itself works in another browser
        for _ in range(codes.MAX_ATTEMPTS):
            enter_code(attacker, wrong(stolen))
        assert attacker.get("/portal/sign-in/code", follow_redirects=False).status_code == 303
    assert outbox_count(db, email) == 2 * codes.MAX_CODES_PER_BROWSER_PER_HOUR
    assert ask_code(portal, shop, email).status_code == 303
    assert outbox_count(db, email) == 2 * codes.MAX_CODES_PER_BROWSER_PER_HOUR + 1
    assert enter_code(portal, stolen).status_code == 400  # the attacker's browser's code
    mine = latest_code(db, email)
    assert mine != stolen
    entered = enter_code(portal, mine)
    assert entered.status_code == 303
    assert entered.headers["location"] == "/portal/"
    with db.reader() as session:
        tries = session.execute(
            select(LoginCode.attempts).where(LoginCode.member_id == member_id)
            .order_by(LoginCode.id)
        ).scalars().all()  # fmt: skip
    assert list(tries) == [0, 0, 0, 0, 0, 5, 1]


def test_codes_per_hour_are_capped_per_browser_and_per_member(
    portal: TestClient, db: Database, clock: FixedClock, shop: ProgramSettings
) -> None:
    email = f"{uid('cap')}@example.com"
    enrol(db, shop, clock, email=email)
    for _ in range(codes.MAX_CODES_PER_BROWSER_PER_HOUR + 1):
        assert ask_code(portal, shop, email).status_code == 303  # the same page every time
    assert outbox_count(db, email) == codes.MAX_CODES_PER_BROWSER_PER_HOUR
    while outbox_count(db, email) < codes.MAX_CODES_PER_HOUR:
        portal.cookies.clear()
        ask_code(portal, shop, email)
    portal.cookies.clear()
    assert ask_code(portal, shop, email).status_code == 303
    assert outbox_count(db, email) == codes.MAX_CODES_PER_HOUR
    clock.set(clock() + timedelta(hours=1))
    portal.cookies.clear()
    ask_code(portal, shop, email)
    assert outbox_count(db, email) == codes.MAX_CODES_PER_HOUR + 1


def _cookie_header(saved: dict[str, str]) -> dict[str, str]:
    return {"cookie": "; ".join(f"{name}={value}" for name, value in saved.items())}


def test_signing_out_ends_every_copy_of_the_session(
    portal: TestClient, db: Database, clock: FixedClock, shop: ProgramSettings
) -> None:
    email = f"{uid('so')}@example.com"
    enrol(db, shop, clock, email=email)
    sign_in(portal, db, shop, email)
    copied = dict(portal.cookies)  # what a thief copies from the signed-in browser
    portal.cookies.clear()
    assert portal.get("/portal/", headers=_cookie_header(copied),
                      follow_redirects=False).status_code == 200  # fmt: skip
    for name, value in copied.items():
        portal.cookies.set(name, value)
    clock.set(clock() + timedelta(seconds=1))
    token = csrf_of(portal.get("/portal/").text)
    out = portal.post("/portal/sign-out", data={"csrf_token": token}, follow_redirects=False)
    assert out.status_code == 303
    portal.cookies.clear()
    replayed = portal.get("/portal/", headers=_cookie_header(copied), follow_redirects=False)
    assert replayed.status_code == 303
    assert replayed.headers["location"] == "/portal/sign-in"
    for path in ("/portal/wallet", "/portal/account", "/portal/history"):
        again = portal.get(path, headers=_cookie_header(copied), follow_redirects=False)
        assert again.status_code == 303, path
    # Signing in again at the very moment of the sign-out works, and the copy stays dead.
    sign_in(portal, db, shop, email)
    assert portal.get("/portal/", follow_redirects=False).status_code == 200
    fresh = dict(portal.cookies)
    portal.cookies.clear()
    assert portal.get("/portal/", headers=_cookie_header(copied),
                      follow_redirects=False).status_code == 303  # fmt: skip
    assert portal.get("/portal/", headers=_cookie_header(fresh),
                      follow_redirects=False).status_code == 200  # fmt: skip


def test_a_session_signed_in_a_microsecond_before_the_sign_out_is_over(
    portal: TestClient, db: Database, clock: FixedClock, shop: ProgramSettings
) -> None:
    email = f"{uid('us')}@example.com"
    enrol(db, shop, clock, email=email)
    sign_in(portal, db, shop, email)
    copied = dict(portal.cookies)
    clock.set(clock() + timedelta(microseconds=1))
    token = csrf_of(portal.get("/portal/").text)
    assert portal.post("/portal/sign-out", data={"csrf_token": token},
                       follow_redirects=False).status_code == 303  # fmt: skip
    portal.cookies.clear()
    assert portal.get("/portal/", headers=_cookie_header(copied),
                      follow_redirects=False).status_code == 303  # fmt: skip
