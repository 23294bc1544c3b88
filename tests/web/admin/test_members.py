"""Members in the console: search by each identifier, the member's page, an adjustment that
writes a ledger transaction with its reason, a debit beyond the balance refused with a clear
message, and another program's member (or transaction) answered with a 404 page."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from punchcard.db import session_scope
from punchcard.ledger import queries
from punchcard.ledger import service as ledger
from punchcard.members import service as members
from punchcard.members.repository import MemberRow
from punchcard.models import LedgerTransaction
from tests.conftest import ProgramFactory
from tests.web.admin.conftest import Console


@pytest.fixture
def member(console: Console) -> MemberRow:
    with session_scope(console.db.writer) as session:
        row, _ = members.enrol(
            session,
            program_id=console.program.id,
            external_id="shop-42",
            email="Ann@Example.com",
            phone="+1 415 555 0100",
            name="Ann",
            now=console.clock(),
        )
        ledger.credit(
            session,
            program=console.program,
            member_id=row.id,
            points=100,
            reason="welcome",
            now=console.clock(),
        )
    return row


def _found_ids(html: str, program_id: int) -> list[int]:
    return [int(i) for i in re.findall(rf'href="/admin/programs/{program_id}/members/(\d+)"', html)]


def test_search_by_each_identifier(console: Console, member: MemberRow) -> None:
    values = {
        "any": ["shop-42", "ann@example.com", member.card_number, member.qr_token, str(member.id)],
        "external_id": ["shop-42"],
        "email": ["ANN@example.com"],
        "phone": [member.phone or ""],
        "card_number": [member.card_number],
        "qr_token": [member.qr_token],
        "id": [str(member.id)],
    }
    for field, texts in values.items():
        for text in texts:
            page = console.get(f"{console.base}/members", params={"q": text, "field": field})
            assert page.status_code == 200
            assert _found_ids(page.text, console.program.id) == [member.id], (field, text)
    nothing = console.get(f"{console.base}/members", params={"q": "nobody@example.com"})
    assert "No member of this program has that identifier." in nothing.text
    mistyped = console.get(f"{console.base}/members", params={"q": "1234", "field": "card_number"})
    assert mistyped.status_code == 200
    assert _found_ids(mistyped.text, console.program.id) == []


def test_the_member_page_shows_balance_and_ledger(console: Console, member: MemberRow) -> None:
    page = console.get(f"{console.base}/members/{member.id}")
    assert page.status_code == 200
    assert re.search(r'id="available">100<', page.text)
    assert "welcome" in page.text
    tx_link = re.search(rf'href="({console.base}/members/{member.id}/transactions/\d+)"', page.text)
    assert tx_link
    explained = console.get(tx_link.group(1))
    assert explained.status_code == 200
    assert "program:issued" in explained.text or "program:adjusted" in explained.text


def test_an_adjustment_writes_a_transaction_with_its_reason(
    console: Console, member: MemberRow
) -> None:
    url = f"{console.base}/members/{member.id}"
    done = console.post(f"{url}/adjust", {"points": "-30", "reason": "damaged parcel"}, page=url)
    assert done.status_code == 303
    assert "The adjustment was recorded." in console.get(done.headers["location"]).text
    with console.db.reader() as session:
        tx = (
            session.execute(
                select(LedgerTransaction)
                .where(LedgerTransaction.member_id == member.id)
                .order_by(LedgerTransaction.id.desc())
            )
            .scalars()
            .first()
        )
        assert tx is not None
        assert (tx.kind, abs(tx.points), tx.reason) == ("adjust_debit", 30, "damaged parcel")
        assert str(console.admin_id) in (tx.meta or "")
        assert queries.balance(session, console.program.id, member.id).available == 70


def test_a_debit_beyond_the_balance_is_refused_clearly(console: Console, member: MemberRow) -> None:
    url = f"{console.base}/members/{member.id}"
    refused = console.post(f"{url}/adjust", {"points": "-500", "reason": "oops"}, page=url)
    assert refused.status_code == 409
    assert "Not enough points" in refused.text
    assert 'value="-500"' in refused.text  # the form keeps what was typed
    with console.db.reader() as session:
        assert queries.balance(session, console.program.id, member.id).available == 100


@pytest.mark.parametrize(
    ("points", "reason"), [("", "x"), ("0", "x"), ("ten", "x"), ("5", ""), ("5", "   ")]
)
def test_an_adjustment_needs_points_and_a_reason(
    console: Console, member: MemberRow, points: str, reason: str
) -> None:
    url = f"{console.base}/members/{member.id}"
    refused = console.post(f"{url}/adjust", {"points": points, "reason": reason}, page=url)
    assert refused.status_code == 400
    assert "a reason" in refused.text
    with console.db.reader() as session:
        assert queries.balance(session, console.program.id, member.id).available == 100


def test_another_programs_member_is_not_found(
    console: Console, member: MemberRow, make_program: ProgramFactory
) -> None:
    other = make_program()
    elsewhere = f"/admin/programs/{other.id}/members/{member.id}"
    for url in (elsewhere, f"{elsewhere}/transactions/1", f"{console.base}/members/999999999"):
        page = console.get(url)
        assert page.status_code == 404, url
        assert "<title>" in page.text
        assert "Traceback" not in page.text
    refused = console.post(f"{elsewhere}/adjust", {"points": "5", "reason": "x"}, page="/admin/")
    assert refused.status_code == 404
    search = console.get(f"/admin/programs/{other.id}/members", params={"q": "shop-42"})
    assert _found_ids(search.text, other.id) == []
    assert console.get("/admin/programs/999999999/rules").status_code == 404


@pytest.mark.parametrize(
    "path",
    [
        "/admin/programs/{p}/members/99999999999999999999",
        "/admin/programs/99999999999999999999/rules",
        "/admin/programs/abc/members",
        "/admin/programs/{p}/members/{m}?before=99999999999999999999",
        "/admin/programs/{p}/members/{m}/transactions/-1",
        "/admin/programs/{p}/dashboard?from=yesterday",
    ],
)
def test_bad_addresses_are_pages_not_traces(console: Console, member: MemberRow, path: str) -> None:
    page = console.get(path.format(p=console.program.id, m=member.id))
    assert 400 <= page.status_code < 500, page.text
    assert "<title>" in page.text
    assert "Traceback" not in page.text
