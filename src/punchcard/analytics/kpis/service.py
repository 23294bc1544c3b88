"""The KPI summary of a program for a range of UTC days: the use case behind the API and CLI."""

from __future__ import annotations

from collections import defaultdict
from concurrent.futures import wait
from datetime import date, timedelta
from decimal import Decimal
from typing import TypeVar

from sqlalchemy.orm import Session

from punchcard.analytics.kpis import beside, domain, rollup, snapshots
from punchcard.analytics.kpis.domain import Buyers, Range
from punchcard.analytics.kpis.figures import Figures
from punchcard.analytics.kpis.repository import Headcount, Segment
from punchcard.analytics.kpis.schemas import (
    ChannelOut,
    ChurnOut,
    CohortOut,
    MembersOut,
    OrdersOut,
    PointsOut,
    RatesOut,
    SummaryOut,
    TierOut,
    TierShareOut,
)
from punchcard.analytics.kpis.sections import (
    campaigns_out,
    liability_out,
    rewards_out,
    roi_out,
)
from punchcard.analytics.kpis.sql import tune
from punchcard.errors import InvalidInputError
from punchcard.programs import service as programs
from punchcard.tiers import service as tiers

T = TypeVar("T", Headcount, Buyers)
_TIER_ACCOUNTS = ("program:issued", "program:redeemed")


def resolve_range(
    session: Session, program_id: int, first: date | None, last: date | None, today: date
) -> Range:
    """Defaults: from the program's first recorded day, to today; 422 for a range that is not."""
    last = last if last is not None else today
    if first is None:
        found = snapshots.first_day(session, program_id)
        first = min(found, last) if found is not None else last
    try:
        return domain.check_range(first, last)
    except domain.RangeError as exc:
        raise InvalidInputError(
            exc.message, code=exc.code, details={"from": str(first), "to": str(last)}
        ) from exc


def summary(
    session: Session, *, program_id: int, first: date | None, last: date | None, today: date
) -> SummaryOut:
    tune(session)  # first: it sets the transaction's snapshot
    program = programs.get_program(session, program_id)
    span = resolve_range(session, program_id, first, last, today)
    params: dict[str, object] = {
        "start": span.start,
        "stop": span.stop,
        "first": span.first,
        "last": span.last,
        "a30": span.stop - timedelta(days=30),
        "a90": span.stop - timedelta(days=90),
        "since": span.start - timedelta(days=domain.CHURN_WINDOW_DAYS),
        # Orders in other currencies cannot be added to these: left out (see the notes).
        "currency": program.currency,
    }
    policy = tiers.policy_of(session, program_id)
    base = policy.base if policy is not None else None
    ladder = [t.name for t in policy.tiers] if policy is not None else []

    pending = beside.start(session, lambda other: rollup.sums(other, program_id, params))
    try:
        found = Figures(session, program_id, program.currency, span)
    except BaseException:
        wait([pending])  # the snapshot must outlive the read beside it
        raise
    sums = pending.result()
    heads = _named(found.headcounts(), base)
    bought = _named(found.buyers(), base)
    points = _points(sums)
    notes: list[str] = []
    if program.point_value is None:
        notes.append(
            "point_value is not set: money figures of points (liability, costs, ROI) are null; "
            "set it with PATCH /v1/program"
        )
    if found.data.stale:
        notes.append(
            "the program's currency changed: order figures of earlier months still count the "
            "orders in the previous currency until the next analytics job run"
        )
    every = domain.total(list(bought.values()))
    sizes, active = found.cohort_counts()
    return SummaryOut(
        program_id=program_id,
        currency=program.currency,
        from_=span.first,
        to=span.last,
        members=_members(heads),
        points=points,
        rates=_rates(sums),
        liability=liability_out(program, sums, points.outstanding, notes),
        orders=_orders(every),
        churn=_churn(every, notes),
        retention=[
            CohortOut(
                cohort=c.month, members=c.members, retention=[_rate(s) or 0.0 for s in c.shares]
            )
            for c in domain.cohorts(sizes, active, span.last)
        ],
        tier_mix=_tier_mix(heads, ladder),
        by_channel=_by_channel(heads, bought, sums),
        by_tier=_by_tier(sums, base, heads, bought, points, ladder),
        campaigns=campaigns_out(found.campaigns(), program.point_value),
        rewards=rewards_out(found.rewards(session, program_id, params), program.point_value),
        roi=roi_out(found.attributable(), points, program.point_value, notes),
        notes=notes,
    )


def _rates(sums: list[rollup.AccountSums]) -> RatesOut:
    """Both rates as of the range's end, over all the points issued by then: shares from 0
    to 1 that a short range cannot swing (it may spend points earned before it)."""
    lifetime: dict[str, int] = defaultdict(int)
    for row in sums:
        lifetime[row.account] += row.to_end
    redeemed, donated = lifetime["program:redeemed"], lifetime["program:donated"]
    expired = lifetime["program:expired"]
    return RatesOut(
        redemption_rate=_rate(
            domain.redemption_rate(
                redeemed=redeemed, donated=donated, issued=-lifetime["program:issued"]
            )
        ),
        breakage_rate=_rate(
            domain.breakage_rate(expired=expired, redeemed=redeemed, donated=donated)
        ),
    )


