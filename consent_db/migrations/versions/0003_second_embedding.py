"""second face embedding on face templates (SFace beside dlib)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 07:00:00

The SFace vector lives in the same face_templates row as dlib's, so deleting a person's templates
(biometric consent withdrawn) deletes every model's template at once. Templates enrolled before
this revision have no SFace vector (NULL) until the person is enrolled again.
"""


from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('face_templates', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sface_encoding', sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column('sface_model', sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('face_templates', schema=None) as batch_op:
        batch_op.drop_column('sface_model')
        batch_op.drop_column('sface_encoding')
