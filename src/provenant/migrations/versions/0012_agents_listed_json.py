"""Each agent keeps its JSON for the list (``agents.listed``), written by the database with the row

``GET /api/agents`` rendered every agent's JSON in its SELECT, per request: for 50 agents that was about three
quarters of the statement on SQLite. A trigger now writes it whenever the row is inserted or updated, by any
statement, in the same transaction, so the list reads one column and can never show a row other than as it is.

The JSON is AgentRead's (tests/agents/test_list_rendering.py compares it with ``GET /api/agents/{id}``): a new
field of AgentRead needs a migration that replaces these triggers. On SQLite, a batch migration that copies
``agents`` drops its triggers: it must create them again.

Revision ID: 0012
Revises: 0011
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The expression the list's SELECT rendered until now (provenant.hot_path_sql at 0011), per dialect.
# SQLite stores a timestamp as "YYYY-MM-DD HH:MM:SS.ffffff" (UTC): cut to milliseconds, as the API's Timestamp.
_SQLITE_JSON = """json_object('id', id, 'orgId', org_id, 'name', name, 'slug', slug, 'description', description,
    'tags', json(tags), 'modelFamily', model_family, 'status', status, 'createdById', created_by_id,
    'createdAt', substr(created_at, 1, 10) || 'T' || substr(created_at, 12, 12) || 'Z',
    'updatedAt', substr(updated_at, 1, 10) || 'T' || substr(updated_at, 12, 12) || 'Z')"""

_POSTGRES_JSON = """CAST(json_build_object('id', NEW.id, 'orgId', NEW.org_id, 'name', NEW.name, 'slug', NEW.slug,
    'description', NEW.description, 'tags', NEW.tags, 'modelFamily', NEW.model_family, 'status', NEW.status,
    'createdById', NEW.created_by_id,
    'createdAt', to_char(timezone('UTC', NEW.created_at), 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
    'updatedAt', to_char(timezone('UTC', NEW.updated_at), 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')) AS TEXT)"""

# Every column the JSON shows: an UPDATE of the list's column alone does not fire the trigger again.
_SHOWN = "id, org_id, name, slug, description, tags, model_family, status, created_by_id, created_at, updated_at"


def upgrade() -> None:
    # ADD COLUMN in place on every backend (no reference in it): no batch copy of agents.
    op.add_column("agents", sa.Column("listed", sa.Text(), nullable=True))
    if op.get_bind().dialect.name == "sqlite":
        # SQLite cannot change NEW in a trigger: the row is updated once it is written.
        write = f"UPDATE agents SET listed = {_SQLITE_JSON}"  # noqa: S608 (constants only)
        op.execute(
            f"CREATE TRIGGER agents_listed_on_insert AFTER INSERT ON agents BEGIN {write} WHERE rowid = NEW.rowid; END"
        )
        op.execute(
            f"CREATE TRIGGER agents_listed_on_update AFTER UPDATE OF {_SHOWN} ON agents "
            f"BEGIN {write} WHERE rowid = NEW.rowid; END"
        )
        op.execute(write)
    else:
        op.execute(
            "CREATE FUNCTION agents_listed() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN NEW.listed := {_POSTGRES_JSON}; RETURN NEW; END $$"
        )
        op.execute(
            "CREATE TRIGGER agents_listed BEFORE INSERT OR UPDATE ON agents "
            "FOR EACH ROW EXECUTE FUNCTION agents_listed()"
        )
        op.execute("UPDATE agents SET listed = NULL")  # the trigger writes it


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER agents_listed_on_insert")
        op.execute("DROP TRIGGER agents_listed_on_update")
    else:
        op.execute("DROP TRIGGER agents_listed ON agents")
        op.execute("DROP FUNCTION agents_listed()")
    with op.batch_alter_table("agents") as batch:
        batch.drop_column("listed")
