"""The member portal (/portal) and the admin console (/admin): server-rendered pages that call
the same services as the API, mounted as sub-applications of the API's app so that their
errors are pages (not JSON) and they stay out of the API's OpenAPI document."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from punchcard.web import errors, i18n
from punchcard.web.middleware import WebSessionMiddleware
from punchcard.web.security import CookieJar

STATIC_DIR = Path(__file__).parent / "static"
PORTAL_SESSION_DAYS = 30
ADMIN_SESSION_HOURS = 12


def _interface(parent: FastAPI, layout: str, jar: CookieJar, locales: tuple[str, ...]) -> FastAPI:
    sub = FastAPI(openapi_url=None, docs_url=None, redoc_url=None, title=f"Punchcard {layout}")
    sub.state = parent.state  # the same database, settings and clock as the API
    sub.add_middleware(WebSessionMiddleware, jar=jar, locales=locales, layout=layout)
    errors.install(sub, layout=layout)
    return sub


def mount(app: FastAPI) -> None:
    from punchcard.web.admin.routes import router as admin_router
    from punchcard.web.portal.routes import router as portal_router

    settings = app.state.settings
    portal = _interface(
        app,
        "portal",
        CookieJar.make(settings, "pc_portal", PORTAL_SESSION_DAYS * 86400),
        i18n.PORTAL_LOCALES,
    )
    portal.include_router(portal_router)
    admin = _interface(
        app, "admin", CookieJar.make(settings, "pc_admin", ADMIN_SESSION_HOURS * 3600), ("en",)
    )
    admin.include_router(admin_router)
    app.mount("/portal", portal, name="portal")
    app.mount("/admin", admin, name="admin")
    app.mount("/static", StaticFiles(directory=str(STATIC_DIR)), name="static")
