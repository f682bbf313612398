"""The consent portal: parents' contacts, single-use invitations, portal sessions, and every
answer given there with its evidence; pupils' own e-mail addresses.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("people") as batch:
        batch.add_column(sa.Column("email", sa.String(length=254), nullable=True))
    op.create_table(
        "contacts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("ref", sa.String(length=64), nullable=False, unique=True),
        sa.Column("given_name", sa.String(length=128), nullable=False),
        sa.Column("family_name", sa.String(length=128), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "contact_children",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("contact_id", sa.Integer(),
                  sa.ForeignKey("contacts.id", ondelete="CASCADE"), nullable=False),
        sa.Column("person_id", sa.Integer(),
                  sa.ForeignKey("people.id", ondelete="CASCADE"), nullable=False),
        sa.Column("parental_responsibility", sa.Boolean(), nullable=False),
        sa.Column("no_contact", sa.Boolean(), nullable=False),
        sa.UniqueConstraint("contact_id", "person_id"),
    )
    op.create_index("ix_contact_children_contact_id", "contact_children", ["contact_id"])
    op.create_index("ix_contact_children_person_id", "contact_children", ["person_id"])
    op.create_table(
        "portal_invitations",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("token_hash", sa.String(length=64), nullable=False, unique=True),
        sa.Column("contact_id", sa.Integer(),
                  sa.ForeignKey("contacts.id", ondelete="CASCADE"), nullable=True),
        sa.Column("pupil_id", sa.Integer(),
                  sa.ForeignKey("people.id", ondelete="CASCADE"), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("delivered_via", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("used_at", sa.DateTime(), nullable=True),
    )
    op.create_index("ix_portal_invitations_contact_id", "portal_invitations", ["contact_id"])
    op.create_index("ix_portal_invitations_pupil_id", "portal_invitations", ["pupil_id"])
    op.create_table(
        "portal_sessions",
        sa.Column("id", sa.String(length=64), primary_key=True),
        sa.Column("contact_id", sa.Integer(),
                  sa.ForeignKey("contacts.id", ondelete="CASCADE"), nullable=True),
        sa.Column("pupil_id", sa.Integer(),
                  sa.ForeignKey("people.id", ondelete="CASCADE"), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
    )
    op.create_index("ix_portal_sessions_contact_id", "portal_sessions", ["contact_id"])
    op.create_index("ix_portal_sessions_pupil_id", "portal_sessions", ["pupil_id"])
    op.create_table(
        "consent_decisions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("person_id", sa.Integer(),
                  sa.ForeignKey("people.id", ondelete="CASCADE"), nullable=False),
        sa.Column("academic_year", sa.String(length=7), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("granted", sa.Boolean(), nullable=False),
        sa.Column("contact_id", sa.Integer(),
                  sa.ForeignKey("contacts.id", ondelete="SET NULL"), nullable=True),
        sa.Column("by_pupil", sa.Boolean(), nullable=False),
        sa.Column("signed_name", sa.String(length=200), nullable=False),
        sa.Column("decided_at", sa.DateTime(), nullable=False),
        sa.Column("client_address", sa.String(length=64), nullable=False),
        sa.Column("user_agent", sa.String(length=255), nullable=False),
        sa.Column("form_text", sa.Text(), nullable=False),
    )
    op.create_index("ix_consent_decisions_person_id", "consent_decisions", ["person_id"])
    op.create_index("ix_consent_decisions_contact_id", "consent_decisions", ["contact_id"])


def downgrade() -> None:
    for table in ("consent_decisions", "portal_sessions", "portal_invitations",
                  "contact_children", "contacts"):
        op.drop_table(table)
    with op.batch_alter_table("people") as batch:
        batch.drop_column("email")
