"""Opaque pagination cursors: clients pass them back verbatim and never build them."""

from __future__ import annotations

import base64
import binascii

MAX_ID = 2**63 - 1  # ids are 64-bit in the database


class BadCursorError(ValueError):
    pass


def encode(last_id: int) -> str:
    return base64.urlsafe_b64encode(f"id:{last_id}".encode()).decode().rstrip("=")


def decode(cursor: str) -> int:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        text = base64.urlsafe_b64decode(padded.encode()).decode()
        prefix, _, value = text.partition(":")
        if prefix != "id" or not value.isdigit() or int(value) > MAX_ID:
            raise BadCursorError(cursor)
        return int(value)
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise BadCursorError(cursor) from exc
