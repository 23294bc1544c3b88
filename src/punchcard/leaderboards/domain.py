"""Leaderboards as pure rules: periods and their keys, how scores are stored, how ranks are
counted, and which display names a member may show.

No I/O. A period is named by a short key computed from a moment in UTC: ISO weeks ("2026-W03",
Monday to Sunday, the week-numbering year of ISO 8601, so 2027-01-01 is in "2026-W53"),
calendar months ("2026-01"), or "all" for the all-time board. An event counts in the period of
its own `occurred_at`, not of the moment it arrived: a late event lands in its own week.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from enum import StrEnum


class Period(StrEnum):
    WEEK = "week"
    MONTH = "month"
    ALL_TIME = "all_time"


class Metric(StrEnum):
    POINTS = "points"
    CHALLENGE = "challenge"


ALL_TIME_KEY = "all"
DISPLAY_MIN, DISPLAY_MAX = 2, 30
# Challenge metrics (a sum of amounts, say) are kept in hundredths: exact integers on both
# databases, where SQLite would sum NUMERIC as floating point and break ties between equals.
CHALLENGE_SCALE = 100
HUNDREDTH = Decimal("0.01")

_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
# "someone@somewhere": anything around an @ (spaces allowed around it, "anna @ mail.com").
_EMAIL = re.compile(r"[^\s@]\s*@\s*[^\s@]")
PHONE_DIGITS = 7  # a name with this many digits could be a phone number, however spaced
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]")


def period_key(period: Period, moment: datetime) -> str:
    """The key of the period `moment` (aware) falls in, in UTC."""
    at = moment.astimezone(UTC)
    if period is Period.WEEK:
        year, week, _ = at.isocalendar()
        return f"{year:04d}-W{week:02d}"
    if period is Period.MONTH:
        return f"{at.year:04d}-{at.month:02d}"
    return ALL_TIME_KEY


def period_keys(moment: datetime) -> dict[Period, str]:
    """Every period's key at `moment`: one event feeds boards of every period at once."""
    return {p: period_key(p, moment) for p in Period}


def valid_key(period: Period, key: str) -> bool:
    """Whether `key` names a period of this kind (a week that exists, a real month)."""
    if period is Period.ALL_TIME:
        return key == ALL_TIME_KEY
    found = (_WEEK if period is Period.WEEK else _MONTH).match(key)
    if found is None:
        return False
    year, number = int(found[1]), int(found[2])
    if year < 1:
        return False
    if period is Period.MONTH:
        return 1 <= number <= 12
    try:
        date.fromisocalendar(year, number, 1)
    except ValueError:  # week 53 of a year that has 52
        return False
    return True


def stored(metric: Metric, value: Decimal | int) -> int:
    """A metric value as the score column holds it (hundredths for challenge boards)."""
    if metric is Metric.POINTS:
        return int(value)
    scaled = (Decimal(value) * CHALLENGE_SCALE).quantize(Decimal(1), rounding=ROUND_HALF_EVEN)
    return int(scaled)


def shown(metric: Metric, score: int) -> int | Decimal:
    """A stored score as the API gives it: whole points, or the challenge metric."""
    if metric is Metric.POINTS:
        return score
    value = (Decimal(score) / CHALLENGE_SCALE).quantize(HUNDREDTH)
    return value.to_integral_value() if value == value.to_integral_value() else value


@dataclass(frozen=True)
class Entry:
    rank: int
    member_id: int
    display_name: str
    score: int


def competition_ranks(rows: list[tuple[int, str, int]], first_rank: int = 1) -> list[Entry]:
    """Standard competition ranking ("1224") of (member, name, score) rows already ordered by
    score descending then member id: equal scores share a rank, the next rank skips."""
    entries: list[Entry] = []
    for position, (member_id, name, score) in enumerate(rows):
        tied = bool(entries) and entries[-1].score == score
        rank = entries[-1].rank if tied else first_rank + position
        entries.append(Entry(rank, member_id, name, score))
    return entries


class NameProblem(StrEnum):
    LENGTH = "length"
    CHARACTERS = "characters"
    EMAIL = "email"
    PHONE = "phone"


def display_name_problem(name: str) -> NameProblem | None:
    """Why a display name cannot be shown, or None. Names are public: they must not be (or
    carry) the member's e-mail address or phone number, nor hide text in control characters."""
    if not DISPLAY_MIN <= len(name) <= DISPLAY_MAX:
        return NameProblem.LENGTH
    if _CONTROL.search(name) or not name.strip():
        return NameProblem.CHARACTERS
    if _EMAIL.search(name):
        return NameProblem.EMAIL
    if sum(c.isdigit() for c in name) >= PHONE_DIGITS:
        return NameProblem.PHONE
    return None


# Below this many listed members a rank is counted in the database each time (a few
# milliseconds, and exact at once); above it, against a snapshot of the listed scores.
SNAPSHOT_FROM = 20_000


class ScoreSnapshot:
    """The listed (opted-in) members' scores of one board and period, sorted, held by a
    server process for a few seconds: a member's rank is then a binary search (microseconds)
    instead of a count over every listed member's index entry (tens of milliseconds with
    300,000 of them). `None` scores: the board is small enough to count in the database."""

    def __init__(self, ascending: Sequence[int] | None) -> None:
        self.scores = ascending

    def above(self, score: int) -> int:
        """How many listed members scored more than `score`."""
        assert self.scores is not None
        return len(self.scores) - bisect_right(self.scores, score)

    @property
    def size(self) -> int:
        return 0 if self.scores is None else len(self.scores)
