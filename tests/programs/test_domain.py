from __future__ import annotations

from datetime import UTC, datetime

import pytest

from punchcard.programs.domain import ExpiryPolicy, expiry_for, validate_expiry

EARNED = datetime(2026, 3, 15, 10, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("policy", "value", "expected"),
    [
        (ExpiryPolicy.NEVER, 0, None),
        (ExpiryPolicy.DAYS_AFTER_EARN, 30, datetime(2026, 4, 14, 10, 30, tzinfo=UTC)),
        (ExpiryPolicy.END_OF_MONTH, 0, datetime(2026, 4, 1, tzinfo=UTC)),
        (ExpiryPolicy.END_OF_MONTH, 12, datetime(2027, 4, 1, tzinfo=UTC)),
        (ExpiryPolicy.END_OF_MONTH, 11, datetime(2027, 3, 1, tzinfo=UTC)),
        (ExpiryPolicy.END_OF_YEAR, 0, datetime(2027, 1, 1, tzinfo=UTC)),
        (ExpiryPolicy.END_OF_YEAR, 12, datetime(2028, 1, 1, tzinfo=UTC)),
        (ExpiryPolicy.END_OF_YEAR, 10, datetime(2028, 1, 1, tzinfo=UTC)),
    ],
)
def test_expiry_for(policy: ExpiryPolicy, value: int, expected: datetime | None) -> None:
    assert expiry_for(policy, value, EARNED) == expected


def test_end_of_month_handles_short_months() -> None:
    earned = datetime(2026, 1, 31, tzinfo=UTC)
    assert expiry_for(ExpiryPolicy.END_OF_MONTH, 1, earned) == datetime(2026, 3, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("policy", "value", "ok"),
    [
        (ExpiryPolicy.NEVER, 0, True),
        (ExpiryPolicy.NEVER, 3, False),
        (ExpiryPolicy.DAYS_AFTER_EARN, 0, False),
        (ExpiryPolicy.DAYS_AFTER_EARN, 365, True),
        (ExpiryPolicy.END_OF_MONTH, -1, False),
        (ExpiryPolicy.END_OF_YEAR, 24, True),
    ],
)
def test_validate_expiry(policy: ExpiryPolicy, value: int, ok: bool) -> None:
    assert (validate_expiry(policy, value) is None) is ok
