"""The dirty set: photos whose facts changed and whose live copies must follow.

Every write path of a fact names the photos it affects here, in the fact's own transaction, and
queues a targeted job after the commit. The job and the minute sweep reconcile exactly these
photos, so the sweep's cost follows what changed, not the size of the archive; and a lost
queue message costs at most a minute.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from consent_db.models import Face, Photo, PhotoRecheck, PhotoStatus, utcnow

# Photos in these states have nothing that a change of fact could still alter.
_SETTLED = (PhotoStatus.PURGED.value,)


def mark(session: Session, photo_ids: Iterable[int], cause: str) -> set[int]:
    """Add the photos to the dirty set (inside the caller's transaction); returns them."""
    ids = set(photo_ids)
    if not ids:
        return ids
    known = set(session.scalars(select(PhotoRecheck.photo_id).where(
        PhotoRecheck.photo_id.in_(ids))))
    for photo_id in sorted(ids - known):
        session.add(PhotoRecheck(photo_id=photo_id, cause=cause[:64]))
    session.flush()
    return ids


def photos_identifying(session: Session, person_id: int, *, near: bool = False) -> set[int]:
    """Photos (not purged) with a face identified as the person; with `near`, also those where
    the person was within tolerance of a face (what a safeguarding flag blocks)."""
    query = select(Face.photo_id).join(Photo).where(Photo.status.not_in(_SETTLED))
    ids = set(session.scalars(query.where(Face.person_id == person_id)))
    if near:
        for photo_id, candidates in session.execute(
                select(Face.photo_id, Face.near_person_ids).join(Photo).where(
                    Photo.status.not_in(_SETTLED),
                    or_(Face.person_id.is_(None), Face.person_id != person_id))):
            if person_id in (candidates or []):
                ids.add(photo_id)
    return ids


def due(session: Session, *, older_than: datetime | None = None, limit: int = 500) -> list[int]:
    """Photo ids waiting in the dirty set, oldest first (those queued before `older_than`)."""
    query = select(PhotoRecheck.photo_id).order_by(PhotoRecheck.queued_at, PhotoRecheck.photo_id)
    if older_than is not None:
        query = query.where(PhotoRecheck.queued_at <= older_than)
    return list(session.scalars(query.limit(limit)))


def clear(session: Session, photo_id: int, queued_before: datetime | None = None) -> None:
    """The photo has been reconciled: drop it from the dirty set (unless marked again since)."""
    row = session.get(PhotoRecheck, photo_id)
    if row is not None and (queued_before is None or row.queued_at <= queued_before):
        session.delete(row)


def now() -> datetime:
    return utcnow()
