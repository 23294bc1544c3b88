"""Cursor pagination of the lists of things a program defines (rewards, causes, challenges,
badges, streaks, leaderboards): pages of ids in ascending order."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Annotated, Protocol, TypeVar

from fastapi import Query

from punchcard.api import paging
from punchcard.kit import cursor as cursors

PageSize = Annotated[int, Query(ge=1, le=200)]


def after_id(cursor: str | None) -> int:
    """The id a page starts after; a cursor this API did not give out is a 422."""
    return paging.position(cursor) or 0


def next_cursor(ids: list[int], fetched: int, limit: int) -> str | None:
    """A cursor after the page's last id when one more row than the page was found."""
    return cursors.encode(ids[-1]) if fetched > limit and ids else None


class _HasId(Protocol):
    @property
    def id(self) -> int: ...


Row = TypeVar("Row")
Shown = TypeVar("Shown", bound=_HasId)


def page_of(
    rows: Sequence[Row], limit: int, shown: Callable[[Row], Shown]
) -> tuple[list[Shown], str | None]:
    """A page from the `limit + 1` rows read: its items, and the cursor to the next page."""
    items = [shown(row) for row in rows[:limit]]
    return items, next_cursor([item.id for item in items], len(rows), limit)
