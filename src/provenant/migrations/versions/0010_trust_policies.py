"""Trusted CI: trust policies, the ID tokens already exchanged, and the policy of an ephemeral key

Revision ID: 0010
Revises: 0009
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "trust_policies",
        sa.Column("id", sa.String(length=36), primary_key=True),
        sa.Column("org_id", sa.String(length=36), sa.ForeignKey("orgs.id"), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("issuer", sa.String(length=500), nullable=False),
        sa.Column("audience", sa.String(length=200), nullable=False),
        sa.Column("claims", _JSON, nullable=False),
        sa.Column("access", sa.String(length=8), nullable=False),
        sa.Column("ttl_seconds", sa.Integer(), nullable=False),
        sa.Column("created_by_id", sa.String(length=36), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_trust_policies_org_created", "trust_policies", ["org_id", "created_at"])
    op.create_index("ix_trust_policies_issuer", "trust_policies", ["issuer"])

    op.create_table(
        "used_id_tokens",
        sa.Column("digest", sa.String(length=64), primary_key=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_used_id_tokens_expires_at", "used_id_tokens", ["expires_at"])

    # ADD COLUMN, not a batch copy of api_keys: on SQLite, dropping the old copy would cascade into its
    # usage rows. SQLite adds a column with its reference in place; Alembic only knows the copy for it.
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE api_keys ADD COLUMN policy_id VARCHAR(36) REFERENCES trust_policies (id)")
    else:
        op.add_column(
            "api_keys", sa.Column("policy_id", sa.String(length=36), sa.ForeignKey("trust_policies.id"), nullable=True)
        )
    op.create_index("ix_api_keys_policy_id", "api_keys", ["policy_id"])


def downgrade() -> None:
    op.drop_index("ix_api_keys_policy_id", table_name="api_keys")
    with op.batch_alter_table("api_keys") as batch:
        batch.drop_column("policy_id")
    op.drop_table("used_id_tokens")
    op.drop_table("trust_policies")
