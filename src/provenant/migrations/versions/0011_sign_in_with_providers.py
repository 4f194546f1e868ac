"""Single sign-on (per-org OpenID Connect) and Sign in with GitHub: configurations, claimed domains,
one-time sign-in codes, linked identities, and who joined through single sign-on

Revision ID: 0011
Revises: 0010
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sso_configs",
        sa.Column("org_id", sa.String(length=36), sa.ForeignKey("orgs.id"), primary_key=True),
        sa.Column("issuer", sa.String(length=500), nullable=False),
        sa.Column("client_id", sa.String(length=255), nullable=False),
        sa.Column("client_secret", sa.Text(), nullable=False),
        sa.Column("authorization_endpoint", sa.String(length=1000), nullable=False),
        sa.Column("token_endpoint", sa.String(length=1000), nullable=False),
        sa.Column("token_auth_method", sa.String(length=32), nullable=False),
        sa.Column("default_role", sa.String(length=16), nullable=False),
        sa.Column("enforce", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "sso_domains",
        sa.Column("domain", sa.String(length=253), primary_key=True),
        sa.Column("org_id", sa.String(length=36), sa.ForeignKey("orgs.id"), nullable=False),
    )
    op.create_index("ix_sso_domains_org_id", "sso_domains", ["org_id"])
    op.create_table(
        "sign_in_codes",
        sa.Column("code_hash", sa.String(length=64), primary_key=True),
        sa.Column("user_id", sa.String(length=36), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("org_id", sa.String(length=36), sa.ForeignKey("orgs.id"), nullable=False),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_sign_in_codes_expires_at", "sign_in_codes", ["expires_at"])
    op.create_table(
        "external_identities",
        sa.Column("id", sa.String(length=36), primary_key=True),
        sa.Column("provider", sa.String(length=500), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("user_id", sa.String(length=36), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("provider", "subject", name="uq_external_identities_provider_subject"),
    )
    op.create_index("ix_external_identities_user_id", "external_identities", ["user_id"])
    # ADD COLUMN in place on every backend (no reference in it): no batch copy of users.
    op.add_column("users", sa.Column("joined_through_sso", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_column("joined_through_sso")
    op.drop_table("external_identities")
    op.drop_table("sign_in_codes")
    op.drop_table("sso_domains")
    op.drop_table("sso_configs")
