"""Dependencies: the process's database, its clock, and the caller's API key."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Header, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from punchcard.db import Database
from punchcard.errors import AuthError, ForbiddenError
from punchcard.kit.hashing import sha256_hex
from punchcard.programs import service as programs
from punchcard.programs.domain import Scope

bearer = HTTPBearer(auto_error=False, description="An API key of the program: `pc_...`")

READ = (Scope.ADMIN, Scope.STOREFRONT, Scope.POS, Scope.ANALYST)
WRITE = (Scope.ADMIN, Scope.STOREFRONT, Scope.POS)
ADMIN = (Scope.ADMIN,)


# The dependencies are coroutines: FastAPI runs a plain function dependency in its thread
# pool, and on the earn path those hand-offs cost more than the work (docs/performance.md).
async def database(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


async def now(request: Request) -> datetime:
    clock: Callable[[], datetime] = request.app.state.clock
    return clock()


@dataclass(frozen=True)
class Caller:
    program_id: int
    key_id: int
    scopes: frozenset[Scope]


async def caller(
    db: Annotated[Database, Depends(database)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Caller:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise AuthError("send the program's API key as `Authorization: Bearer <key>`")
    key = ("key", sha256_hex(credentials.credentials))
    identity = await db.caches.get_async(key, lambda: _authenticate(db, credentials))
    if identity is None:
        raise AuthError("unknown or revoked API key")
    return Caller(identity.program_id, identity.key_id, identity.scopes)


def _authenticate(
    db: Database, credentials: HTTPAuthorizationCredentials
) -> programs.KeyIdentity | None:
    with db.reader() as session:
        return programs.authenticate(session, credentials.credentials)


def require(allowed: tuple[Scope, ...]) -> Callable[[Caller], Awaitable[Caller]]:
    async def check(who: Annotated[Caller, Depends(caller)]) -> Caller:
        if who.scopes.isdisjoint(allowed):
            raise ForbiddenError(
                f"this call needs one of the scopes {', '.join(s.value for s in allowed)}",
                details={"needed": [s.value for s in allowed], "has": sorted(who.scopes)},
            )
        return who

    return check


DbDep = Annotated[Database, Depends(database)]
NowDep = Annotated[datetime, Depends(now)]
Reader = Annotated[Caller, Depends(require(READ))]
Writer = Annotated[Caller, Depends(require(WRITE))]
Admin = Annotated[Caller, Depends(require(ADMIN))]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        description="Any unique string up to 255 characters: a retry with the same key and "
        "body returns the first response; with another body, 409 `idempotency_conflict`.",
    ),
]
