"""A photo's block follows the safeguarding flags: set, it blocks every photo the person is
(even possibly) in, at once; lifted, a photo blocked only by it returns to review.

The block is a cached decision (the policy's `blocked_reason` over the current facts), so it is
re-decided here, never patched by hand; the live copies follow in `live.reconcile_photo`.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from consent_db import audit
from consent_db.models import Photo, PhotoStatus
from gatekeeper.domain.policy import SAFEGUARDING_REASON, blocked_reason
from gatekeeper.services.facts import face_facts, person_facts


def redecide_block(session: Session, photo: Photo, actor_id: int | None) -> str | None:
    """Bring the photo's block in line with the flags now; returns "blocked", "unblocked" or
    None (nothing changed). Only a reviewed photo can become blocked, and only a block by a
    flag can be lifted (a scan or publishing error stays blocked)."""
    reviewed = photo.status == PhotoStatus.AWAITING_REVIEW
    by_flag = (photo.status == PhotoStatus.BLOCKED
               and (photo.status_reason or "").startswith(SAFEGUARDING_REASON))
    if not (reviewed or by_flag):
        return None
    reason = blocked_reason(face_facts(photo), person_facts(session, photo))
    if reason is not None:
        if reviewed or photo.status_reason != reason:
            photo.status, photo.status_reason = PhotoStatus.BLOCKED.value, reason
            photo.approvals.clear()
            audit.record(session, "photo.blocked", "photo", photo.id, actor_id,
                         reason="safeguarding")
            return "blocked"
        return None
    if by_flag:
        photo.status, photo.status_reason = PhotoStatus.AWAITING_REVIEW.value, None
        audit.record(session, "photo.unblocked", "photo", photo.id, actor_id,
                     reason="safeguarding flag lifted")
        return "unblocked"
    return None


def redecide_blocks(session: Session, photo_ids: Iterable[int],
                    actor_id: int | None) -> dict[int, str]:
    """`redecide_block` for each photo; returns photo id -> what changed."""
    ids = sorted(set(photo_ids))
    if not ids:
        return {}
    out: dict[int, str] = {}
    for photo in session.scalars(select(Photo).where(Photo.id.in_(ids)).options(
            selectinload(Photo.faces), selectinload(Photo.approvals))):
        change = redecide_block(session, photo, actor_id)
        if change:
            out[photo.id] = change
    return out
