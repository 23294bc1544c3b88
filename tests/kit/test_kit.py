from __future__ import annotations

import pytest

from punchcard.kit import cursor, luhn
from punchcard.kit.urls import is_web_url


@pytest.mark.parametrize("number", ["79927398713", "4539578763621486", "0"])
def test_luhn_accepts_known_valid_numbers(number: str) -> None:
    if len(number) > 1:
        assert luhn.is_valid(number)
    else:
        assert not luhn.is_valid(number)


def test_luhn_catches_every_single_digit_typo() -> None:
    number = "8123456789012345"
    number = number[:-1] + luhn.check_digit(number[:-1])
    assert luhn.is_valid(number)
    for position in range(len(number)):
        for digit in "0123456789":
            if digit != number[position]:
                typo = number[:position] + digit + number[position + 1 :]
                assert not luhn.is_valid(typo)


def test_cursor_round_trip_and_garbage() -> None:
    assert cursor.decode(cursor.encode(12345)) == 12345
    for bad in ["", "!!!", "aWQ6eA", "Zm9vOjE"]:
        with pytest.raises(cursor.BadCursorError):
            cursor.decode(bad)


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ("https://shop.example.com/b.png", True),
        ("http://shop.example.com:8080/?ref=ABCD2345", True),
        ("http://[", False),  # an unclosed IPv6 literal: urllib refuses it when read back
        ("http://[::1", False),
        ("https://shop.example.com:port/", False),
        ("https://", False),
        ("ftp://shop.example.com/", False),
        ("https://evil.example\\@shop.example.com/", False),
    ],
)
def test_is_web_url_agrees_with_the_parser(text: str, ok: bool) -> None:
    assert is_web_url(text) is ok
