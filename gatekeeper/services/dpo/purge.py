"""The retention purge: nothing of a person survives their retention date (invariant 7).

For every person past their date: each photo they are in is either covered in place (someone
still within retention is also identified in it) or deleted with its published copies; their
templates, consent records and person record go. The plan names ids and counts, never names.
"""

from __future__ import annotations

import secrets
from collections import Counter
from dataclasses import dataclass, field
from datetime import date

from PIL import Image
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from consent_db import audit
from consent_db.models import (
    ConsentDecision,
    ConsentRecord,
    Contact,
    ContactChild,
    Face,
    Person,
    Photo,
    PhotoStatus,
)
from gatekeeper.domain.images import decode
from gatekeeper.domain.redact import cover, head_region
from gatekeeper.domain.rendition import encode_jpeg  # originals covered in place are kept as JPEG
from gatekeeper.domain.retention import retention_date
from gatekeeper.domain.vocabulary import ConsentKind, CoverMode, Role
from gatekeeper.services import outbox, rechecks
from gatekeeper.services.accounts.users import Actor, require_role
from gatekeeper.services.consent.people import get_person
from gatekeeper.services.context import Context
from gatekeeper.services.dpo import runs
from gatekeeper.services.photos import live
from gatekeeper.services.photos.ingest import original_key
from gatekeeper.services.photos.pictures import review_key, review_rendition
from gatekeeper.services.photos.publish import take_down
from gatekeeper.services.portal import letters
from gatekeeper.services.records import get_photo, original_key_of
from gatekeeper.services.stages import ERASED, RETENTION
from gatekeeper.services.video import previews


@dataclass
class PurgePlan:
    today: date
    people: list[int] = field(default_factory=list)
    photos_to_cover: dict[int, list[int]] = field(default_factory=dict)  # photo -> person ids
    photos_to_delete: list[int] = field(default_factory=list)
    videos: list[int] = field(default_factory=list)  # which of those photos are videos

    def as_dict(self) -> dict[str, object]:
        return {"today": self.today.isoformat(), "people": self.people,
                "photos_to_cover": {str(k): v for k, v in self.photos_to_cover.items()},
                "photos_to_delete": self.photos_to_delete, "videos": self.videos}


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
        return _plan_for(uow.session, PurgePlan(today=today,
                                                people=expired_people(uow.session, today, ctx)))


def _plan_for(session: Session, plan: PurgePlan) -> PurgePlan:
    """Fill in the photos to cover in place (someone else stays) or delete, for plan.people."""
    doomed = set(plan.people)
    if doomed:
        touched = select(Face.photo_id).where(Face.person_id.in_(doomed)).scalar_subquery()
        identified: dict[int, set[int]] = {}
        videos: set[int] = set()
        for photo_id, person_id, media in session.execute(
                select(Face.photo_id, Face.person_id, Photo.media).join(Photo)
                .where(Face.photo_id.in_(touched), Face.person_id.is_not(None),
                       Photo.status != PhotoStatus.PURGED.value)):
            if person_id is not None:
                identified.setdefault(photo_id, set()).add(person_id)
            if media == "video":
                videos.add(photo_id)
        for photo_id in sorted(identified):
            ids = identified[photo_id]
            if ids - doomed:  # a video too: its frames rebuilt with their tracks covered
                plan.photos_to_cover[photo_id] = sorted(ids & doomed)
            else:
                plan.photos_to_delete.append(photo_id)
        plan.videos = sorted(videos & (set(plan.photos_to_cover) | set(plan.photos_to_delete)))
    return plan


def apply_purge(*, ctx: Context, today: date, actor_id: int | None = None) -> PurgePlan:
    """Carry out the plan for `today`, one photo per unit of work, then the people; the run's
    deletion certificate goes into the audit chain."""
    outbox.process(ctx=ctx)  # first what an interrupted run left queued
    plan = plan_purge(ctx=ctx, today=today)
    _carry_out(ctx, plan, actor_id, kind="purge")
    return plan


