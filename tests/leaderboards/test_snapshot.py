"""A large board's ranks come from the server's snapshot of the listed scores (a binary
search) instead of a count in the database: the same ranks, ties and all."""

from __future__ import annotations

import pytest

from punchcard.kit.clock import FixedClock
from punchcard.leaderboards import domain, repository
from punchcard.leaderboards.domain import ScoreSnapshot
from tests.conftest import Api
from tests.leaderboards.helpers import at, create_board, member, rank_of


def test_a_snapshot_counts_the_scores_above_like_a_competition_rank() -> None:
    snapshot = ScoreSnapshot([10, 40, 40, 90])
    assert [snapshot.above(s) for s in (0, 10, 40, 50, 90, 100)] == [4, 3, 1, 1, 0, 0]
    assert snapshot.size == 4
    assert ScoreSnapshot(None).size == 0


def test_ranks_from_the_snapshot_equal_the_counted_ones(
    api: Api, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    board = create_board(api)["id"]
    moment = at(2026, 3, 2)
    scores = ["40.00", "90.00", "40.00", "10.00", "70.00"]
    listed = [member(api, clock, s, moment, f"Player {i}") for i, s in enumerate(scores)]
    hidden = member(api, clock, "50.00", moment, None)
    counted = {m: rank_of(api, board, m) for m in [*listed, hidden]}

    monkeypatch.setattr(domain, "SNAPSHOT_FROM", 2)  # this board now counts as large
    api.client.app.state.db.caches.forget(("leaderboard-scores", board, "all"))  # type: ignore[attr-defined]

    def no_count(*args: object) -> tuple[int, int]:
        raise AssertionError("a large board's rank must not be counted in the database")

    monkeypatch.setattr(repository, "counts", no_count)
    from_snapshot = {m: rank_of(api, board, m) for m in [*listed, hidden]}

    assert from_snapshot == counted
    assert [counted[m]["rank"] for m in listed] == [3, 1, 3, 5, 2]
    assert counted[hidden]["rank"] == 3
    assert counted[hidden]["of"] == 5
