"""The digital loyalty card's QR code, as SVG for screens and PNG for wallets and e-mails."""

from __future__ import annotations

import io

import segno


def qr_image(token: str, kind: str) -> bytes:
    code = segno.make(token, error="m")
    buffer = io.BytesIO()
    code.save(buffer, kind=kind, scale=8, border=2)
    return buffer.getvalue()
