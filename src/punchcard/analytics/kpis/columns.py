"""The order, activity, campaign and reward KPIs as array arithmetic over columnar rows.

The job keeps each program's orders, events and awards as monthly column sets (see
snapshots.py); a summary loads the months its range touches, adds the rows written since
(the live tail, in the same shape) and answers here, without I/O. Days are counted from
1970-01-01, money in integer cents, and members are addressed by their position in the
member table (`Members.ids`, sorted), so per-member sums are one `np.bincount`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import lz4.frame
import numpy as np
from numpy.typing import NDArray

from punchcard.analytics.kpis.domain import Buyers

EPOCH = date(1970, 1, 1)
Ints = NDArray[np.int64]
Segment = tuple[str, str | None]


def day_number(day: date) -> int:
    return (day - EPOCH).days


def month_number(day: date) -> int:
    """Months since year 0: the key of a monthly column set."""
    return day.year * 12 + day.month - 1


def month_start(month: int) -> date:
    return date(month // 12, month % 12 + 1, 1)


def month_stop(month: int) -> date:
    return month_start(month + 1) if month % 12 != 11 else date(month // 12 + 1, 1, 1)


def pack(columns: dict[str, NDArray[Any]]) -> bytes:
    """Columns as one LZ4 frame: a JSON header (names, types, lengths; string columns whole)
    then the raw integer columns, each in the narrowest type that holds it. Reading it back is
    one decompression and a zero-copy view per column, which matters with a hundred months a
    read: LZ4 takes a tenth of zlib's time for that, for a third more bytes."""
    header: dict[str, Any] = {"columns": [], "strings": {}}
    payload = []
    for name, column in columns.items():
        if column.dtype.kind == "U":
            header["strings"][name] = [str(v) for v in column]
            continue
        narrow = _narrow(column)
        header["columns"].append([name, narrow.dtype.str, len(narrow)])
        payload.append(narrow.tobytes())
    head = json.dumps(header).encode()
    return bytes(lz4.frame.compress(len(head).to_bytes(4, "big") + head + b"".join(payload)))


def unpack(data: bytes) -> dict[str, NDArray[Any]]:
    raw = lz4.frame.decompress(data)
    size = int.from_bytes(raw[:4], "big")
    header = json.loads(raw[4 : 4 + size])
    result: dict[str, NDArray[Any]] = {
        name: np.array(values, dtype=str) for name, values in header["strings"].items()
    }
    offset = 4 + size
    for name, kind, count in header["columns"]:
        column = np.frombuffer(raw, dtype=np.dtype(kind), count=count, offset=offset)
        result[name] = column
        offset += column.nbytes
    return result


def _narrow(column: NDArray[Any]) -> NDArray[Any]:
    if column.dtype.kind != "i" or not len(column):
        return column
    low, high = int(column.min()), int(column.max())
    for kind in (np.int8, np.int16, np.int32):
        if np.iinfo(kind).min <= low and high <= np.iinfo(kind).max:
            return column.astype(kind)
    return column


def stack(parts: list[dict[str, NDArray[Any]]], names: tuple[str, ...]) -> dict[str, Ints]:
    """Column sets joined end to end, as int64 (an empty list gives empty columns)."""
    return {
        n: np.concatenate([p[n] for p in parts], dtype=np.int64)
        if parts
        else np.zeros(0, dtype=np.int64)
        for n in names
    }


def recode(codes: Ints, names: list[str], into: dict[str, int]) -> Ints:
    """Codes into one set's name list, as codes into a shared one (grown as needed)."""
    table = np.array([into.setdefault(n, len(into)) for n in names] or [0], dtype=np.int64)
    return table[codes] if len(codes) else codes


@dataclass(frozen=True)
class Members:
    """Every member of a program, sorted by id, with its segment (channel x tier) code."""

    ids: Ints
    created: Ints  # day number of enrolment
    segment: Ints
    segments: list[Segment]

    def positions(self, member_ids: Ints) -> Ints:
        """Where each id sits in `ids`: a gather through a dense id -> position table when the
        ids are not too sparse (far faster than a binary search per row), else a search."""
        if not len(self.ids):
            return np.zeros(len(member_ids), dtype=np.int64)
        top = int(self.ids[-1])
        if top <= 16 * len(self.ids) + (1 << 22):
            table = np.zeros(top + 1, dtype=np.int32)
            table[self.ids] = np.arange(len(self.ids), dtype=np.int32)
            return table[member_ids].astype(np.int64)
        return np.searchsorted(self.ids, member_ids)


