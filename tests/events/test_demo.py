"""The demo (acceptance): the whole CDNOW master file through the import, the jobs and verify."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from punchcard import migrate
from punchcard.db import open_database
from punchcard.demo import DATA, build_demo
from punchcard.kit.clock import utcnow
from punchcard.models import MemberTier, Reward
from punchcard.redemptions import checkout
from punchcard.redemptions.domain import Verdict
from punchcard.rewards.domain import RewardType


@pytest.mark.slow
def test_demo_imports_cdnow_and_counts_match_the_file(tmp_path: Path) -> None:
    rows = 0
    spent: dict[str, Decimal] = defaultdict(Decimal)
    for line in DATA.read_text().splitlines()[1:]:
        customer, _, _, value = line.split()
        rows += 1
        spent[customer] += Decimal(value)
    assert len(spent) == 23_570
    buyers = sum(1 for total in spent.values() if total > 0)
    db = open_database(f"sqlite:///{tmp_path / 'demo.db'}")
    migrate.upgrade(db.engine)
    summary = build_demo(db)
    assert summary.imported is not None
    skipped = summary.imported["skipped"]
    assert isinstance(skipped, dict)
    assert summary.imported["orders_read"] == rows
    assert summary.orders == summary.imported["orders_imported"] == rows - sum(skipped.values())
    assert summary.members == buyers == 23_570 - 68
    assert summary.verify_line.startswith("ledger ok")
    with db.reader() as session:
        held = dict(
            session.execute(select(MemberTier.tier, func.count()).group_by(MemberTier.tier)).all()
        )
        kinds = set(session.execute(select(Reward.type)).scalars())
        assert summary.sample_code is not None
        checked = checkout.validate(
            session,
            program_id=summary.program_id,
            code=summary.sample_code,
            now=utcnow(),
            order_total=Decimal("40.00"),
        )
    # Lifetime spend of $100 and $300 and up: the history put members in both upper tiers.
    assert held.get("Collector", 0) > 0
    assert held.get("Audiophile", 0) > 0
    assert "Insider" not in held  # invitation only
    assert kinds == {t.value for t in RewardType}
    assert checked.verdict is Verdict.VALID
    assert checked.discount == {"amount": "5.00"}
    again = build_demo(db)
    assert again.imported is None
    assert (again.members, again.orders) == (summary.members, summary.orders)
