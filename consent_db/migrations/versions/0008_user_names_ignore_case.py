"""User names are unique whatever their case: a unique index on lower(username).

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    users = sa.table("users", sa.column("username", sa.String))
    lower = sa.func.lower(users.c.username)
    clashes = op.get_bind().execute(
        sa.select(lower).group_by(lower).having(sa.func.count() > 1)).scalars().all()
    if clashes:  # the operator decides which account stays; nothing is guessed here
        raise RuntimeError(
            "user names that differ only in case: " + ", ".join(sorted(clashes)) + ". Disable "
            "and rename one of each (e.g. in SQL) before upgrading; nothing was changed")
    op.create_index("uq_users_username_lower", "users", [sa.text("lower(username)")],
                    unique=True)


def downgrade() -> None:
    op.drop_index("uq_users_username_lower", table_name="users")
