"""The posted form as plain strings: the CSRF check has already parsed it (Starlette keeps it
on the request), so handlers with many fields read it from here rather than declaring each."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request


async def form_fields(request: Request) -> dict[str, str]:
    form = await request.form()
    return {key: value for key, value in form.items() if isinstance(value, str)}


Fields = Annotated[dict[str, str], Depends(form_fields)]
