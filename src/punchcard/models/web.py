"""What the browser interfaces keep: admin users, the one-time codes members sign in with,
and the outbox that carries e-mails (and later webhooks) out after the transaction commits."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from punchcard.models.base import Base
from punchcard.models.types import BigId, UTCDateTime


class AdminUser(Base):
    """A person who runs programs in the admin console (not a member, not an API key)."""

    __tablename__ = "admin_users"
    __table_args__ = (UniqueConstraint("email", name="uq_admin_users_email"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    email: Mapped[str] = mapped_column(String(320))
    name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    # argon2id, as argon2-cffi writes it: parameters and salt travel inside the hash.
    password_hash: Mapped[str] = mapped_column(String(200))
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # Sessions signed in before this instant are over (sign-out, lock, new password): the
    # cookie alone cannot be revoked, so every request compares its sign-in time with this.
    sessions_valid_after: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class LoginCode(Base):
    """A one-time code sent to a member. Only its keyed hash is kept, so a copy of the table
    signs nobody in; `attempts` caps guessing; `used_at` makes it one-time."""

    __tablename__ = "login_codes"
    __table_args__ = (Index("ix_login_codes_member", "member_id", "created_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    member_id: Mapped[int] = mapped_column(BigId, ForeignKey("members.id"))
    code_hash: Mapped[str] = mapped_column(String(64))
    # A keyed hash of the nonce of the browser that asked for the code: only that browser can
    # try it, so nobody else can use up its attempts and lock the member out.
    browser: Mapped[str] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class OutboxMessage(Base):
    """A message written in the same transaction as the change it tells of, and delivered
    after the commit: a rolled-back change never sends anything, a committed one always can."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_pending", "sent_at", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    program_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("programs.id"), nullable=True)
    kind: Mapped[str] = mapped_column(String(20))  # "email"
    recipient: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    locale: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
