"""The retention purge: nothing of a person survives their retention date (invariant 7).

For every person past their date: each photo they are in is either covered in place (someone
still within retention is also identified in it) or deleted with its published copies; their
templates, consent records and person record go. The plan names ids and counts, never names.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from consent_db import audit
from consent_db.models import ConsentRecord, Face, Person, Photo, PhotoStatus
from gatekeeper.domain.images import decode
from gatekeeper.domain.redact import cover, head_region
from gatekeeper.domain.rendition import encode_jpeg  # originals covered in place are kept as JPEG
from gatekeeper.domain.retention import retention_date
from gatekeeper.domain.vocabulary import Channel, ConsentKind, CoverMode
from gatekeeper.services.context import Context
from gatekeeper.services.pictures import review_key, review_rendition
from gatekeeper.services.publish import take_down
from gatekeeper.services.records import get_photo, original_key_of


@dataclass
class PurgePlan:
    today: date
    people: list[int] = field(default_factory=list)
    photos_to_cover: dict[int, list[int]] = field(default_factory=dict)  # photo -> person ids
    photos_to_delete: list[int] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {"today": self.today.isoformat(), "people": self.people,
                "photos_to_cover": {str(k): v for k, v in self.photos_to_cover.items()},
                "photos_to_delete": self.photos_to_delete}


def expired_people(session: Session, today: date, ctx: Context) -> list[int]:
    """Ids of people past their retention date on `today` (two queries, whatever the roll size)."""
    s = ctx.settings
    retaining = set(session.scalars(select(ConsentRecord.person_id).where(
        ConsentRecord.channel == ConsentKind.RETAIN.value, ConsentRecord.granted.is_(True),
        ConsentRecord.withdrawn_on.is_(None))))
    out = []
    for person_id, left_on in session.execute(
            select(Person.id, Person.left_on).where(Person.left_on.is_not(None))):
        until = retention_date(left_on, person_id in retaining, s.retention_years_with_consent,
                               s.retention_grace_days)
        if until is not None and today > until:
            out.append(person_id)
    return sorted(out)


def plan_purge(*, ctx: Context, today: date) -> PurgePlan:
    """What a purge on `today` would do; changes nothing."""
    with ctx.uow() as uow:
        plan = PurgePlan(today=today, people=expired_people(uow.session, today, ctx))
        doomed = set(plan.people)
        if not doomed:
            return plan
        touched = select(Face.photo_id).where(Face.person_id.in_(doomed)).scalar_subquery()
        identified: dict[int, set[int]] = {}
        for photo_id, person_id in uow.session.execute(
                select(Face.photo_id, Face.person_id).join(Photo)
                .where(Face.photo_id.in_(touched), Face.person_id.is_not(None),
                       Photo.status != PhotoStatus.PURGED.value)):
            if person_id is not None:
                identified.setdefault(photo_id, set()).add(person_id)
        for photo_id in sorted(identified):
            ids = identified[photo_id]
            if ids - doomed:
                plan.photos_to_cover[photo_id] = sorted(ids & doomed)
            else:
                plan.photos_to_delete.append(photo_id)
        return plan


def apply_purge(*, ctx: Context, today: date, actor_id: int | None = None) -> PurgePlan:
    """Carry out the plan for `today`, one photo per unit of work, then the people."""
    plan = plan_purge(ctx=ctx, today=today)
    for photo_id in plan.photos_to_delete:
        _delete_photo(ctx, photo_id, actor_id)
    for photo_id, person_ids in plan.photos_to_cover.items():
        _cover_people(ctx, photo_id, set(person_ids), actor_id)
    with ctx.uow() as uow:
        for person_id in plan.people:
            person = uow.session.get(Person, person_id)
            if person is not None:
                uow.session.delete(person)  # cascades to consent records and templates
                audit.record(uow.session, "person.purged", "person", person_id, actor_id)
        audit.record(uow.session, "purge.applied", "purge", None, actor_id, **plan.as_dict())
        uow.commit()
    return plan


def _delete_photo(ctx: Context, photo_id: int, actor_id: int | None) -> None:
    with ctx.uow() as uow:
        photo = get_photo(uow.session, photo_id)
        for pub in photo.publications:
            if pub.taken_down_at is None:
                take_down(ctx=ctx, session=uow.session, publication=pub, reason="retention")
            else:
                ctx.stores.public[Channel(pub.channel)].delete(pub.key)  # every version, to be sure
        if photo.original_key:
            ctx.stores.private.delete(photo.original_key)
        ctx.stores.private.delete(review_key(photo.sha256))
        photo.faces.clear()
        photo.covers.clear()
        photo.approvals.clear()
        photo.original_key = None
        photo.original_filename = None
        photo.camera_serial = None
        photo.status, photo.status_reason = PhotoStatus.PURGED.value, "retention"
        audit.record(uow.session, "photo.purged", "photo", photo.id, actor_id)
        uow.commit()


def _cover_people(ctx: Context, photo_id: int, person_ids: set[int], actor_id: int | None) -> None:
    """Cover the expired people in the stored original itself, and drop copies that showed them."""
    with ctx.uow() as uow:
        photo = get_photo(uow.session, photo_id)
        img = decode(ctx.stores.private.get(original_key_of(photo)), ctx.settings.max_image_pixels).pixels
        regions = [(head_region(f.top, f.right, f.bottom, f.left, img.width, img.height), True)
                   for f in photo.faces if f.person_id in person_ids]
        covered = cover(img, regions, CoverMode.SOLID)
        ctx.stores.private.put(original_key_of(photo), encode_jpeg(covered, 1 << 20, 95))
        ctx.stores.private.put(review_key(photo.sha256), review_rendition(covered), "image/jpeg")
        photo.orientation, photo.format = 1, "JPEG"  # the stored pixels are upright now
        for pub in photo.publications:
            if pub.taken_down_at is None and set(pub.shown_person_ids or []) & person_ids:
                take_down(ctx=ctx, session=uow.session, publication=pub, reason="retention")
                photo.approvals[:] = [a for a in photo.approvals if a.channel != pub.channel]
        for face in photo.faces:
            if face.person_id in person_ids:
                face.person_id, face.distance, face.margin = None, None, None
                face.near_person_ids, face.decided_by = [], "purge"
        photo.revision += 1
        audit.record(uow.session, "photo.redacted", "photo", photo.id, actor_id,
                     person_ids=sorted(person_ids))
        uow.commit()
