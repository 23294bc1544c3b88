"""Reading a pagination cursor a client sent back: every list endpoint answers a cursor it did
not give out with the same 422."""

from __future__ import annotations

from punchcard.errors import InvalidInputError
from punchcard.kit import cursor as cursors


def position(cursor: str | None) -> int | None:
    """The id a page continues from, or None for the first page."""
    if cursor is None:
        return None
    try:
        return cursors.decode(cursor)
    except cursors.BadCursorError as exc:
        raise InvalidInputError(
            "cursor is not one this API gave out", code="invalid_cursor"
        ) from exc
