"""auth_attempts: counters of failed sign-ins and key authentications (see provenant.auth.attempts)

Revision ID: 0004
Revises: 0003
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from provenant.models import UTCDateTime

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "auth_attempts",
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("window_started_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    # The sweep of stale counters finds them by age.
    op.create_index("ix_auth_attempts_window_started_at", "auth_attempts", ["window_started_at"])


def downgrade() -> None:
    op.drop_index("ix_auth_attempts_window_started_at", table_name="auth_attempts")
    op.drop_table("auth_attempts")
