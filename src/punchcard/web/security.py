"""Sessions in signed cookies, CSRF tokens, and the keys both derive from.

A session is a small signed (not encrypted) JSON cookie: who is signed in, when, and the
session's CSRF token. It holds nothing secret, so signing is enough; the signature and its age
are checked on every request (itsdangerous). Every visitor, signed in or not, has one, so
every form, the sign-in forms included, carries a token that must match the cookie's: a page
on another site can make a browser post, but it cannot read the token.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from itsdangerous import BadSignature, URLSafeTimedSerializer

from punchcard.config import Settings
from punchcard.kit.sealing import load_or_create_key


def server_secret(settings: Settings) -> bytes:
    """The operator's PUNCHCARD_SECRET_KEY, else the key file generated once beside the
    database (the same one that seals stored responses)."""
    if settings.secret_key is not None:
        return settings.secret_key.get_secret_value().encode()
    return _file_key(str(settings.secret_key_file))


@functools.cache
def _file_key(path: str) -> bytes:
    return load_or_create_key(Path(path))


def derived_key(settings: Settings, purpose: str) -> bytes:
    """A key of its own for each use, so a cookie signature is never a valid code hash."""
    return hmac.new(server_secret(settings), purpose.encode(), hashlib.sha256).digest()


@dataclass
class WebSession:
    """What the cookie says: the CSRF token, and who is signed in (None: nobody)."""

    csrf: str
    subject: int | None = None  # a member id (portal) or an admin user id (admin)
    data: dict[str, Any] = field(default_factory=dict)
    fresh: bool = False  # new or changed: the response must set the cookie

    @classmethod
    def anonymous(cls) -> WebSession:
        return cls(csrf=secrets.token_urlsafe(24), fresh=True)

    def sign_in(self, subject: int, **data: Any) -> None:
        """A new token on every sign-in, so a token seen before it is useless after."""
        self.subject, self.data = subject, dict(data)
        self.csrf = secrets.token_urlsafe(24)
        self.fresh = True

    def sign_out(self) -> None:
        self.subject, self.data = None, {}
        self.csrf = secrets.token_urlsafe(24)
        self.fresh = True

    def token_matches(self, token: str | None) -> bool:
        return bool(token) and hmac.compare_digest(self.csrf, str(token))


@dataclass(frozen=True)
class CookieJar:
    """Reads and writes one interface's session cookie."""

    name: str
    serializer: URLSafeTimedSerializer
    max_age: int
    secure: bool

    @classmethod
    def make(cls, settings: Settings, name: str, max_age: int) -> CookieJar:
        key = derived_key(settings, f"punchcard web session {name}")
        serializer = URLSafeTimedSerializer(key, salt=name)
        return cls(name, serializer, max_age, settings.cookie_secure)

    def read(self, raw: str | None) -> WebSession:
        """The cookie's session, or a new anonymous one when it is missing, altered or old."""
        if not raw:
            return WebSession.anonymous()
        try:
            payload = self.serializer.loads(raw, max_age=self.max_age)
        except BadSignature:
            return WebSession.anonymous()
        if not isinstance(payload, dict) or not isinstance(payload.get("csrf"), str):
            return WebSession.anonymous()
        subject = payload.get("sub")
        data = payload.get("data")
        return WebSession(
            csrf=payload["csrf"],
            subject=subject if isinstance(subject, int) else None,
            data=data if isinstance(data, dict) else {},
        )

    def dump(self, session: WebSession) -> str:
        return str(
            self.serializer.dumps(
                {"csrf": session.csrf, "sub": session.subject, "data": session.data}
            )
        )


def code_hash(settings: Settings, member_id: int, code: str) -> str:
    """A one-time code's keyed hash: a copy of the table cannot be turned back into codes."""
    key = derived_key(settings, "punchcard login code")
    return hmac.new(key, f"{member_id}:{code}".encode(), hashlib.sha256).hexdigest()
