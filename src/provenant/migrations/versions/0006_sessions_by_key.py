"""An index for the sessions an ingest key created (its list reads only those)

Revision ID: 0006
Revises: 0005
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_sessions_org_key_created", "sessions", ["org_id", "created_by_api_key_id", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_sessions_org_key_created", table_name="sessions")
