"""Luhn (mod 10) check digits, so that a mistyped card number is caught at the till."""

from __future__ import annotations


def check_digit(payload: str) -> str:
    total = 0
    for index, char in enumerate(reversed(payload)):
        digit = int(char)
        if index % 2 == 0:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return str((10 - total % 10) % 10)


def is_valid(number: str) -> bool:
    if not number.isdigit() or len(number) < 2:
        return False
    return check_digit(number[:-1]) == number[-1]
