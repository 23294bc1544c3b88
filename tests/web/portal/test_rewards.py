"""Redeeming from the portal: a confirmation, one spend however often the form is sent, the
code shown on the page it leads to, and the reasons a reward cannot be redeemed."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import update

from punchcard.db import Database, session_scope
from punchcard.kit.clock import FixedClock
from punchcard.ledger import queries as ledger
from punchcard.models import Reward
from punchcard.redemptions import repository as redemption_rows
from tests.conftest import Api
from tests.web.portal.helpers import NONCE, csrf_of, rich_member, sign_in

CODE = re.compile(r'id="reward-code">([0-9A-Z-]{19})<')


def _available(db: Database, program_id: int, member_id: int) -> int:
    with db.reader() as session:
        return ledger.balance(session, program_id, member_id).available


def test_redeem_confirms_then_spends_once_even_when_posted_twice(
    portal: TestClient, db: Database, clock: FixedClock, shop_api: Api
) -> None:
    rich = rich_member(db, clock, shop_api)
    sign_in(portal, db, rich.program, rich.email)
    before = _available(db, rich.program.id, rich.member_id)
    confirm = portal.get(f"/portal/rewards/{rich.reward_id}/redeem")
    assert confirm.status_code == 200
    assert _available(db, rich.program.id, rich.member_id) == before  # asking spends nothing
    nonce = NONCE.search(confirm.text)
    assert nonce is not None
    form = {"csrf_token": csrf_of(confirm.text), "nonce": nonce.group(1)}
    path = f"/portal/rewards/{rich.reward_id}/redeem"
    first = portal.post(path, data=form, follow_redirects=False)
    second = portal.post(path, data=form, follow_redirects=False)  # a double click
    assert first.status_code == second.status_code == 303
    assert first.headers["location"] == second.headers["location"]
    assert _available(db, rich.program.id, rich.member_id) == before - 500
    shown = portal.get(first.headers["location"])
    code = CODE.search(shown.text)
    assert shown.status_code == 200
    assert code is not None
    again = CODE.search(portal.get(second.headers["location"]).text)
    assert again is not None
    assert again.group(1) == code.group(1)
    # The wallet lists it, with the last characters of the same code.
    wallet = portal.get("/portal/wallet")
    assert code.group(1).replace("-", "")[-4:] in wallet.text
    with db.reader() as session:
        rows = redemption_rows.page_for_member(
            session, rich.program.id, rich.member_id, before_id=None, limit=10
        )
    assert len([r for r in rows if r.reward_id == rich.reward_id]) == 2  # the rich one + this
    # Without the receipt, the wallet page shows only the hint, never the whole code.
    bare = portal.get(first.headers["location"].split("?")[0])
    assert code.group(1) not in bare.text
    assert code.group(1)[-4:] in bare.text


def test_a_receipt_of_another_member_or_redemption_reveals_nothing(
    portal: TestClient, db: Database, clock: FixedClock, shop_api: Api
) -> None:
    rich = rich_member(db, clock, shop_api)
    sign_in(portal, db, rich.program, rich.email)
    confirm = portal.get(f"/portal/rewards/{rich.reward_id}/redeem")
    nonce = NONCE.search(confirm.text)
    assert nonce is not None
    done = portal.post(
        f"/portal/rewards/{rich.reward_id}/redeem",
        data={"csrf_token": csrf_of(confirm.text), "nonce": nonce.group(1)},
        follow_redirects=False,
    )
    receipt = done.headers["location"].split("?")[1]
    elsewhere = portal.get(f"/portal/wallet/{rich.redemption_id}?{receipt}")
    assert elsewhere.status_code == 200
    assert CODE.search(elsewhere.text) is None


def test_a_reward_that_cannot_be_redeemed_says_why_and_spends_nothing(
    portal: TestClient, db: Database, clock: FixedClock, shop_api: Api
) -> None:
    rich = rich_member(db, clock, shop_api)
    sign_in(portal, db, rich.program, rich.email)
    catalog = portal.get("/portal/rewards").text
    assert "You need 897,700 more points" in catalog
    assert "Only for members of these tiers: Silver" in catalog
    assert "Out of stock" in catalog
    assert "Available from Feb 14, 2026" in catalog
    before = _available(db, rich.program.id, rich.member_id)
    ids = [int(i) for i in re.findall(r"/portal/rewards/(\d+)/redeem", catalog)]
    assert rich.reward_id in ids
    # The reward's price goes up between the confirmation and the post: refused, with why.
    page = portal.get(f"/portal/rewards/{rich.reward_id}/redeem")
    token = csrf_of(page.text)
    with session_scope(db.writer) as session:
        session.execute(update(Reward).where(Reward.id == rich.reward_id).values(points_cost=10**9))
    refused = portal.post(
        f"/portal/rewards/{rich.reward_id}/redeem",
        data={"csrf_token": token, "nonce": "n" * 24},
        follow_redirects=False,
    )
    assert refused.status_code == 409
    assert "Nothing was spent" in refused.text
    assert "more points" in refused.text
    assert _available(db, rich.program.id, rich.member_id) == before
