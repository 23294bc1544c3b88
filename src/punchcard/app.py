"""create_app(settings) builds the whole HTTP surface on one database."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from sqlalchemy import text

from punchcard import __version__, web
from punchcard.analytics.insights.endpoints import router as insights_router
from punchcard.analytics.kpis.endpoints import router as kpis_router
from punchcard.api import handlers
from punchcard.badges.endpoints import router as badges_router
from punchcard.challenges.endpoints import router as challenges_router
from punchcard.config import Settings
from punchcard.db import Database, open_database
from punchcard.events.door import ExpressDoor
from punchcard.events.endpoints import router as events_router
from punchcard.events.express import AsyncLane, IdBlocks
from punchcard.events.typeendpoints import router as event_types_router
from punchcard.kit import heap
from punchcard.kit.clock import Clock, utcnow
from punchcard.leaderboards.endpoints import router as leaderboards_router
from punchcard.ledger.endpoints import router as ledger_router
from punchcard.members.endpoints import router as members_router
from punchcard.programs.endpoints import router as programs_router
from punchcard.redemptions.endpoints import router as redemptions_router
from punchcard.referrals.endpoints import router as referrals_router
from punchcard.rewards.endpoints import router as rewards_router
from punchcard.rules.endpoints import router as rules_router
from punchcard.social.endpoints import router as social_router
from punchcard.streaks.endpoints import router as streaks_router
from punchcard.tiers.endpoints import router as tiers_router

log = logging.getLogger("punchcard")

DESCRIPTION = """
Punchcard turns what customers do into points, tiers and rewards.

Authenticate with a program's API key: `Authorization: Bearer pc_...`. Every write (except
creating an API key, whose plain key is never stored) accepts an `Idempotency-Key` header:
a retry with the same key and body gets the first response back, byte for byte; the same key
with another body gets 409 `idempotency_conflict`.
Errors are `{"error": {"code", "message", "details"}}` with a stable `code`.
"""


def create_app(
    settings: Settings | None = None, *, db: Database | None = None, clock: Clock = utcnow
) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        lane = getattr(app.state, "async_lane", None)
        if lane is not None:
            await lane.close()

    app = FastAPI(
        title="Punchcard", version=__version__, description=DESCRIPTION, lifespan=lifespan
    )
    app.state.settings = settings
    app.state.db = db or open_database(settings.database_url, settings)
    app.state.clock = clock
    if not app.state.db.is_sqlite:
        app.state.id_blocks = IdBlocks(app.state.db)
        app.state.async_lane = AsyncLane(app.state.db.url, settings.db_pool_size)
    handlers.install(app)
    app.add_middleware(ExpressDoor)  # POST /v1/events in one statement, before the routing
    app.include_router(programs_router)
    app.include_router(members_router)
    app.include_router(ledger_router)
    app.include_router(events_router)
    app.include_router(event_types_router)
    app.include_router(rules_router)
    app.include_router(tiers_router)
    app.include_router(rewards_router)
    app.include_router(redemptions_router)
    app.include_router(challenges_router)
    app.include_router(badges_router)
    app.include_router(streaks_router)
    app.include_router(leaderboards_router)
    app.include_router(referrals_router)
    app.include_router(social_router)
    app.include_router(kpis_router)
    app.include_router(insights_router)
    web.mount(app)  # /portal, /admin and /static: after the API, which keeps its JSON errors

    @app.get("/health", tags=["operations"], responses={503: {"description": "Database down"}})
    def health() -> JSONResponse:
        """For load balancers: 200 when the database answers, 503 when it does not."""
        try:
            with app.state.db.reader() as session:
                session.execute(text("SELECT 1"))
        except Exception as exc:  # any failure to reach the database means "not ready"
            log.warning("health check failed: %s", exc)
            return JSONResponse(
                {"status": "unavailable", "database": "unreachable", "version": __version__}, 503
            )
        return JSONResponse({"status": "ok", "database": "ok", "version": __version__})

    return app


def app_from_env() -> FastAPI:
    """uvicorn's factory for `punchcard serve`: settings come from PUNCHCARD_* variables."""
    settings = Settings()
    if settings.mail_transport == "log":
        show_mail_in_log()
    app = create_app(settings)
    heap.settle()  # each worker process calls this factory once
    return app


def show_mail_in_log() -> None:
    """With the `log` transport, e-mails are delivered by printing them (INFO, which uvicorn's
    logging set-up would otherwise drop): the demo's sign-in codes appear in the console."""
    mail = logging.getLogger("punchcard.outbox")
    if not mail.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(levelname)s:     %(message)s"))
        mail.addHandler(handler)
        mail.setLevel(logging.INFO)
        mail.propagate = False
