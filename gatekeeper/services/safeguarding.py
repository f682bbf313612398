"""When someone is newly flagged "never photograph", every photo they are (even possibly) in
becomes blocked at once, everywhere: status, lists and pages say the same."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from consent_db import audit
from consent_db.models import Photo, PhotoStatus
from gatekeeper.domain.policy import blocked_reason
from gatekeeper.services.facts import face_facts, person_facts

_OPEN = (PhotoStatus.AWAITING_REVIEW.value,)


def block_flagged_photos(session: Session, actor_id: int | None) -> list[int]:
    """Block every reviewed photo that a safeguarding flag now blocks; returns their ids."""
    blocked = []
    photos = session.scalars(select(Photo).where(Photo.status.in_(_OPEN))
                             .options(selectinload(Photo.faces), selectinload(Photo.approvals)))
    for photo in photos:
        reason = blocked_reason(face_facts(photo), person_facts(session, photo))
        if reason is None:
            continue
        photo.status, photo.status_reason = PhotoStatus.BLOCKED.value, reason
        photo.approvals.clear()
        audit.record(session, "photo.blocked", "photo", photo.id, actor_id, reason="safeguarding")
        blocked.append(photo.id)
    return blocked