def plan_erasure(*, ctx: Context, external_id: str, user: Actor | None = None) -> PurgePlan:
    """What erasing one person on request would do (the purge's rules); changes nothing. With
    `user`, only for the DPO (the operator at the server, or a DPO page, may always look)."""
    if user is not None:
        require_role(user, Role.DPO)
    with ctx.uow() as uow:
        person = get_person(uow.session, external_id)
        return _plan_for(uow.session, PurgePlan(today=ctx.today(), people=[person.id]))


def erase_person(*, ctx: Context, external_id: str, user: Actor) -> PurgePlan:
    """Erasure or objection on request (DPO only): the person's photos covered in place where
    others remain, deleted otherwise, publications taken down, then templates, consent and the
    record; a deletion certificate goes into the audit chain."""
    require_role(user, Role.DPO)
    outbox.process(ctx=ctx)  # first what an interrupted run left queued (even a finished one)
    plan = plan_erasure(ctx=ctx, external_id=external_id)
    _carry_out(ctx, plan, user.id, kind="erasure")
    return plan


def _carry_out(ctx: Context, plan: PurgePlan, actor_id: int | None, kind: str) -> None:
    """Photos one unit of work each, then the people and the certificate in one last commit.
    An interrupted run is resumed: its photos are done already, and the certificate lists
    what every attempt of the run deleted."""
    why = ERASED if kind == "erasure" else RETENTION
    run = _start_or_resume(ctx, plan, actor_id, kind)
    for photo_id in plan.photos_to_delete:
        _delete_photo(ctx, photo_id, actor_id, why, run)
    for photo_id, person_ids in plan.photos_to_cover.items():
        _cover_people(ctx, photo_id, set(person_ids), actor_id, why, run)
    counts = Counter[str]()
    with ctx.uow() as uow:
        done = runs.photos_done(uow.session, run)
        if run is not None:  # what every attempt of the run did, read back from the chain
            plan.people = sorted(set(plan.people) | set(done.people))
            plan.photos_to_delete, plan.photos_to_cover = sorted(done.deleted), done.covered
            counts.update(done.counts)
        doomed = set(plan.people)
        addresses: set[str] = set()  # whose undelivered mail goes with them
        for person_id in plan.people:
            person = uow.session.get(Person, person_id)
            if person is not None:
                addresses |= {person.email} if person.email else set()
                counts["consent_records"] += len(person.consents)
                counts["face_templates"] += len(person.templates)
                counts.update(_portal_records(uow.session, person_id))
                uow.session.delete(person)  # cascades: consent, templates, portal answers, links
                counts["people"] += 1
                audit.record(uow.session, f"person.{'erased' if kind == 'erasure' else 'purged'}",
                             "person", person_id, actor_id)
        uow.session.flush()
        dropped = _drop_contacts_without_children(uow.session, actor_id)
        counts["contacts"] += len(dropped)
        addresses |= set(dropped)
        faces = uow.session.scalars(select(Face)).all() if doomed else []
        for face in faces:
            near = [p for p in face.near_person_ids or [] if p not in doomed]
            if near != (face.near_person_ids or []):
                face.near_person_ids = near  # no id of theirs is left anywhere
        audit.record(uow.session, f"{kind}.applied", "purge", None, actor_id, run=run,
                     **plan.as_dict())
        videos = _videos_among(uow.session, [*plan.photos_to_delete, *plan.photos_to_cover])
        audit.record(uow.session, "certificate.issued", "certificate", None, actor_id,
                     kind=kind, today=plan.today.isoformat(), people=plan.people,
                     photos_deleted=plan.photos_to_delete,
                     photos_covered=sorted(plan.photos_to_cover),
                     videos_deleted=[i for i in plan.photos_to_delete if i in videos],
                     videos_covered=sorted(i for i in plan.photos_to_cover if i in videos),
                     deleted=dict(sorted(counts.items())),
                     **({"run": run, "attempts": done.attempts} if run else {}))
        # before the commit: a crash between the two leaves the mail gone and the records,
        # which a new run deletes; the other way round would leave the mail for ever
        letters.forget_undelivered(ctx.settings, addresses)
        uow.commit()
    # live copies of the photos covered in place follow their new original now (a copy made
    # before showed no one of them, but it was rendered from the old pixels)
    live.settle(ctx=ctx, photo_ids=plan.photos_to_cover)
    outbox.process(ctx=ctx)  # what a failed store left queued: the sweep retries the rest


