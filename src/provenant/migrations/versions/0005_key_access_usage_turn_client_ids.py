"""Key access levels, rolling, revocation reasons and daily usage; client ids on turns

Revision ID: 0005
Revises: 0004
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Existing keys keep today's behaviour: they act with their creator's role.
    op.add_column("api_keys", sa.Column("access", sa.String(length=8), nullable=False, server_default="full"))
    op.add_column("api_keys", sa.Column("rolled_to_id", sa.String(length=36), nullable=True))
    # Keys revoked before this revision were revoked by a person.
    op.add_column("api_keys", sa.Column("revoked_reason", sa.String(length=16), nullable=True))
    op.execute("UPDATE api_keys SET revoked_reason = 'revoked' WHERE revoked_at IS NOT NULL")

    op.create_table(
        "api_key_usage",
        sa.Column("api_key_id", sa.String(length=36), sa.ForeignKey("api_keys.id", ondelete="CASCADE"), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("requests", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("api_key_id", "day"),
    )

    op.add_column("turns", sa.Column("client_id", sa.String(length=64), nullable=True))
    # A resent batch finds its turns by (session, clientId); turns without one (NULL) never collide.
    op.create_index("uq_turns_session_client_id", "turns", ["session_id", "client_id"], unique=True)


def downgrade() -> None:
    op.drop_index("uq_turns_session_client_id", table_name="turns")
    op.drop_column("turns", "client_id")
    op.drop_table("api_key_usage")
    op.drop_column("api_keys", "revoked_reason")
    op.drop_column("api_keys", "rolled_to_id")
    op.drop_column("api_keys", "access")
