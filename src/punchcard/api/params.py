"""Path parameters shared by the routes. They are FastAPI's own types, so they live apart from
`api.schemas`, which the domains' schemas import: loading a domain (as the earn paths and
`punchcard import` do) then does not load FastAPI, a quarter of a second."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path

from punchcard.api.schemas import MAX_ID

# A member or transaction id in a path: out of range is a 422, not a database error.
Id = Annotated[int, Path(ge=1, le=MAX_ID)]
