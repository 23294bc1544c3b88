"""Single-use codes a person reads aloud or types at a till: Crockford base32.

The alphabet leaves out I, L, O and U, so what a customer reads as a one or a zero is one,
and nothing spells a word by accident. Sixteen characters from `secrets` carry 80 random bits:
far past guessing, even by someone trying a million codes a second for years."""

from __future__ import annotations

import math
import secrets

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
LENGTH = 16
GROUP = 4
BITS = LENGTH * math.log2(len(ALPHABET))  # 80.0
HINT_LENGTH = 4

# What people type for what they see: lower case, and the letters Crockford folds into digits.
_FOLD = str.maketrans({"I": "1", "L": "1", "O": "0"})
_SEPARATORS = str.maketrans("", "", "- \t")


def new_code() -> str:
    """A fresh code in its canonical form (16 characters, no dashes)."""
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def display(code: str) -> str:
    """XXXX-XXXX-XXXX-XXXX: how the member sees and types the code."""
    return "-".join(code[i : i + GROUP] for i in range(0, len(code), GROUP))


def normalise(text: str) -> str:
    """The canonical form of what a customer typed: any case, with or without dashes or
    spaces, I/L read as 1 and O as 0. Never fails: text that is no code at all normalises to
    something no stored code hashes to, so the lookup, not this function, says "invalid"."""
    return text.translate(_SEPARATORS).upper().translate(_FOLD)


def is_well_formed(code: str) -> bool:
    return len(code) == LENGTH and all(char in ALPHABET for char in code)


def hint(code: str) -> str:
    """The last characters, to tell a member's codes apart without revealing them."""
    return code[-HINT_LENGTH:]