def members(
    ids: Ints,
    created: Ints,
    channels: list[str],
    channel_codes: Ints,
    tiers: dict[str, Ints],
) -> Members:
    """Tiers (name -> member ids) are read live (a small table); a member without a stored tier
    has tier None."""
    order = np.argsort(ids, kind="stable")
    ids, created, channel_codes = ids[order], created[order], channel_codes[order]
    tier_names: list[str | None] = [None, *sorted(tiers)]
    tier_of = np.zeros(len(ids), dtype=np.int64)
    for code, name in enumerate(tier_names[1:], start=1):
        keys = tiers[str(name)]
        where = np.searchsorted(ids, keys)
        known = (where < len(ids)) & (ids[np.minimum(where, max(len(ids) - 1, 0))] == keys)
        tier_of[where[known]] = code
    segment = channel_codes.astype(np.int64) * len(tier_names) + tier_of
    segments = [(c, t) for c in channels for t in tier_names]
    return Members(ids, created, segment, segments)


@dataclass(frozen=True)
class Span:
    """The range and its windows as day numbers, half-open like the SQL it replaces."""

    start: int
    stop: int
    since: int  # start of the churn window
    a30: int
    a90: int


def headcounts(m: Members, events: dict[str, Ints], span: Span) -> dict[Segment, list[int]]:
    """Per segment: [members, enrolled, active_90, active_30]."""
    result: dict[Segment, list[int]] = {}
    size = len(m.segments)
    exists = m.created < span.stop
    counts = np.bincount(m.segment[exists], minlength=size)
    enrolled = np.bincount(m.segment[exists & (m.created >= span.start)], minlength=size)
    keep = (events["day"] >= span.a90) & (events["day"] < span.stop)
    pos, day = _within(keep, events["pos"], events["day"])
    last = np.full(len(m.ids), -1, dtype=np.int64)
    np.maximum.at(last, pos, day)
    seen = last >= 0
    a90 = np.bincount(m.segment[seen], minlength=size)
    a30 = np.bincount(m.segment[seen & (last >= span.a30)], minlength=size)
    for code, key in enumerate(m.segments):
        row = [int(counts[code]), int(enrolled[code]), int(a90[code]), int(a30[code])]
        if any(row):
            result[key] = row
    return result


def buyers(m: Members, orders: dict[str, Ints], span: Span) -> dict[Segment, Buyers]:
    """Orders and revenue in the range and orders in the churn window before it, per member,
    then summed per segment (refunded orders are not purchases but their net, 0, counts)."""
    pos, day, counted, net = _within(
        (orders["day"] >= span.since) & (orders["day"] < span.stop),
        orders["pos"],
        orders["day"],
        orders["counted"],
        orders["net"],
    )
    inside = day >= span.start
    size = len(m.ids)
    # Weights as float64: bincount converts boolean weights far more slowly. Sums of cents stay
    # exact in float64 below 2**53 (90 trillion currency units).
    n = np.bincount(pos, weights=(inside & (counted == 1)).astype(np.float64), minlength=size)
    prior = np.bincount(pos, weights=(~inside & (counted == 1)).astype(np.float64), minlength=size)
    cents = np.bincount(pos, weights=np.where(inside, net, 0).astype(np.float64), minlength=size)
    cents = cents.round().astype(np.int64)
    has = np.bincount(pos, minlength=size) > 0
    result: dict[Segment, Buyers] = {}
    segs = len(m.segments)

    def per(mask: NDArray[np.bool_], weights: NDArray[np.generic] | None = None) -> Ints:
        w = None if weights is None else weights[mask]
        return np.bincount(m.segment[mask], weights=w, minlength=segs).astype(np.int64)

    orders_n = per(has, n)
    revenue = per(has, cents)
    bought = per(has & (n > 0))
    repeat = per(has & (n > 1))
    base = per(has & (prior > 0))
    churned = per(has & (prior > 0) & (n == 0))
    present = per(has)
    for code, key in enumerate(m.segments):
        if not present[code]:
            continue
        result[key] = Buyers(
            int(orders_n[code]),
            Decimal(int(revenue[code])) / 100,
            int(bought[code]),
            int(repeat[code]),
            int(base[code]),
            int(churned[code]),
        )
    return result


