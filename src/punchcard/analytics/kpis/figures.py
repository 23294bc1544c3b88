"""The member, order, cohort, campaign and reward figures of a range, from the snapshots and
their live tail (snapshots.load), in the shapes the service assembles the summary from."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from sqlalchemy.orm import Session

from punchcard.analytics.kpis import columns as col
from punchcard.analytics.kpis import repository as repo
from punchcard.analytics.kpis import snapshots
from punchcard.analytics.kpis.domain import CHURN_WINDOW_DAYS, Buyers, Range
from punchcard.analytics.kpis.repository import Headcount, Segment, Usage


class Figures:
    """Everything the summary needs beyond the points rollup, loaded once per request."""

    def __init__(self, session: Session, program_id: int, currency: str, span: Range) -> None:
        stop = span.last + timedelta(days=1)
        since = span.first - timedelta(days=CHURN_WINDOW_DAYS)
        a90 = stop - timedelta(days=90)
        self.span = col.Span(
            start=col.day_number(span.first),
            stop=col.day_number(stop),
            since=col.day_number(since),
            a30=col.day_number(stop - timedelta(days=30)),
            a90=col.day_number(a90),
        )
        self.data = snapshots.load(session, program_id, currency, (since, a90, span.first, stop))
        m = self.data.members
        self.members = col.members(
            m["id"], m["created"], self.data.channels, m["channel"], self.data.tiers
        )
        for rows in (self.data.orders, self.data.events):  # each row's member, found once
            rows["pos"] = self.members.positions(rows["member"])

    def headcounts(self) -> dict[Segment, Headcount]:
        found = col.headcounts(self.members, self.data.events, self.span)
        return {key: Headcount(*row) for key, row in found.items()}

    def buyers(self) -> dict[Segment, Buyers]:
        return col.buyers(self.members, self.data.orders, self.span)

    def cohort_counts(self) -> tuple[dict[str, int], dict[tuple[str, str], int]]:
        return col.cohort_counts(self.members, self.data.orders, self.span)

    def campaigns(self) -> list[Usage]:
        found = col.grouped(self.data.campaigns, self.data.rules, self.span)
        rows = [
            Usage(rule, None, awards, points, orders, Decimal(revenue) / 100)
            for rule, (awards, points, orders, revenue) in found.items()
        ]
        return sorted(rows, key=lambda u: str(u.key))

    def rewards(self, session: Session, program_id: int, params: dict[str, object]) -> list[Usage]:
        orders = {
            (None if key == "0" else int(key)): (n, Decimal(cents) / 100)
            for key, (n, cents) in self._reward_orders().items()
            if key != "-1"
        }
        result = []
        for row in repo.redemptions(session, program_id, params):
            count, revenue = orders.pop(row.key, (0, Decimal(0)))  # type: ignore[arg-type]
            result.append(Usage(row.key, row.name, row.count, row.points, count, revenue))
        names = repo.reward_names(session, program_id, [k for k in orders if k is not None])
        result += [
            Usage(key, names.get(key or 0), 0, 0, n, rev) for key, (n, rev) in orders.items()
        ]
        return sorted(result, key=lambda u: (u.key is None, u.key or 0))

    def attributable(self) -> tuple[int, Decimal]:
        n, cents = self._reward_orders().get("-1", (0, 0))
        return n, Decimal(cents) / 100

    def _reward_orders(self) -> dict[str, tuple[int, ...]]:
        return col.grouped(self.data.rewards, self.data.reward_keys, self.span)
