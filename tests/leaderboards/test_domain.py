"""Periods and their keys, ranks, stored scores and display names, as pure rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from punchcard.leaderboards import domain
from punchcard.leaderboards.domain import Metric, NameProblem, Period


@pytest.mark.parametrize(
    ("moment", "week", "month"),
    [
        (datetime(2026, 1, 15, 12, tzinfo=UTC), "2026-W03", "2026-01"),
        # ISO weeks start on Monday: Sunday 23:59 is still the old week, Monday 00:00 the new.
        (datetime(2026, 1, 18, 23, 59, 59, tzinfo=UTC), "2026-W03", "2026-01"),
        (datetime(2026, 1, 19, 0, 0, tzinfo=UTC), "2026-W04", "2026-01"),
        # The ISO year: 1 January 2027 (a Friday) is in week 53 of 2026.
        (datetime(2027, 1, 1, 8, tzinfo=UTC), "2026-W53", "2027-01"),
        (datetime(2027, 1, 4, 0, tzinfo=UTC), "2027-W01", "2027-01"),
        # 29 December 2025 (a Monday) is week 1 of 2026.
        (datetime(2025, 12, 29, 0, tzinfo=UTC), "2026-W01", "2025-12"),
        # Keys are in UTC: 31 January 23:30 at UTC-2 is 1 February in UTC.
        (
            datetime(2026, 1, 31, 23, 30, tzinfo=timezone(timedelta(hours=-2))),
            "2026-W05",
            "2026-02",
        ),
    ],
)
def test_period_keys_follow_iso_weeks_and_months_in_utc(
    moment: datetime, week: str, month: str
) -> None:
    assert domain.period_keys(moment) == {
        Period.WEEK: week,
        Period.MONTH: month,
        Period.ALL_TIME: "all",
    }


@pytest.mark.parametrize(
    ("period", "key", "valid"),
    [
        (Period.WEEK, "2026-W01", True),
        (Period.WEEK, "2026-W53", True),
        (Period.WEEK, "2027-W53", False),  # 2027 has 52 ISO weeks
        (Period.WEEK, "2026-W00", False),
        (Period.WEEK, "2026-01", False),
        (Period.WEEK, "0000-W01", False),
        (Period.MONTH, "2026-12", True),
        (Period.MONTH, "2026-13", False),
        (Period.MONTH, "2026-00", False),
        (Period.MONTH, "2026-W01", False),
        (Period.MONTH, "2026-1", False),
        (Period.ALL_TIME, "all", True),
        (Period.ALL_TIME, "2026", False),
    ],
)
def test_valid_keys(period: Period, key: str, valid: bool) -> None:
    assert domain.valid_key(period, key) is valid


def test_competition_ranking_shares_ranks_and_skips() -> None:
    rows = [(1, "a", 50), (2, "b", 40), (3, "c", 40), (4, "d", 30), (5, "e", 30), (6, "f", 1)]
    ranks = [e.rank for e in domain.competition_ranks(rows)]
    assert ranks == [1, 2, 2, 4, 4, 6]
    assert domain.competition_ranks([]) == []


def test_challenge_scores_are_kept_in_exact_hundredths() -> None:
    assert domain.stored(Metric.POINTS, 7) == 7
    assert domain.stored(Metric.CHALLENGE, Decimal("12.345")) == 1234  # half even
    assert domain.stored(Metric.CHALLENGE, Decimal("0.1")) == 10
    assert domain.shown(Metric.CHALLENGE, 1234) == Decimal("12.34")
    assert domain.shown(Metric.CHALLENGE, 300) == 3
    assert domain.shown(Metric.POINTS, -5) == -5


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("Al", None),
        ("SpeedyShopper", None),
        ("Zoë the 3rd", None),
        ("@anna", None),  # a handle, not an address
        ("Gamer 2026", None),
        ("x" * 30, None),
        ("A", NameProblem.LENGTH),
        ("x" * 31, NameProblem.LENGTH),
        ("anna@example.com", NameProblem.EMAIL),
        ("anna @ example", NameProblem.EMAIL),
        ("me: a.b@c.io", NameProblem.EMAIL),
        ("+1 555 123 4567", NameProblem.PHONE),
        ("call 0612345678", NameProblem.PHONE),
        ("06-12-34-56-78", NameProblem.PHONE),
        ("(555) 123.4567", NameProblem.PHONE),
        ("tab\there", NameProblem.CHARACTERS),
        ("zero\u200bwidth", NameProblem.CHARACTERS),
        ("nul\x00", NameProblem.CHARACTERS),
    ],
)
def test_display_name_rules(name: str, problem: NameProblem | None) -> None:
    assert domain.display_name_problem(name) == problem