def month_key(day: int) -> str:
    found = EPOCH + timedelta(days=int(day))
    return f"{found.year:04d}-{found.month:02d}"


def cohort_counts(
    m: Members, orders: dict[str, Ints], span: Span
) -> tuple[dict[str, int], dict[tuple[str, str], int]]:
    """Enrolment-month sizes, and distinct buyers per (enrolment month, order month)."""
    joined = (m.created >= span.start) & (m.created < span.stop)
    cohort_of = _months(m.created)
    sizes = np.unique(cohort_of[joined], return_counts=True)
    keep = (orders["day"] >= span.start) & (orders["day"] < span.stop) & (orders["counted"] == 1)
    pos, day = _within(keep, orders["pos"], orders["day"])
    pos, day = _within(joined[pos], pos, day)
    ordered = _months(day)
    cells = _buyers_per_cell(cohort_of, pos, ordered)
    return (
        {_key(int(c)): int(k) for c, k in zip(*sizes, strict=True)},
        {(_key(c), _key(o)): k for (c, o), k in cells.items()},
    )


def _buyers_per_cell(cohort_of: Ints, pos: Ints, ordered: Ints) -> dict[tuple[int, int], int]:
    """Distinct members per (enrolment month, order month) of (member, order month) rows: a
    member x month bitmap when it is small (one scatter, one count), else one sort."""
    if not len(pos):
        return {}
    low = int(ordered.min())
    months = int(ordered.max()) - low + 1
    if len(cohort_of) * months <= 64_000_000:
        seen = np.zeros(len(cohort_of) * months, dtype=bool)
        seen[pos * months + (ordered - low)] = True
        pairs = np.flatnonzero(seen)
    else:
        pairs = distinct(pos * months + (ordered - low))
    member, month = pairs // months, pairs % months
    cohort = cohort_of[member]
    first = int(cohort.min())
    counts = np.bincount((cohort - first) * months + month)
    return {
        (int(c // months) + first, int(c % months) + low): int(counts[c])
        for c in np.flatnonzero(counts)
    }


def _within(mask: NDArray[np.bool_], *columns: Ints) -> list[Ints]:
    """The columns' rows where `mask` holds; the columns themselves when it always does (a
    whole-history read), since a boolean gather of millions of rows is not free."""
    if mask.all():
        return list(columns)
    return [c[mask] for c in columns]


def distinct(values: Ints) -> Ints:
    """Sorted distinct values, by sorting (numpy's hash-based unique is slower on millions)."""
    ordered = np.sort(values)
    keep = np.ones(len(ordered), dtype=bool)
    keep[1:] = ordered[1:] != ordered[:-1]
    return ordered[keep]


def _months(days: Ints) -> Ints:
    """Months since year 0 of day numbers, through a table of the days they span."""
    if not len(days):
        return np.zeros(0, dtype=np.int64)
    low, high = int(days.min()), int(days.max())
    span = np.arange(low, high + 1, dtype=np.int64).astype("datetime64[D]")
    table = span.astype("datetime64[M]").astype(np.int64) + 1970 * 12
    return table[days - low]


def _key(month: int) -> str:
    return f"{month // 12:04d}-{month % 12 + 1:02d}"


def grouped(rows: dict[str, Ints], names: list[str], span: Span) -> dict[str, tuple[int, ...]]:
    """Daily aggregates (day, key code, then value columns) summed per key over the range."""
    keep = (rows["day"] >= span.start) & (rows["day"] < span.stop)
    values = [c for c in rows if c not in ("day", "key")]
    result: dict[str, tuple[int, ...]] = {}
    for code in np.unique(rows["key"][keep]):
        mask = keep & (rows["key"] == code)
        result[names[int(code)]] = tuple(int(rows[c][mask].sum()) for c in values)
    return result
