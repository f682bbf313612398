"""Reference photos, and faces editors confirm (when the DPO allows it), to face templates, only
for people with biometric consent who are on roll."""

from __future__ import annotations

import hashlib
from datetime import date

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from consent_db import audit
from consent_db.models import Face, FaceTemplate, Person
from gatekeeper.domain.images import decode
from gatekeeper.domain.retention import academic_year
from gatekeeper.domain.vocabulary import Role
from gatekeeper.errors import EnrolmentRefused, InvalidImage, NotFound
from gatekeeper.services.accounts.options import read
from gatekeeper.services.accounts.users import require_user_role
from gatekeeper.services.consent.gallery import second_embedding_fields
from gatekeeper.services.consent.people import get_person
from gatekeeper.services.consent.templates import (
    CONFIRMED_TEMPLATES,
    enforce_cap,
    may_hold_templates,
    provenance,
)
from gatekeeper.services.context import Context
from gatekeeper.services.records import original_key_of


def enrollable_person(session: Session, external_id: str, today: date) -> Person:
    """The person, if templates may be kept for them: biometric consent and on roll."""
    person = get_person(session, external_id)
    if not person.biometric_consent:
        raise EnrolmentRefused(f"{external_id} has no biometric consent: not enrolled")
    if not may_hold_templates(person, today):
        raise EnrolmentRefused(f"{external_id} is no longer on roll: not enrolled")
    return person


def enrol(*, ctx: Context, external_id: str, photos: list[tuple[str, bytes]],
          actor_id: int | None = None) -> int:
    """Add one template per reference photo; all photos or none. Returns the template count.
    Every photo is looked at before refusing, so the refusal names each refused photo and why
    (EnrolmentRefused.refusals)."""
    with ctx.uow() as uow:
        person = enrollable_person(uow.session, external_id, ctx.today())
        if not photos:
            raise EnrolmentRefused("no reference photo given")
        templates = []
        refusals: list[tuple[str, str]] = []
        for name, data in photos:
            try:
                img = decode(data, ctx.settings.max_image_pixels).pixels
                encoding, face = ctx.faces.encode_single(img)
            except (InvalidImage, EnrolmentRefused) as exc:
                refusals.append((name, str(exc)))
                continue
            templates.append(FaceTemplate(
                person_id=person.id, encoding=np.asarray(encoding, "<f8").tobytes(),
                source_sha256=hashlib.sha256(data).hexdigest(), quality=face.score,
                **second_embedding_fields(face),
                **provenance(person, ctx=ctx, source="reference", actor_id=actor_id),
            ))
        if refusals:
            raise EnrolmentRefused(
                "; ".join(f"{name}: {why}" for name, why in refusals)
                + f"; nothing was enrolled ({len(refusals)} of {len(photos)} photo"
                + ("" if len(photos) == 1 else "s") + " refused)", tuple(refusals))
        uow.session.add_all(templates)
        uow.flush()
        audit.record(uow.session, "person.enrolled", "person", person.id, actor_id,
                     templates=[t.id for t in templates])
        enforce_cap(uow.session, person.id, actor_id)
        uow.commit()
        return len(templates)


REASON_CHARS = 200  # the longest refusal reason (reference_refusal) is about 110


def reference_key(data: bytes) -> str:
    return f"references/{hashlib.sha256(data).hexdigest()}"


def stage_reference(*, ctx: Context, external_id: str, data: bytes,
                    actor_id: int | None) -> str:
    """Keep an uploaded reference photo privately until a worker turns it into a template
    (the web process never loads the face engine). Refuses early what enrol would refuse."""
    require_user_role(ctx=ctx, actor_id=actor_id, roles=(Role.DPO,))
    with ctx.uow() as uow:
        person = enrollable_person(uow.session, external_id, ctx.today())
    decode(data, ctx.settings.max_image_pixels)  # refuse non-images now, with the reason
    key = reference_key(data)
    ctx.stores.private.put(key, data)
    with ctx.uow() as uow:
        audit.record(uow.session, "reference.staged", "person", person.id, actor_id)
        uow.commit()
    ctx.jobs.enrol_reference(external_id, key, actor_id)
    return key


def enrol_staged(*, ctx: Context, external_id: str, key: str, actor_id: int | None) -> str:
    """Worker side: enrol a staged reference photo, then delete it; returns the outcome."""
    try:
        data = ctx.stores.private.get(key)
    except NotFound:
        return "missing"
    try:
        enrol(ctx=ctx, external_id=external_id, photos=[("reference", data)], actor_id=actor_id)
        outcome = "enrolled"
    except EnrolmentRefused as exc:
        with ctx.uow() as uow:
            person = get_person(uow.session, external_id)
            # the reason alone, never the file's name (it may name the pupil)
            reason = exc.refusals[0][1] if exc.refusals else str(exc)
            audit.record(uow.session, "reference.refused", "person", person.id, actor_id,
                         reason=reason[:REASON_CHARS])
            uow.commit()
        outcome = "refused"
    ctx.stores.private.delete(key)
    return outcome


