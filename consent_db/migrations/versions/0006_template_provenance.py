"""Where each face template came from and when: age band, academic year, source (a reference
photo or a face an editor confirmed), the confirmed face and who added it.

Revision ID: 0006
Revises: 0005

Existing templates are reference photos (source "reference"); their academic year and age band
are unknown (NULL): the refresh list counts them from their created_at.
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("face_templates", schema=None) as batch_op:
        batch_op.add_column(sa.Column("age_band", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("academic_year", sa.String(length=7), nullable=True))
        batch_op.add_column(sa.Column("source", sa.String(length=16), nullable=False,
                                      server_default="reference"))
        batch_op.add_column(sa.Column("source_face_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("added_by_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key("fk_face_templates_added_by_id_users", "users",
                                    ["added_by_id"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("face_templates", schema=None) as batch_op:
        batch_op.drop_constraint("fk_face_templates_added_by_id_users", type_="foreignkey")
        batch_op.drop_column("added_by_id")
        batch_op.drop_column("source_face_id")
        batch_op.drop_column("source")
        batch_op.drop_column("academic_year")
        batch_op.drop_column("age_band")
