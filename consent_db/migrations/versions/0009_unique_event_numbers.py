"""A photo's number is unique within its event (the numbers make the published file names).

Photos that two parallel uploads numbered alike before this constraint are renumbered from
their event's next free number (the later photo moves; live copies keep their file names).

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    photos = sa.table("photos", sa.column("id", sa.Integer), sa.column("event_id", sa.Integer),
                      sa.column("number", sa.Integer))
    events = sa.table("events", sa.column("id", sa.Integer),
                      sa.column("next_number", sa.Integer))
    bind = op.get_bind()
    seen: set[tuple[int, int]] = set()
    moved: list[tuple[int, int]] = []  # (photo id, event id)
    top: dict[int, int] = {}
    for pid, eid, number in bind.execute(sa.select(photos.c.id, photos.c.event_id,
                                                   photos.c.number).order_by(photos.c.id)):
        top[eid] = max(top.get(eid, 0), number)
        if (eid, number) in seen:
            moved.append((pid, eid))
        seen.add((eid, number))
    next_free = {eid: n for eid, n in bind.execute(sa.select(events.c.id, events.c.next_number))}
    for pid, eid in moved:
        number = max(next_free.get(eid) or 1, top[eid] + 1)
        bind.execute(photos.update().where(photos.c.id == pid).values(number=number))
        top[eid] = next_free[eid] = number
        bind.execute(events.update().where(events.c.id == eid).values(next_number=number + 1))
    # a unique index, not a constraint: SQLite adds it without rebuilding the table
    op.create_index("uq_photo_event_number", "photos", ["event_id", "number"], unique=True)


def downgrade() -> None:
    op.drop_index("uq_photo_event_number", table_name="photos")