def remove_templates(*, ctx: Context, external_id: str, actor_id: int | None) -> int:
    """Delete every face template of a person (the DPO's 'remove reference photos')."""
    require_user_role(ctx=ctx, actor_id=actor_id, roles=(Role.DPO,))
    with ctx.uow() as uow:
        person = get_person(uow.session, external_id)
        count = len(person.templates)
        for t in list(person.templates):
            audit.record(uow.session, "template.deleted", "person", person.id, actor_id,
                         template_id=t.id)
            uow.session.delete(t)
        uow.commit()
        return count


def this_years_face(face: Face, today: date, year_start: tuple[int, int]) -> bool:
    """Whether the face's photo was taken in the current academic year (its EXIF date, else the
    day it was uploaded): only such a face is a fresher template of a child. An older photo
    uploaded now would otherwise go on the person's list as this year's, and the refresh list
    would stop asking for a new reference photo."""
    photo = face.photo
    day = (photo.taken_at or photo.created_at).date()
    return academic_year(day, *year_start) == academic_year(today, *year_start)


def confirmable_person(session: Session, face: Face | None, person_id: int | None,
                       today: date, year_start: tuple[int, int]) -> Person | None:
    """The person whose template the face may become: still named by an editor as that person,
    the DPO's option on, biometric consent, on roll, the scan found the face usable, and the
    photo is of this school year."""
    if face is None or face.person_id is None or face.decided_by != "editor":
        return None
    if person_id is not None and face.person_id != person_id:
        return None
    person = session.get(Person, face.person_id)
    if person is None or not may_hold_templates(person, today) or face.quality != "ok":
        return None
    if not this_years_face(face, today, year_start):
        return None
    return person if read(session, CONFIRMED_TEMPLATES) else None


def add_confirmed_template(*, ctx: Context, face_id: int, actor_id: int | None) -> str:
    """Worker side: a face an editor named by hand becomes a template of that person (dlib and
    SFace computed again from the stored original), when the DPO's option allows it, the photo
    is of this school year and the face passes the reference photos' gates. Returns the outcome;
    idempotent."""
    with ctx.uow() as uow:
        face = uow.session.get(Face, face_id)
        person = confirmable_person(uow.session, face, None, ctx.today(), ctx.year_start)
        if face is None or person is None:
            if (face is not None and face.person_id is not None
                    and face.decided_by == "editor" and read(uow.session, CONFIRMED_TEMPLATES)
                    and not this_years_face(face, ctx.today(), ctx.year_start)):
                audit.record(uow.session, "template.refused", "person", face.person_id,
                             actor_id, face_id=face_id, reason="the photo is not of this "
                             "school year: an older face would pass for a fresh one")
                uow.commit()
                return "not this school year"
            return "not allowed"
        if uow.session.scalar(select(FaceTemplate.id).where(
                FaceTemplate.person_id == person.id, FaceTemplate.source_face_id == face_id)):
            return "exists"
        person_id, box = person.id, (face.top, face.right, face.bottom, face.left)
        rotation, photo_id, sha = face.rotation, face.photo_id, face.photo.sha256
        key = original_key_of(face.photo)
    try:
        img = decode(ctx.stores.private.get(key), ctx.settings.max_image_pixels).pixels
        found = ctx.faces.encode_at(img, box, rotation)
    except (InvalidImage, EnrolmentRefused, NotFound) as exc:
        with ctx.uow() as uow:
            audit.record(uow.session, "template.refused", "person", person_id, actor_id,
                         face_id=face_id, reason=str(exc)[:120])
            uow.commit()
        return "refused"
    with ctx.uow() as uow:  # checked again: the editor or the DPO may have changed their mind
        face = uow.session.get(Face, face_id)
        person = confirmable_person(uow.session, face, person_id, ctx.today(), ctx.year_start)
        if person is None or found.encoding is None:
            return "not allowed"
        template = FaceTemplate(
            person_id=person.id, encoding=np.asarray(found.encoding, "<f8").tobytes(),
            source_sha256=sha, quality=found.score, **second_embedding_fields(found),
            **provenance(person, ctx=ctx, source="confirmed", actor_id=actor_id,
                         source_face_id=face_id))
        uow.session.add(template)
        uow.flush()
        audit.record(uow.session, "template.added", "person", person.id, actor_id,
                     template_id=template.id, face_id=face_id, photo_id=photo_id)
        capped = template.id in enforce_cap(uow.session, person.id, actor_id)
        uow.commit()
        return "over the cap" if capped else "added"
