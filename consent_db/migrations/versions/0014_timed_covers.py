"""An editor's cover rectangle may hold for a span of a video only (start and end in
milliseconds); without a span it covers every frame, as before.

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("manual_covers") as batch:
        batch.add_column(sa.Column("start_ms", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("end_ms", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("manual_covers") as batch:
        batch.drop_column("end_ms")
        batch.drop_column("start_ms")
