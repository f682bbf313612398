"""The photos whose facts changed and whose live copies are still to be reconciled (the dirty
set that the targeted job and the minute sweep read).

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "photo_rechecks",
        sa.Column("photo_id", sa.Integer(), nullable=False),
        sa.Column("cause", sa.String(length=64), nullable=False),
        sa.Column("queued_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["photo_id"], ["photos.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("photo_id"),
    )
    op.create_index("ix_photo_rechecks_queued_at", "photo_rechecks", ["queued_at"])


def downgrade() -> None:
    op.drop_index("ix_photo_rechecks_queued_at", table_name="photo_rechecks")
    op.drop_table("photo_rechecks")
