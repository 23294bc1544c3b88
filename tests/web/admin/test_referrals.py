"""Referral fraud review in the console: flagged referrals are listed with why, approve moves
one out of review, reject needs a reason and closes it; another program's referral is a 404."""

from __future__ import annotations

import pytest

from punchcard.referrals import review
from tests.conftest import Api, ProgramFactory
from tests.referrals.helpers import put_settings, refer, referrer
from tests.web.admin.conftest import Console


@pytest.fixture
def flagged(console: Console) -> tuple[Api, list[int]]:
    """Two referrals flagged for sharing the referrer's device, and a clean one."""
    api = Api(console.client, console.db, console.program, console.clock())
    put_settings(api)
    made = []
    for _ in range(2):
        _, code = referrer(api, device_id="dev-1")
        _, found = refer(api, code, device_id="dev-1")
        assert found["status"] == "review"
        made.append(found["id"])
    _, code = referrer(api)
    refer(api, code)
    return api, made


def _status(console: Console, referral_id: int) -> str:
    with console.db.reader() as session:
        return review.get(session, program_id=console.program.id, referral_id=referral_id).status


def test_flagged_referrals_are_listed_and_decided(
    console: Console, flagged: tuple[Api, list[int]]
) -> None:
    _, (first, second) = flagged
    url = f"{console.base}/referrals"
    page = console.get(url)
    assert page.status_code == 200
    assert f"Referral {first}" in page.text
    assert f"Referral {second}" in page.text
    assert "self_referral_device" in page.text
    approved = console.post(f"{url}/{first}/approve", {"note": "same household"}, page=url)
    assert approved.status_code == 303
    assert _status(console, first) == "pending"
    unexplained = console.post(f"{url}/{second}/reject", {"reason": "  "}, page=url)
    assert unexplained.status_code == 400
    assert _status(console, second) == "review"
    rejected = console.post(f"{url}/{second}/reject", {"reason": "fraud ring"}, page=url)
    assert rejected.status_code == 303
    assert _status(console, second) == "rejected"
    again = console.post(f"{url}/{second}/approve", {}, page=url)
    assert again.status_code == 409  # the service refuses; a page says why
    assert "rejected" in again.text
    assert "No referral is waiting for review." in console.get(url).text


def test_another_programs_referral_is_not_found(
    console: Console, flagged: tuple[Api, list[int]], make_program: ProgramFactory
) -> None:
    _, (first, _second) = flagged
    other = f"/admin/programs/{make_program().id}/referrals"
    assert console.post(f"{other}/{first}/approve", {}, page=other).status_code == 404
    assert console.post(f"{other}/{first}/reject", {"reason": "x"}, page=other).status_code == 404
    assert _status(console, first) == "review"
