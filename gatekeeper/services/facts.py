"""Turning database rows into the policy's plain facts (the policy itself imports no database)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from consent_db.models import ConsentRecord, Face, Person, Photo
from gatekeeper.domain.policy import ConsentFact, FaceFact, PersonFact
from gatekeeper.domain.redact import Region, hidden_by_covers
from gatekeeper.domain.spans import TimedRegion, holds_throughout, span_frames


def track_covered(photo: Photo) -> set[int]:
    """The video tracks an editor covered as tracks ("cover this track"), still there."""
    if photo.media != "video":
        return set()
    faces = {f.id for f in photo.faces}
    return {c.face_id for c in photo.covers if c.face_id is not None and c.face_id in faces}


def cover_regions(photo: Photo) -> list[Region]:
    """The editors' rectangles; one held for a span of a video as a TimedRegion of its frames
    (a span on a video without a frame rate counts as every frame: fail closed). A cover of a
    video's track is no rectangle: publishing covers the track wherever it moves (its
    rectangle stands again only if the track is gone, fail closed)."""
    out: list[Region] = []
    tracks = track_covered(photo)
    for c in photo.covers:
        if c.face_id is not None and c.face_id in tracks:
            continue
        span = (span_frames(c.start_ms, c.end_ms, photo.fps)
                if c.start_ms is not None and c.end_ms is not None and photo.fps else None)
        out.append(TimedRegion(c.x0, c.y0, c.x1, c.y1, *span) if span is not None
                   else Region(c.x0, c.y0, c.x1, c.y1))
    return out


def _sighted(f: Face) -> tuple[int, int] | None:
    """A track's first and last sampled frame (None for a photo's face)."""
    frames = [int(r[0]) for r in f.frames or []]
    return (min(frames), max(frames)) if frames else None


def face_facts(photo: Photo) -> list[FaceFact]:
    """The photo's faces as the policy sees them, a face under an editor's cover included; a
    track counts as hand-covered only under covers that hold for every frame it was seen on."""
    covers = cover_regions(photo)
    tracks = track_covered(photo)
    out = []
    for f in photo.faces:
        seen = _sighted(f)
        mine = covers if seen is None else [c for c in covers if holds_throughout(c, *seen)]
        out.append(FaceFact(
            face_id=f.id, person_id=f.person_id,
            near_person_ids=frozenset(int(p) for p in (f.near_person_ids or [])),
            hand_covered=f.id in tracks or (bool(mine) and hidden_by_covers(
                Region(f.left, f.top, f.right, f.bottom), mine)),
        ))
    return out


def person_facts(session: Session, photo: Photo) -> dict[int, PersonFact]:
    """Facts for everyone identified in, or near a face of, the photo."""
    ids: set[int] = set()
    for f in photo.faces:
        if f.person_id is not None:
            ids.add(f.person_id)
        ids.update(int(p) for p in (f.near_person_ids or []))
    if not ids:
        return {}
    people = session.scalars(select(Person).where(Person.id.in_(ids))).all()
    consents: dict[int, list[ConsentFact]] = {p.id: [] for p in people}
    for c in session.scalars(select(ConsentRecord).where(ConsentRecord.person_id.in_(ids))):
        consents[c.person_id].append(
            ConsentFact(c.academic_year, c.channel, c.granted, c.recorded_on, c.withdrawn_on)
        )
    return {
        p.id: PersonFact(p.id, p.safeguarding_no_photo, tuple(consents[p.id])) for p in people
    }
