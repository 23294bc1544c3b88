"""Forms need the session's token, and an address naming another member's line or code is
as absent as one that names nothing."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from punchcard.db import Database
from punchcard.kit.clock import FixedClock
from punchcard.ledger import queries as ledger
from punchcard.members import service as members
from tests.conftest import Api
from tests.redemptions.helpers import make_reward
from tests.web.portal.helpers import (
    csrf_of,
    enrol,
    give,
    redeem,
    rich_member,
    sign_in,
    uid,
)


@pytest.mark.parametrize("token", [None, "", "forged-token-from-another-site"])
def test_a_post_without_the_right_token_is_refused_and_changes_nothing(
    portal: TestClient, db: Database, clock: FixedClock, shop_api: Api, token: str | None
) -> None:
    rich = rich_member(db, clock, shop_api)
    sign_in(portal, db, rich.program, rich.email)
    before = _available(db, rich.program.id, rich.member_id)
    confirm = portal.get(f"/portal/rewards/{rich.reward_id}/redeem").text
    nonce = confirm.split('name="nonce" value="')[1].split('"')[0]
    forms: list[tuple[str, dict[str, str]]] = [
        (f"/portal/rewards/{rich.reward_id}/redeem", {"nonce": nonce}),
        ("/portal/account", {"language": "hu", "marketing": "yes"}),
        ("/portal/language", {"lang": "ka"}),
        ("/portal/leaderboards/profile", {"display_name": "Hacker", "opted_in": "yes"}),
        ("/portal/sign-out", {}),
    ]
    for path, data in forms:
        if token is not None:
            data = {**data, "csrf_token": token}
        answer = portal.post(path, data=data, follow_redirects=False)
        assert answer.status_code == 403, path
        assert "This form has expired" in answer.text
        assert "Traceback" not in answer.text
    assert _available(db, rich.program.id, rich.member_id) == before
    with db.reader() as session:
        member = members.get(session, program_id=rich.program.id, member_id=rich.member_id)
    assert (member.locale, member.marketing_consent) == (None, None)
    home = portal.get("/portal/", follow_redirects=False)
    assert home.status_code == 200
    assert home.headers["content-language"] == "en"


def test_the_sign_in_form_needs_the_token_too(
    portal: TestClient, db: Database, clock: FixedClock, shop_api: Api
) -> None:
    email = f"{uid('t')}@example.com"
    enrol(db, shop_api.program, clock, email=email)
    portal.get(f"/portal/sign-in?program={shop_api.program.id}")
    answer = portal.post(
        "/portal/sign-in", data={"identifier": email, "program": str(shop_api.program.id)}
    )
    assert answer.status_code == 403


def _available(db: Database, program_id: int, member_id: int) -> int:
    with db.reader() as session:
        return ledger.balance(session, program_id, member_id).available


def test_another_members_history_line_and_code_are_not_found(
    portal: TestClient, db: Database, clock: FixedClock, shop_api: Api
) -> None:
    rich = rich_member(db, clock, shop_api)
    other = enrol(db, rich.program, clock, email=f"{uid('x')}@example.com", name="Secret Name")
    other_tx = give(db, rich.program, clock, other, 700, order_id="SECRET-ORDER")
    reward = make_reward(db, rich.program, points_cost=100)
    other_code = redeem(db, rich.program, clock, other, reward)
    sign_in(portal, db, rich.program, rich.email)
    for path in (
        f"/portal/history/{other_tx}",
        f"/portal/wallet/{other_code}",
        "/portal/history/999999999999",
        "/portal/wallet/999999999999",
        "/portal/rewards/999999999999/redeem",
    ):
        answer = portal.get(path)
        assert answer.status_code == 404, path
        assert "Page not found" in answer.text
        assert "SECRET-ORDER" not in answer.text
        assert "Secret Name" not in answer.text
    for path in (
        "/portal/history/abc",
        "/portal/wallet/-1",
        "/portal/history/99999999999999999999",
    ):
        answer = portal.get(path)
        assert 400 <= answer.status_code < 500
        assert "Traceback" not in answer.text
    # Signed out, nothing of anybody's shows: every page sends to sign-in.
    token = csrf_of(portal.get("/portal/").text)
    portal.post("/portal/sign-out", data={"csrf_token": token})
    for path in ("/portal/", f"/portal/history/{rich.earn_tx}", "/portal/card/qr.svg"):
        answer = portal.get(path, follow_redirects=False)
        assert answer.status_code == 303
        assert answer.headers["location"] == "/portal/sign-in"


def test_the_language_switch_only_goes_back_to_portal_pages(
    portal: TestClient, db: Database, clock: FixedClock, shop_api: Api
) -> None:
    page = portal.get(f"/portal/sign-in?program={shop_api.program.id}")
    token = csrf_of(page.text)
    for target in ("https://evil.example/", "//evil.example/portal", "/admin/"):
        answer = portal.post(
            "/portal/language", data={"csrf_token": token, "lang": "fi", "next": target},
            follow_redirects=False,
        )  # fmt: skip
        assert answer.status_code == 303
        assert answer.headers["location"] == "/portal/"
    unknown = portal.post("/portal/language", data={"csrf_token": token, "lang": "xx"})
    assert unknown.status_code == 400
