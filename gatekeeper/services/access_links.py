"""Ending portal access: open visits closed and unused links cancelled, when a contact's rights or
address change (contacts.csv) or a pupil's address changes (people.csv)."""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import update
from sqlalchemy.orm import Session

from consent_db.models import PortalInvitation, PortalSession, utcnow


def end_access(session: Session, *, contact_ids: set[int] | None = None,
               pupil_ids: set[int] | None = None, visits: bool = True) -> None:
    """Cancel unused links of these contacts (or pupils) and, with `visits`, close their open
    visits: their rights or address changed, or a new link replaces the old ones."""
    now = utcnow()
    for column, ids in ((PortalSession.contact_id, contact_ids), (PortalSession.pupil_id,
                                                                  pupil_ids)):
        for chunk in _chunks(ids if visits else None):
            session.execute(update(PortalSession).where(
                column.in_(chunk), PortalSession.revoked_at.is_(None)).values(revoked_at=now))
    for column, ids in ((PortalInvitation.contact_id, contact_ids),
                        (PortalInvitation.pupil_id, pupil_ids)):
        for chunk in _chunks(ids):
            session.execute(update(PortalInvitation).where(
                column.in_(chunk), PortalInvitation.used_at.is_(None),
                PortalInvitation.expires_at > now).values(expires_at=now))


def _chunks(ids: set[int] | None, size: int = 5000) -> Iterator[list[int]]:
    """Ids a few thousand at a time: SQLite allows ~32 000 values in one statement, and a
    whole-school import can change more addresses than that."""
    ordered = sorted(ids or ())
    for start in range(0, len(ordered), size):
        yield ordered[start:start + size]
