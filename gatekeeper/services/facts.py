"""Turning database rows into the policy's plain facts (the policy itself imports no database)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from consent_db.models import ConsentRecord, Person, Photo
from gatekeeper.domain.policy import ConsentFact, FaceFact, PersonFact
from gatekeeper.domain.redact import Region, hidden_by_covers


def face_facts(photo: Photo) -> list[FaceFact]:
    """The photo's faces as the policy sees them, a face under an editor's cover included."""
    covers = [Region(c.x0, c.y0, c.x1, c.y1) for c in photo.covers]
    return [
        FaceFact(
            face_id=f.id, person_id=f.person_id,
            near_person_ids=frozenset(int(p) for p in (f.near_person_ids or [])),
            hand_covered=bool(covers) and hidden_by_covers(
                Region(f.left, f.top, f.right, f.bottom), covers),
        )
        for f in photo.faces
    ]


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
