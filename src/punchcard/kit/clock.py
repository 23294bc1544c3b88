"""Time is injected everywhere so that jobs and tests can simulate any date without sleeping."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """Naive datetimes are taken as UTC: databases without time zones hand them back that way.

    A moment that UTC cannot hold (9999-12-31T23:00:00-02:00 is in the year 10000) is a
    ValueError, like any other invalid date, so that validation refuses it instead of failing."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError as exc:
        raise ValueError(f"{value.isoformat()} is out of range once converted to UTC") from exc


class FixedClock:
    """A clock a test or a simulation moves by hand."""

    def __init__(self, start: datetime) -> None:
        self.now = as_utc(start)

    def __call__(self) -> datetime:
        return self.now

    def set(self, value: datetime) -> None:
        self.now = as_utc(value)
