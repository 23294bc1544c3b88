"""Cursor pagination of the catalog and the causes: pages of ids in ascending order."""

from __future__ import annotations

from typing import Annotated

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