def _videos_among(session: Session, photo_ids: list[int]) -> set[int]:
    """Which of the photos are videos (a purged photo's row keeps its media)."""
    if not photo_ids:
        return set()
    return set(session.scalars(select(Photo.id).where(Photo.id.in_(photo_ids),
                                                      Photo.media == "video")))


def _start_or_resume(ctx: Context, plan: PurgePlan, actor_id: int | None,
                     kind: str) -> int | None:
    """The run's id: an interrupted run of the same kind (and, for an erasure, the same person)
    is resumed; a new run with photos to do is recorded before the first of them."""
    with ctx.uow() as uow:
        run = runs.open_run(uow.session, kind, None if kind == "purge" else plan.people)
        if run is not None:
            audit.record(uow.session, f"{kind}.resumed", "purge", run, actor_id)
        elif plan.photos_to_delete or plan.photos_to_cover:
            started = audit.record(uow.session, f"{kind}.started", "purge", None, actor_id,
                                   **plan.as_dict())
            uow.flush()
            run = started.id
        else:
            return None  # nothing before the last commit: nothing to resume
        uow.commit()
        return run


def _portal_records(session: Session, person_id: int) -> Counter[str]:
    """What the portal holds about the person (deleted with them by the cascade)."""
    return Counter({
        "portal_answers": session.scalar(select(func.count()).select_from(ConsentDecision)
                                         .where(ConsentDecision.person_id == person_id)) or 0,
        "contact_links": session.scalar(select(func.count()).select_from(ContactChild)
                                        .where(ContactChild.person_id == person_id)) or 0})


def _drop_contacts_without_children(session: Session, actor_id: int | None) -> list[str]:
    """A parent's contact with no child left at the school is kept for nothing: deleted.
    Returns their addresses."""
    lonely = session.scalars(select(Contact).where(~Contact.children.any())).all()
    for contact in lonely:
        audit.record(session, "contact.removed", "contact", contact.id, actor_id,
                     reason="no child left")
        session.delete(contact)
    return [c.email for c in lonely]


def covered_key(sha256: str) -> str:
    """A new key for an original covered in place (the old object goes through the outbox)."""
    return f"{original_key(sha256)}.{secrets.token_hex(8)}"


def _delete_photo(ctx: Context, photo_id: int, actor_id: int | None, why: str,
                  run: int | None) -> None:
    """Purge one photo in one commit; its objects are deleted only after it (the outbox)."""
    counts = Counter[str]()
    with ctx.uow() as uow:
        photo = get_photo(uow.session, photo_id)
        if photo.status == PhotoStatus.PURGED:
            return  # done by an earlier attempt, or by someone else meanwhile
        for pub in photo.publications:
            if pub.taken_down_at is None:
                take_down(ctx=ctx, session=uow.session, publication=pub, reason=why)
            else:  # taken down before: delete again, every version
                outbox.delete_after_commit(uow.session, outbox.public(pub.channel), pub.key)
            counts["public_objects"] += 1
        if photo.original_key:
            outbox.delete_after_commit(uow.session, outbox.PRIVATE, photo.original_key)
            counts["originals"] += 1
        outbox.delete_after_commit(uow.session, outbox.PRIVATE, review_key(photo.sha256))
        previews.forget_after_commit(uow.session, photo)
        counts["review_renditions"] += 1
        counts["faces"] += len(photo.faces)
        counts["photos_deleted"] += 1
        photo.faces.clear()
        photo.covers.clear()
        photo.approvals.clear()
        photo.original_key = None
        photo.original_filename = None
        photo.camera_serial = None
        photo.status, photo.status_reason = PhotoStatus.PURGED.value, why
        audit.record(uow.session, "photo.purged", "photo", photo.id, actor_id,
                     **runs.photo_details(run, counts))
        uow.commit()
    outbox.after_commit(ctx=ctx, session=uow.session)


