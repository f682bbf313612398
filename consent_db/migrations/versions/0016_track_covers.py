"""An editor's "cover this track" belongs to the track: a cover row may name its face, and a
video's publishing covers that track wherever it moves instead of a fixed rectangle where it
was on its best frame. Without the face (a rescan replaced it) the row is a rectangle again.

Revision ID: 0016
Revises: 0015
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("manual_covers") as batch:
        batch.add_column(sa.Column("face_id", sa.Integer(), nullable=True))
        batch.create_index("ix_manual_covers_face_id", ["face_id"])
        batch.create_foreign_key("fk_manual_covers_face_id", "faces", ["face_id"], ["id"],
                                 ondelete="SET NULL")


def downgrade() -> None:
    with op.batch_alter_table("manual_covers") as batch:
        batch.drop_constraint("fk_manual_covers_face_id", type_="foreignkey")
        batch.drop_index("ix_manual_covers_face_id")
        batch.drop_column("face_id")
