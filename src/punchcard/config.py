"""Settings come from the environment (prefix PUNCHCARD_) and are read only when asked for."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite:///./punchcard.db"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PUNCHCARD_", extra="ignore")

    database_url: str = Field(DEFAULT_DATABASE_URL, description="SQLAlchemy URL of the database.")
    host: str = Field("127.0.0.1", description="Address `serve` listens on.")
    port: int = Field(8000, ge=1, le=65535, description="Port `serve` listens on.")
    workers: int = Field(1, ge=1, le=64, description="uvicorn worker processes for `serve`.")
    db_pool_size: int = Field(10, ge=1, le=200, description="Connections kept per process.")
    sqlite_busy_timeout_ms: int = Field(
        30_000, ge=0, description="How long a SQLite writer waits for the lock before failing."
    )
    jobs_interval_seconds: float = Field(
        60.0, gt=0, description="Pause between two passes of `punchcard worker`."
    )
    jobs_batch_size: int = Field(500, ge=1, description="Members a job handles per transaction.")
    cache_ttl_seconds: float = Field(
        5.0,
        ge=0,
        description="How long a process keeps API keys, program settings and rules before "
        "reading them again (0: never cache); changes made through the same process apply at once.",
    )
    public_url: str | None = Field(
        None,
        pattern=r"^https?://[^\s/?#]+(/[^\s?#]*)?$",
        description="The address members' browsers reach the server at, e.g. "
        "`https://loyalty.example.com`: share links are built on it. Unset: the address of the "
        "request that asked for the link.",
    )
    idempotency_ttl_hours: int = Field(
        168, ge=1, description="How long a stored response answers a retried Idempotency-Key."
    )
    cookie_secure: bool = Field(
        False,
        description="Mark the portal's and admin console's session cookies Secure (sent over "
        "HTTPS only). Turn it on whenever the server is reached over HTTPS.",
    )
    mail_transport: str = Field(
        "log",
        pattern=r"^(log|none)$",
        description="How e-mails in the outbox leave: `log` prints them to the server's log "
        "(the demo, development); `none` keeps them in the outbox for a relay to collect.",
    )
    login_code_minutes: int = Field(
        10, ge=1, le=1440, description="How long a member's one-time sign-in code stays valid."
    )
    secret_key: SecretStr | None = Field(
        None,
        min_length=16,
        description="Seals what the server must give back but never store in clear (a new "
        "redemption code in a stored idempotent response). Set it in production, the same in "
        "every process; changing it makes stored responses with codes unreadable.",
    )
    secret_key_file: Path = Field(
        Path("./punchcard.secret"),
        description="Where a secret key is generated (once, mode 0600) when secret_key is unset.",
    )
