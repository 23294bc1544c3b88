"""Whether a text is a web address a browser and a URL parser agree on.

A pattern such as `^https?://\\S+$` lets `http://[` through, which `urllib.parse` then refuses
(an unclosed IPv6 literal): whoever reads the stored address back (a member's app, a test
tool following links) would fail on it. Checking with the parser itself keeps such values out
at the door, with a 422, instead."""

from __future__ import annotations

from urllib.parse import urlsplit


def is_web_url(text: str) -> bool:
    """An absolute http(s) address with a host, whose port (if any) is a number."""
    try:
        parts = urlsplit(text)
        port = parts.port  # raises on a port that is not a number in range
    except ValueError:
        return False
    del port
    return parts.scheme in ("http", "https") and bool(parts.hostname) and "\\" not in text
