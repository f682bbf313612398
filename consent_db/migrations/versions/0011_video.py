"""Videos as items like photos: the medium, duration and frame rate of each item, and the
per-frame boxes of a video's face tracks.

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("photos") as batch:
        batch.add_column(sa.Column("media", sa.String(length=8), nullable=False,
                                   server_default="photo"))
        batch.add_column(sa.Column("duration_s", sa.Float(), nullable=True))
        batch.add_column(sa.Column("fps", sa.Float(), nullable=True))
        batch.add_column(sa.Column("frame_count", sa.Integer(), nullable=True))
    with op.batch_alter_table("faces") as batch:
        batch.add_column(sa.Column("frames", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("faces") as batch:
        batch.drop_column("frames")
    with op.batch_alter_table("photos") as batch:
        batch.drop_column("frame_count")
        batch.drop_column("fps")
        batch.drop_column("duration_s")
        batch.drop_column("media")
