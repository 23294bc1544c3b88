"""Order history files: CDNOW (master and sample) and a plain CSV, read into order rows.

Decisions, documented in docs/events.md: a zero-value row is skipped (reason `zero_value`): it
bought nothing that earns. Several orders of one customer on one day stay separate orders, each
with its own id (`<customer>-<date>-<n>`, n counting that customer's rows of that day in file
order), so re-reading the same file yields the same ids and imports nothing twice."""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path

FORMATS = ("cdnow", "cdnow-sample", "csv")


@dataclass(frozen=True)
class OrderRow:
    line_no: int
    external_id: str
    order_id: str
    occurred_at: datetime
    total: Decimal
    currency: str = "USD"
    quantity: int | None = None


@dataclass(frozen=True)
class Skip:
    line_no: int
    reason: str
    text: str


@lru_cache(maxsize=4096)
def _day(text: str) -> datetime:
    """Noon UTC of the day: no time zone can move it to another date. (Cached: a history
    file has a few hundred distinct days and strptime is slow.)"""
    if len(text) != 8 or not text.isdigit():
        raise ValueError(f"not a YYYYMMDD date: {text!r}")
    return datetime(int(text[:4]), int(text[4:6]), int(text[6:]), 12, tzinfo=UTC)


def _cdnow(path: Path, sample: bool) -> Iterator[OrderRow | Skip]:
    seq: Counter[tuple[str, str]] = Counter()
    with path.open(encoding="utf-8") as handle:
        for line_no, line in enumerate(handle, start=1):
            parts = line.split()
            if not parts:
                continue
            if parts[0] == "customer_id":
                continue
            if sample:
                parts = parts[:1] + parts[2:]
            try:
                customer, day, cds, value = parts
                occurred = _day(day)
                total = Decimal(value)
                quantity = int(cds)
            except (ValueError, InvalidOperation):
                yield Skip(line_no, "unreadable", line.strip())
                continue
            seq[(customer, day)] += 1
            if total <= 0:
                yield Skip(line_no, "zero_value", line.strip())
                continue
            order_id = f"{customer}-{day}-{seq[(customer, day)]}"
            yield OrderRow(line_no, customer, order_id, occurred, total, quantity=quantity)


def _csv(path: Path) -> Iterator[OrderRow | Skip]:
    """Columns: external_id, order_id, occurred_at (ISO 8601), total, and optionally currency."""
    with path.open(encoding="utf-8", newline="") as handle:
        for line_no, row in enumerate(csv.DictReader(handle), start=2):
            try:
                occurred = datetime.fromisoformat(row["occurred_at"])
                if occurred.tzinfo is None:
                    occurred = occurred.replace(tzinfo=UTC)
                total = Decimal(row["total"])
                external_id, order_id = row["external_id"].strip(), row["order_id"].strip()
            except (KeyError, ValueError, InvalidOperation, AttributeError):
                yield Skip(line_no, "unreadable", ",".join(str(v) for v in row.values()))
                continue
            if not external_id or not order_id:
                yield Skip(line_no, "unreadable", ",".join(str(v) for v in row.values()))
            elif total <= 0:
                yield Skip(line_no, "zero_value", ",".join(str(v) for v in row.values()))
            else:
                currency = (row.get("currency") or "USD").strip().upper()
                yield OrderRow(line_no, external_id, order_id, occurred, total, currency)


def read(path: Path, fmt: str) -> Iterator[OrderRow | Skip]:
    if fmt == "csv":
        return _csv(path)
    return _cdnow(path, sample=fmt == "cdnow-sample")
