"""An editor's "cover this track" belongs to the track: a cover row may name its face, and a
video's publishing covers that track wherever it moves instead of a fixed rectangle where it
was on its best frame. Without the face (a rescan replaced it) the row is a rectangle again.

Revision ID: 0016
Revises: 0015
"""

import warnings
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


@contextmanager
def _quietly() -> Iterator[None]:
    """On SQLite batch mode copies the table and reflects the tables it refers to, users'
    among them, whose lower-case name index SQLAlchemy cannot reflect (it says so, harmlessly,
    at every fresh database)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=sa.exc.SAWarning,
                                message="Skipped unsupported reflection of expression-based")
        yield


def upgrade() -> None:
    with _quietly(), op.batch_alter_table("manual_covers") as batch:
        batch.add_column(sa.Column("face_id", sa.Integer(), nullable=True))
        batch.create_index("ix_manual_covers_face_id", ["face_id"])
        batch.create_foreign_key("fk_manual_covers_face_id", "faces", ["face_id"], ["id"],
                                 ondelete="SET NULL")


def downgrade() -> None:
    with _quietly(), op.batch_alter_table("manual_covers") as batch:
        batch.drop_constraint("fk_manual_covers_face_id", type_="foreignkey")
        batch.drop_index("ix_manual_covers_face_id")
        batch.drop_column("face_id")
