"""indexes and rollups for the analytics KPIs

Revision ID: 8e3f0a6c2b17
Revises: 5b1c7e2a9d40
Create Date: 2026-11-23 06:05:00.000000
"""

from collections.abc import Sequence

revision: str = "8e3f0a6c2b17"
down_revision: str | None = "5b1c7e2a9d40"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
