"""A takedown for ended consent no longer names whose consent ended in the publication's reason
(it reached the uploader, the photo's stage and other people's subject access exports): the
reasons written before say only "consent withdrawn or lapsed". Whose it was stays in the audit
trail the DPO reads. Nothing to undo.

Revision ID: 0015
Revises: 0014
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

CONSENT_LOST = "consent withdrawn or lapsed"


def upgrade() -> None:
    op.execute(sa.text("UPDATE publications SET taken_down_reason = :plain "
                       "WHERE taken_down_reason LIKE :named").bindparams(
        plain=CONSENT_LOST, named=f"{CONSENT_LOST}:%"))


def downgrade() -> None:
    pass  # the names are not kept anywhere to put back
