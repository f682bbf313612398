"""The outbox of stored objects to delete after the commit that made them unreachable, so a
crash at any point leaves the old state or the new one, never a row pointing at nothing.

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pending_deletions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("store", sa.String(length=32), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("queued_at", sa.DateTime(), nullable=False),
        sa.Column("due_at", sa.DateTime(), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_pending_deletions_due_at", "pending_deletions", ["due_at"])


def downgrade() -> None:
    op.drop_index("ix_pending_deletions_due_at", table_name="pending_deletions")
    op.drop_table("pending_deletions")