def _covered_original(ctx: Context, photo: Photo, person_ids: set[int],
                      data: bytes) -> tuple[bytes, Image.Image]:
    """The original with `person_ids` covered (a photo as JPEG; a video rebuilt with their
    tracks covered on every frame) and its covered picture for the review copy."""
    if photo.media == "video":
        from gatekeeper.services.video.redact import cover_people  # deferred: PyAV

        rebuilt = cover_people(ctx=ctx, photo=photo, person_ids=person_ids, data=data)
        return rebuilt.data, Image.fromarray(rebuilt.middle)
    img = decode(data, ctx.settings.max_image_pixels).pixels
    regions = [(head_region(f.top, f.right, f.bottom, f.left, img.width, img.height), True)
               for f in photo.faces if f.person_id in person_ids]
    covered = cover(img, regions, CoverMode.SOLID)
    return encode_jpeg(covered, 1 << 20, 95), covered


def _cover_people(ctx: Context, photo_id: int, person_ids: set[int],
                  actor_id: int | None, why: str, run: int | None) -> None:
    """Cover the expired people in a new copy of the original, switch the photo to it in one
    commit and drop copies that showed them; the old original goes after that commit."""
    counts = Counter[str]({"photos_covered_in_place": 1, "originals_rewritten": 1})
    with ctx.uow() as uow:
        sha = get_photo(uow.session, photo_id).sha256
    new_key = covered_key(sha)
    outbox.write_guard(ctx, outbox.PRIVATE, new_key)  # an orphan if we die before the commit
    with ctx.uow() as uow:
        photo = get_photo(uow.session, photo_id)
        if not any(f.person_id in person_ids for f in photo.faces):
            return  # covered by an earlier attempt (the guard removes the unused key)
        old_key = original_key_of(photo)
        original, covered = _covered_original(ctx, photo, person_ids,
                                              ctx.stores.private.get(old_key))
        ctx.stores.private.put(new_key, original)
        # the review copy is a cache under a fixed key: written covered before the commit,
        # it errs towards covering if the commit never comes (the re-run covers the original)
        ctx.stores.private.put(review_key(photo.sha256), review_rendition(covered), "image/jpeg")
        outbox.claim(uow.session, outbox.PRIVATE, new_key)
        outbox.delete_after_commit(uow.session, outbox.PRIVATE, old_key)
        photo.original_key = new_key
        if photo.media == "video":
            photo.format = "mp4"  # rebuilt upright, without sound
        else:
            photo.orientation, photo.format = 1, "JPEG"  # the stored pixels are upright now
        for pub in photo.publications:
            if pub.taken_down_at is None and set(pub.shown_person_ids or []) & person_ids:
                take_down(ctx=ctx, session=uow.session, publication=pub, reason=why)
                photo.approvals[:] = [a for a in photo.approvals if a.channel != pub.channel]
                counts["public_objects"] += 1
        for face in photo.faces:
            if face.person_id in person_ids:
                face.person_id, face.distance, face.margin = None, None, None
                face.near_person_ids, face.decided_by = [], "purge"
        photo.revision += 1  # copies that did not show them are re-rendered from the new original
        previews.forget_after_commit(uow.session, photo)  # rendered from the old original
        rechecks.mark(uow.session, [photo.id], "erasure" if why == ERASED else "retention")
        audit.record(uow.session, "photo.redacted", "photo", photo.id, actor_id,
                     person_ids=sorted(person_ids), **runs.photo_details(run, counts))
        uow.commit()
    outbox.after_commit(ctx=ctx, session=uow.session)
