"""Sealing: authenticated encryption of small secrets the server must give back later.

A redemption code is shown to the member once and only its hash is kept, yet a retried
request must get the first response back byte for byte. The stored response is therefore
sealed (Fernet: AES-128-CBC with an HMAC-SHA256 tag) under the process's secret key: someone
who reads the database alone learns nothing, and a tampered record is refused."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
import secrets
import tempfile
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

__all__ = ["InvalidToken", "Sealer", "load_or_create_key"]

_CONTEXT = b"punchcard sealing v1\x00"
KEY_BYTES = 32


class Sealer:
    """Seals and unseals with a key derived from the secret, so the secret itself can be any
    string an operator chooses, and other uses of it never share this key."""

    def __init__(self, secret: bytes) -> None:
        if len(secret) < 16:
            raise ValueError("the secret key must be at least 16 bytes long")
        derived = hashlib.sha256(_CONTEXT + secret).digest()
        self._fernet = Fernet(base64.urlsafe_b64encode(derived))

    def seal(self, data: bytes) -> bytes:
        return self._fernet.encrypt(data)

    def unseal(self, token: bytes) -> bytes:
        """Raises InvalidToken when the token was altered or sealed under another key."""
        return self._fernet.decrypt(token)


def load_or_create_key(path: Path) -> bytes:
    """The key in `path`, created on first use (mode 0600) when missing.

    Several worker processes may start at once: each writes a candidate to a private temporary
    file and hard-links it into place, which fails for all but the first (like O_EXCL), so
    they all end up reading the same, complete key."""
    try:
        return _read(path)
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".punchcard-secret-")
    try:
        with os.fdopen(fd, "w") as handle:  # mkstemp: O_EXCL, mode 0600
            handle.write(secrets.token_urlsafe(KEY_BYTES) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        with contextlib.suppress(FileExistsError):
            os.link(temporary, path)
    finally:
        os.unlink(temporary)
    return _read(path)


def _read(path: Path) -> bytes:
    key = path.read_text().strip().encode()
    if len(key) < 16:
        raise ValueError(f"{path} holds no usable secret key (fewer than 16 characters)")
    return key
