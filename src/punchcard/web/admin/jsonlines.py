"""Which line of a JSON text a path such as `rules[0].effect.points` (or `tiers.0.threshold`)
points at, so an error can say where it is in the textarea as well as what it is. The text
has already been parsed, so this walks it with the standard decoder to skip over values."""

from __future__ import annotations

import json
import re

_DECODER = json.JSONDecoder()
_WHITESPACE = re.compile(r"\s*")
_SEGMENT = re.compile(r"[^.\[\]]+")


def _skip(text: str, at: int) -> int:
    found = _WHITESPACE.match(text, at)
    return found.end() if found else at


def _child(text: str, at: int, segment: str) -> int | None:
    """Where the value of `segment` (a key, or an index of a list) starts, inside the object
    or list that starts at `at`; None when it is not there."""
    opener = text[at : at + 1]
    if opener not in ("{", "["):
        return None
    at, index = _skip(text, at + 1), 0
    while at < len(text) and text[at] not in "}]":
        if opener == "{":
            key, at = _DECODER.raw_decode(text, at)
            at = _skip(text, _skip(text, at) + 1)  # past the colon
            if key == segment:
                return at
        elif segment.isdigit() and int(segment) == index:
            return at
        _, at = _DECODER.raw_decode(text, at)
        at = _skip(text, at)
        if text[at : at + 1] == ",":
            at = _skip(text, at + 1)
        index += 1
    return None


def line_of(text: str, path: str) -> int | None:
    """The line (1-based) of the value at `path`, or of its nearest parent that exists."""
    try:
        at: int | None = _skip(text, 0)
        found = at
        for segment in _SEGMENT.findall(path):
            at = _child(text, at, segment) if at is not None else None
            if at is None:
                break
            found = at
    except (ValueError, IndexError):
        return None
    return text.count("\n", 0, found) + 1 if found is not None else None
