"""One-time forms: a post that creates something (an adjustment, a reward, a badge, a
challenge) carries a nonce drawn when its page was drawn, used as the idempotency key of the
write. A second post of the same form (a double click, a reload) finds the key taken and is
sent to the first post's result page instead of writing again; the key row is written in the
write's own transaction, so a refused post leaves the nonce free for the corrected form."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from punchcard.errors import ConflictError
from punchcard.idempotency import service as idempotency
from punchcard.kit.hashing import sha256_hex
from punchcard.web import i18n
from punchcard.web.errors import WebError

FIELD = "once"
NONCE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
DONE = b"{}"


def new_nonce() -> str:
    return secrets.token_urlsafe(18)


def stale_form() -> WebError:
    return WebError(
        409,
        i18n.gettext("This form was already used"),
        i18n.gettext("Open the page again to fill in a new form."),
    )


@dataclass(frozen=True)
class Once:
    """One post of a one-time form: which program, which action, and the form's nonce."""

    program_id: int
    action: str
    nonce: str

    @classmethod
    def of(cls, program_id: int, action: str, form: dict[str, str]) -> Once:
        """The form's nonce, or the stale-form page when it has none (a form drawn before
        nonces, or a hand-made post)."""
        nonce = form.get(FIELD, "")
        if not NONCE.match(nonce):
            raise stale_form()
        return cls(program_id, action, nonce)

    @property
    def key(self) -> str:
        return f"admin-form:{self.action}:{self.nonce}"

    def already_done(self, write: Session, *, what: str, now: datetime) -> bool:
        """Claim the nonce (True: an earlier post of this form already did the write).

        `what` fingerprints the request: the same nonce with other content (a form changed
        after it was sent) is the stale-form page, not a replay. Call `done` after the write,
        in the same transaction."""
        try:
            replay = idempotency.begin(
                write,
                program_id=self.program_id,
                key=self.key,
                fingerprint=sha256_hex(f"admin {self.action} {what}"),
                now=now,
            )
        except ConflictError:
            raise stale_form() from None
        return replay is not None

    def done(self, write: Session) -> None:
        idempotency.finish(
            write, program_id=self.program_id, key=self.key, status_code=303, body=DONE
        )