def _rate(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def _named(rows: dict[Segment, T], base: str | None) -> dict[Segment, T]:
    """Rows of members without a stored tier belong to the ladder's base tier."""
    result: dict[Segment, T] = {}
    for (channel, tier), value in rows.items():
        key = (channel, tier if tier is not None else base)
        result[key] = value if key not in result else result[key] + value
    return result


def _points(sums: list[rollup.AccountSums]) -> PointsOut:
    in_range: dict[str, int] = defaultdict(int)
    to_end: dict[str, int] = defaultdict(int)
    for row in sums:
        in_range[row.account] += row.in_range
        to_end[row.account] += row.to_end
    return PointsOut(
        issued=-in_range["program:issued"],
        adjusted=-in_range["program:adjusted"],
        redeemed=in_range["program:redeemed"],
        donated=in_range["program:donated"],
        expired=in_range["program:expired"],
        pending=to_end["member:pending"],
        outstanding=to_end["member:available"],
        debt=-to_end["member:debt"],
    )


def _members(heads: dict[Segment, Headcount]) -> MembersOut:
    values = list(heads.values())
    return MembersOut(
        enrolled=sum(h.enrolled for h in values),
        total=sum(h.members for h in values),
        active_30d=sum(h.active_30 for h in values),
        active_90d=sum(h.active_90 for h in values),
    )


def _orders(every: Buyers) -> OrdersOut:
    aov = None if not every.orders else domain.cents(every.revenue / every.orders)
    return OrdersOut(
        orders=every.orders,
        revenue=domain.cents(every.revenue),
        buyers=every.buyers,
        repeat_buyers=every.repeat_buyers,
        repeat_purchase_rate=_rate(domain.ratio(every.repeat_buyers, every.buyers)),
        average_order_value=aov,
        purchase_frequency=_rate(domain.ratio(every.orders, every.buyers)),
    )


def _churn(every: Buyers, notes: list[str]) -> ChurnOut:
    if not every.churn_base:
        notes.append(
            f"churn_rate is null: no member ordered in the {domain.CHURN_WINDOW_DAYS} days "
            "before `from`"
        )
    return ChurnOut(
        window_days=domain.CHURN_WINDOW_DAYS,
        base=every.churn_base,
        churned=every.churned,
        churn_rate=_rate(domain.ratio(every.churned, every.churn_base)),
    )


def _order_key(ladder: list[str]):  # type: ignore[no-untyped-def]
    def key(tier: str | None) -> tuple[int, str]:
        if tier is None:
            return (len(ladder) + 1, "")
        return (ladder.index(tier) if tier in ladder else len(ladder), tier)

    return key


def _tier_mix(heads: dict[Segment, Headcount], ladder: list[str]) -> list[TierShareOut]:
    counts: dict[str | None, int] = defaultdict(int)
    for (_channel, tier), head in heads.items():
        counts[tier] += head.members
    everyone = sum(counts.values())
    return [
        TierShareOut(
            tier=tier, members=counts[tier], share=_rate(domain.ratio(counts[tier], everyone))
        )
        for tier in sorted(counts, key=_order_key(ladder))
        if counts[tier]
    ]


def _segment(
    heads: list[Headcount], bought: list[Buyers], issued: int, redeemed: int
) -> dict[str, object]:
    every = domain.total(bought)
    return {
        "members": sum(h.members for h in heads),
        "active_30d": sum(h.active_30 for h in heads),
        "active_90d": sum(h.active_90 for h in heads),
        "points_issued": issued,
        "points_redeemed": redeemed,
        "orders": every.orders,
        "revenue": domain.cents(every.revenue),
    }


def _by_channel(
    heads: dict[Segment, Headcount], bought: dict[Segment, Buyers], sums: list[rollup.AccountSums]
) -> list[ChannelOut]:
    channels = sorted({c for c, _ in heads} | {c for c, _ in bought} | {s.channel for s in sums})
    result = []
    for channel in channels:
        issued = -sum(
            s.in_range for s in sums if s.channel == channel and s.account == "program:issued"
        )
        redeemed = sum(
            s.in_range for s in sums if s.channel == channel and s.account == "program:redeemed"
        )
        values = _segment(
            [h for (c, _), h in heads.items() if c == channel],
            [b for (c, _), b in bought.items() if c == channel],
            issued,
            redeemed,
        )
        result.append(ChannelOut(channel=channel, **values))
    return result


def _by_tier(
    sums: list[rollup.AccountSums],
    base: str | None,
    heads: dict[Segment, Headcount],
    bought: dict[Segment, Buyers],
    points: PointsOut,
    ladder: list[str],
) -> list[TierOut]:
    """Points of the tiered members come from the rollup's tier (held when rolled up); the base
    tier (or "no tier") gets the rest of the program's totals, so the rows always add up."""
    tiered: dict[str, tuple[int, int]] = {}
    for row in sums:
        if row.tier is not None and row.tier != base and row.account in _TIER_ACCOUNTS:
            issued, redeemed = tiered.get(row.tier, (0, 0))
            if row.account == "program:issued":
                tiered[row.tier] = (issued - row.in_range, redeemed)
            else:
                tiered[row.tier] = (issued, redeemed + row.in_range)
    rest = (
        points.issued - sum(i for i, _ in tiered.values()),
        points.redeemed - sum(r for _, r in tiered.values()),
    )
    names = {t for _, t in heads} | {t for _, t in bought} | set(tiered) | {base}
    result = []
    for tier in sorted(names, key=_order_key(ladder)):
        issued, redeemed = tiered.get(tier, (0, 0)) if tier != base else rest  # type: ignore[arg-type]
        values = _segment(
            [h for (_, t), h in heads.items() if t == tier],
            [b for (_, t), b in bought.items() if t == tier],
            issued,
            redeemed,
        )
        if any(values.values()):
            result.append(TierOut(tier=tier, **values))
    return result
