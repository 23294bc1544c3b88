"""The process's sealer for stored responses that hold a new code.

The key comes from PUNCHCARD_SECRET_KEY; without it, from a file generated once beside the
database (fine for a single machine, wrong for several: they would each make their own)."""

from __future__ import annotations

import functools
import logging
from pathlib import Path

from punchcard.config import Settings
from punchcard.kit.sealing import InvalidToken, Sealer, load_or_create_key
from punchcard.redemptions.errors import SecretKeyUnusableError, StoredResponseUnreadableError

log = logging.getLogger("punchcard")


class ResponseSealer:
    def __init__(self, sealer: Sealer) -> None:
        self._sealer = sealer

    def seal(self, data: bytes) -> bytes:
        return self._sealer.seal(data)

    def unseal(self, token: bytes) -> bytes:
        try:
            return self._sealer.unseal(token)
        except InvalidToken as exc:
            raise StoredResponseUnreadableError(
                "the first response to this Idempotency-Key was sealed under another secret "
                "key and cannot be replayed; list the member's redemptions to see whether it "
                "was issued before sending the request again with a new key"
            ) from exc


def sealer_for(settings: Settings) -> ResponseSealer:
    """The sealer, or 503 `secret_key_unusable` (logged) when the key cannot be used: a key of
    fewer than 16 characters, or a key file that cannot be read or created."""
    secret = settings.secret_key.get_secret_value() if settings.secret_key else None
    try:
        return _sealer(secret, str(settings.secret_key_file))
    except (ValueError, OSError) as exc:
        log.error("cannot seal responses that hold a code: %s", exc)
        where = "PUNCHCARD_SECRET_KEY" if secret is not None else str(settings.secret_key_file)
        raise SecretKeyUnusableError(
            f"the server's secret key ({where}) is unusable: {exc}. Set PUNCHCARD_SECRET_KEY "
            "to 16 characters or more, the same in every process"
        ) from exc


@functools.lru_cache(maxsize=8)
def _sealer(secret: str | None, key_file: str) -> ResponseSealer:
    if secret is None:
        log.warning(
            "PUNCHCARD_SECRET_KEY is not set: sealing with the key generated in %s. Set "
            "PUNCHCARD_SECRET_KEY in production, the same for every process.",
            key_file,
        )
        return ResponseSealer(Sealer(load_or_create_key(Path(key_file))))
    return ResponseSealer(Sealer(secret.encode()))
