"""Ending portal access: open visits closed and unused links cancelled, when a contact's rights or
address change (contacts.csv) or a pupil's address changes (people.csv)."""

from __future__ import annotations

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
        if ids and visits:
            session.execute(update(PortalSession).where(
                column.in_(ids), PortalSession.revoked_at.is_(None)).values(revoked_at=now))
    for column, ids in ((PortalInvitation.contact_id, contact_ids),
                        (PortalInvitation.pupil_id, pupil_ids)):
        if ids:
            session.execute(update(PortalInvitation).where(
                column.in_(ids), PortalInvitation.used_at.is_(None),
                PortalInvitation.expires_at > now).values(expires_at=now))
