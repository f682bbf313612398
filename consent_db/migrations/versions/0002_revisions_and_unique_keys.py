"""Camera deactivation, photo revisions (corrections reach live copies), unique public keys, server-side sessions;
drop the never-read redacted_person_ids.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "user_sessions",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_user_sessions_user_id", "user_sessions", ["user_id"])
    with op.batch_alter_table("devices") as batch:
        batch.add_column(sa.Column("active", sa.Boolean(), server_default=sa.true(),
                                   nullable=False))
    with op.batch_alter_table("photos") as batch:
        batch.add_column(sa.Column("revision", sa.Integer(), server_default="0", nullable=False))
        batch.drop_column("redacted_person_ids")
    with op.batch_alter_table("publications") as batch:
        batch.add_column(sa.Column("revision", sa.Integer(), server_default="0", nullable=False))
        batch.create_unique_constraint("uq_publication_key", ["channel", "key"])


def downgrade() -> None:
    with op.batch_alter_table("devices") as batch:
        batch.drop_column("active")
    op.drop_index("ix_user_sessions_user_id", table_name="user_sessions")
    op.drop_table("user_sessions")
    with op.batch_alter_table("publications") as batch:
        batch.drop_constraint("uq_publication_key", type_="unique")
        batch.drop_column("revision")
    with op.batch_alter_table("photos") as batch:
        batch.add_column(sa.Column("redacted_person_ids", sa.JSON(), nullable=False,
                                   server_default="[]"))
        batch.drop_column("revision")
