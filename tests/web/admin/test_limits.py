"""Inputs at and past their limits get a clear 400 in place, never a 500 page: a stock too
large for its column, JSON nested too deeply for the parser, and JSON text too long."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from punchcard.models.reward import Reward
from punchcard.rewards.schemas import MAX_INT
from punchcard.web.admin.views import MAX_JSON, JsonTextError, parse_json
from tests.web.admin.conftest import Console

REWARD = {"name": "5 off", "type": "discount_amount", "points_cost": 500, "value": "5.00"}


@pytest.fixture
def reward_id(console: Console) -> int:
    url = f"{console.base}/rewards"
    assert console.post(url, {"reward": json.dumps(REWARD)}, page=url).status_code == 303
    with console.db.reader() as session:
        return int(
            session.execute(
                select(Reward.id).where(Reward.program_id == console.program.id)
            ).scalar_one()
        )


@pytest.mark.parametrize("stock", [str(MAX_INT + 1), str(2**63), str(2**64), "9" * 40, "1e9"])
def test_a_stock_too_large_is_refused_in_place(
    console: Console, reward_id: int, stock: str
) -> None:
    url = f"{console.base}/rewards"
    refused = console.post(f"{url}/{reward_id}", {"stock": stock, "active": "on"}, page=url)
    assert refused.status_code == 400, refused.text[:300]
    assert f"from 0 to {MAX_INT}" in refused.text
    with console.db.reader() as session:
        assert (
            session.execute(select(Reward.stock).where(Reward.id == reward_id)).scalar_one() is None
        )


def test_the_largest_stock_is_kept(console: Console, reward_id: int) -> None:
    url = f"{console.base}/rewards"
    saved = console.post(f"{url}/{reward_id}", {"stock": str(MAX_INT), "active": "on"}, page=url)
    assert saved.status_code == 303
    with console.db.reader() as session:
        stock = session.execute(select(Reward.stock).where(Reward.id == reward_id)).scalar_one()
    assert stock == MAX_INT


DEEP = "[" * 20_000 + "]" * 20_000


def test_parse_json_refuses_deep_and_long_text() -> None:
    with pytest.raises(JsonTextError, match="nested too deeply"):
        parse_json('{"a": ' + DEEP + "}")
    with pytest.raises(JsonTextError, match="too long"):
        parse_json('{"a": "' + "x" * MAX_JSON + '"}')
    assert parse_json('{"a": "' + "x" * 1000 + '"}') == {"a": "x" * 1000}


@pytest.mark.parametrize("area", ["rewards", "rules", "tiers", "badges", "challenges"])
@pytest.mark.parametrize("text", ['{"a": ' + DEEP + "}", '{"a": "' + "x" * (MAX_JSON + 1) + '"}'])
def test_json_areas_refuse_deep_and_long_text_in_place(
    console: Console, area: str, text: str
) -> None:
    field = {"rewards": "reward", "rules": "rules", "tiers": "policy", "badges": "badge",
             "challenges": "challenge"}[area]  # fmt: skip
    page = {"badges": "engagement", "challenges": "engagement"}.get(area, area)
    data = {field: text, "event": "{}"} if area == "rules" else {field: text}
    refused = console.post(f"{console.base}/{area}", data, page=f"{console.base}/{page}")
    assert refused.status_code == 400, refused.text[:500]
    assert "Traceback" not in refused.text
    assert "nested too deeply" in refused.text or "too long" in refused.text
