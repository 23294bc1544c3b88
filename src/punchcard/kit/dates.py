"""Date and time fields of request bodies, which take ISO 8601 strings and nothing else.

JSON has no date type, and pydantic reads a number given for a date or a time as seconds
since 1970. A client that sends a timestamp, or a number by mistake, where the documented
string belongs would find a member born, or an event placed, in 1970: it gets a 422 instead.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import BeforeValidator


def _not_a_number(value: object) -> object:
    if isinstance(value, int | float) and not isinstance(value, bool):
        raise ValueError("give an ISO 8601 string, not a number")
    return value


Day = Annotated[date, BeforeValidator(_not_a_number)]
When = Annotated[datetime, BeforeValidator(_not_a_number)]
