"""Per request of the portal or the admin console: read the session cookie, choose the
language, and write the cookie back when the session changed. A plain ASGI middleware, so
the language (a ContextVar) is set in the task that runs the page."""

from __future__ import annotations

from collections.abc import Iterable
from http.cookies import SimpleCookie

from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from punchcard.web import errors, i18n
from punchcard.web.security import CookieJar

LANGUAGE_COOKIE = "pc_lang"


class WebSessionMiddleware:
    def __init__(
        self, app: ASGIApp, *, jar: CookieJar, locales: Iterable[str], layout: str
    ) -> None:
        self.app, self.jar, self.locales, self.layout = app, jar, tuple(locales), layout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        cookies = SimpleCookie()
        try:
            cookies.load(headers.get("cookie", ""))
        except Exception:  # a malformed Cookie header is the browser's problem: ignore it
            cookies = SimpleCookie()
        raw = cookies[self.jar.name].value if self.jar.name in cookies else None
        session = self.jar.read(raw)
        chosen = cookies[LANGUAGE_COOKIE].value if LANGUAGE_COOKIE in cookies else None
        locale = i18n.choose(
            preference=session.data.get("locale"),
            cookie=chosen,
            accept_language=headers.get("accept-language"),
            available=self.locales,
        )
        i18n.use(i18n.Translator(locale))
        scope.setdefault("state", {})["web_session"] = session

        started = False

        async def send_with_cookie(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start" and session.fresh:
                out = MutableHeaders(scope=message)
                parts = [
                    f"{self.jar.name}={self.jar.dump(session)}",
                    f"Max-Age={self.jar.max_age}",
                    "Path=/",
                    "HttpOnly",
                    "SameSite=Lax",
                ]
                if self.jar.secure:
                    parts.append("Secure")
                out.append("Set-Cookie", "; ".join(parts))
                # Pages of their own origin only: no scripts, styles or images from elsewhere.
            if message["type"] == "http.response.start":
                started = True
                out = MutableHeaders(scope=message)
                out.setdefault(
                    "Content-Security-Policy",
                    "default-src 'self'; img-src 'self' data:; style-src 'self'; "
                    "script-src 'self'; frame-ancestors 'none'; form-action 'self'",
                )
                out.setdefault("X-Content-Type-Options", "nosniff")
                out.setdefault("Referrer-Policy", "same-origin")
            await send(message)

        try:
            await self.app(scope, receive, send_with_cookie)
        except Exception:
            # A failure of ours: answered here, not by Starlette's outer error middleware, so
            # the 500 page gets the same policy headers and language as every other page.
            if started:
                raise
            response = errors.unexpected(Request(scope, receive), self.layout)
            await response(scope, receive, send_with_cookie)
