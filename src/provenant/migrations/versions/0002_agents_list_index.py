"""agents: an index that serves the list's whole ORDER BY (updated_at DESC, id DESC)

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("agents") as batch_op:
        batch_op.drop_index("ix_agents_org_updated")
        batch_op.create_index("ix_agents_org_updated_id", ["org_id", "updated_at", "id"])


def downgrade() -> None:
    with op.batch_alter_table("agents") as batch_op:
        batch_op.drop_index("ix_agents_org_updated_id")
        batch_op.create_index("ix_agents_org_updated", ["org_id", "updated_at"])
