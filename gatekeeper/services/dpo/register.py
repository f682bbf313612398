"""The DPO's register of one person, and the subject access export built from it: every photo
in which they are identified (rendered with every other face covered, by the publishing path's
own covering), their consent history, publications and the audit events about them."""

from __future__ import annotations

import hashlib
import io
import json
import os
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from consent_db.models import AuditEvent, ConsentDecision, Face, Person, Photo
from gatekeeper.adapters.documents import render_document
from gatekeeper.adapters.pdf import html_to_pdf
from gatekeeper.domain.names import names_found
from gatekeeper.domain.policy import PhotoDecision, Verdict, decide
from gatekeeper.domain.redact import Region, hidden_by_covers
from gatekeeper.domain.spans import Box, box_at, lifted_on, regions_on
from gatekeeper.domain.vocabulary import Channel, NameRule, Role
from gatekeeper.services.accounts.users import Actor, require_role
from gatekeeper.services.consent.people import get_person
from gatekeeper.services.context import Context
from gatekeeper.services.facts import cover_regions, face_facts, person_facts
from gatekeeper.services.photos.publish import render
from gatekeeper.services.records import original_key_of
from gatekeeper.services.stages import stage_of
from gatekeeper.services.video.publish import sightings_of


def _photos_of(session: Session, person: Person, eager: bool = False) -> list[Photo]:
    """The photos in which `person` is identified; `eager` loads faces and covers at once (the
    export's render threads must not touch the session)."""
    ids = select(Face.photo_id).where(Face.person_id == person.id)
    q = select(Photo).where(Photo.id.in_(ids)).order_by(Photo.id)
    if eager:
        q = q.options(selectinload(Photo.faces), selectinload(Photo.covers))
    return list(session.scalars(q))


def _covers_sparing(photo: Photo, person_id: int) -> list[Region]:
    """The editors' covers of the photo, less those that hide the requester's own face: a
    subject access export gives the person their own image (everyone else stays covered).
    On a video a cover is lifted only on the frames where it hides them there: they walk
    on, and what it hid where they stood (a name badge, someone else) stays covered."""
    mine = [f for f in photo.faces if f.person_id == person_id]
    boxes = cover_regions(photo)  # a video's timed cover stays on its own frames
    if photo.media != "video":
        own = [Region(f.left, f.top, f.right, f.bottom) for f in mine]
        return [b for b in boxes if not any(hidden_by_covers(face, [b]) for face in own)]
    tracks = [sightings_of(photo, f) for f in mine]
    out: list[Region] = []
    for cover in boxes:
        out += lifted_on(cover, _hiding(cover, tracks))
    return out


def _hiding(cover: Region, tracks: list[list[tuple[int, Box]]]) -> set[int]:
    """The frames on which `cover` hides one of `tracks` (where each is, between its sampled
    frames as drawn), within the frames the cover reaches."""
    out: set[int] = set()
    for sightings in tracks:
        for frame in range(sightings[0][0], sightings[-1][0] + 1):
            if regions_on([cover], frame):
                at = box_at(sightings, frame)
                if at is not None and hidden_by_covers(
                        Region(at[3], at[0], at[1], at[2]), [cover]):
                    out.add(frame)
    return out


def _events_about(session: Session, person: Person, photo_ids: list[int]) -> list[AuditEvent]:
    consent_ids = [c.id for c in person.consents]
    return list(session.scalars(select(AuditEvent).where(or_(
        (AuditEvent.entity == "person") & (AuditEvent.entity_id == person.id),
        (AuditEvent.entity == "consent") & AuditEvent.entity_id.in_(consent_ids or [0]),
        (AuditEvent.entity == "photo") & AuditEvent.entity_id.in_(photo_ids or [0]),
    )).order_by(AuditEvent.id)))


def _own_ids_only(details: dict[str, Any], person_id: int) -> dict[str, Any]:
    """Audit details with every other person's id removed."""
    out: dict[str, Any] = {}
    for key, value in details.items():
        if key in ("person_id",) and value != person_id:
            continue
        if key in ("person_ids", "shown_person_ids", "people") and isinstance(value, list):
            value = [v for v in value if v == person_id]
        if key == "by" and isinstance(value, str) and value.startswith("contact:"):
            value = "a parent or carer"  # the contact's own id is theirs, not the subject's
        out[key] = value
    return out


def person_register(*, ctx: Context, external_id: str) -> dict[str, Any]:
    """Everything Gatekeeper holds about one person, as ids, dates and decisions."""
    with ctx.uow() as uow:
        person = get_person(uow.session, external_id)
        photos = _photos_of(uow.session, person)
        on = ctx.today()
        roll = [(g, f) for g, f, i in uow.session.execute(
            select(Person.given_name, Person.family_name, Person.id)) if i != person.id]
        photo_rows = []
        for photo in photos:
            facts, people = face_facts(photo), person_facts(uow.session, photo)
            channels = {}
            for channel in Channel:
                d = decide(facts, people, channel, on, ctx.year_start)
                mine = [f.id for f in photo.faces if f.person_id == person.id]
                channels[channel.value] = ("blocked" if d.blocked else
                                           "shown" if any(d.faces.get(i) is Verdict.SHOW
                                                          for i in mine) else "covered")
            photo_rows.append({
                "photo_id": photo.id, "status": photo.status,
                "stage": stage_of(photo).as_dict(),
                "event": (f"event {photo.event_id}" if names_found(
                    photo.event.name, roll, NameRule.NO_FULL_NAME) else photo.event.name),
                "taken_at": photo.taken_at.isoformat() if photo.taken_at else None,
                "identified_by": sorted({f.decided_by for f in photo.faces
                                         if f.person_id == person.id}),
                "channels": channels,
                "publications": [
                    {"channel": p.channel, "published_at": p.published_at.isoformat(),
                     "showed_them": person.id in (p.shown_person_ids or []),
                     "taken_down_at": p.taken_down_at.isoformat() if p.taken_down_at else None,
                     "taken_down_reason": p.taken_down_reason}
                    for p in photo.publications],
            })
        events = _events_about(uow.session, person, [p.id for p in photos])
        return {
            "external_id": person.external_id, "given_name": person.given_name,
            "family_name": person.family_name, "kind": person.kind,
            "year_group": person.year_group,
            "joined_on": person.joined_on.isoformat() if person.joined_on else None,
            "left_on": person.left_on.isoformat() if person.left_on else None,
            "biometric_consent": person.biometric_consent,
            "safeguarding_no_photo": person.safeguarding_no_photo,
            "consent_history": [
                {"academic_year": c.academic_year, "kind": c.channel, "granted": c.granted,
                 "recorded_on": c.recorded_on.isoformat(),
                 "withdrawn_on": c.withdrawn_on.isoformat() if c.withdrawn_on else None,
                 "evidence": c.evidence, "recorded_at": c.recorded_at.isoformat()}
                for c in sorted(person.consents, key=lambda c: (c.academic_year, c.channel))],
            "face_templates": [{"created_at": t.created_at.isoformat(), "quality": t.quality,
                                "academic_year": t.academic_year, "age_band": t.age_band,
                                "source": t.source} for t in person.templates],
            "email": person.email,
            "portal_answers": [
                {"academic_year": d.academic_year, "use": d.channel, "granted": d.granted,
                 "by": "the pupil" if d.by_pupil else "a parent or carer",
                 "decided_at": d.decided_at.isoformat(),
                 "form_sha256": hashlib.sha256(d.form_text.encode()).hexdigest()}
                for d in uow.session.scalars(select(ConsentDecision).where(
                    ConsentDecision.person_id == person.id).order_by(ConsentDecision.id))],
            "photos": photo_rows,
            "audit": [{"at": e.at.isoformat(), "action": e.action, "entity": e.entity,
                       "record": e.entity_id, "details": _own_ids_only(e.details, person.id)}
                      for e in events],
        }


@dataclass(frozen=True)
class Export:
    external_id: str
    files: int
    photos: int
    data: bytes


RENDER_THREADS = min(4, os.cpu_count() or 1)  # decoding and encoding release the GIL


def subject_access_export(*, ctx: Context, external_id: str, user: Actor) -> Export:
    """The ZIP a person (or their parent) receives: summary (HTML and PDF), photos with everyone
    else covered, consent, publications, audit events, and a manifest with the SHA-256 of every
    file. Photos are rendered on a few threads and written to the ZIP as they come."""
    require_role(user, Role.DPO)
    register = person_register(ctx=ctx, external_id=external_id)
    manifest: dict[str, str] = {}
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:  # JPEGs do not compress

        def add(name: str, data: bytes) -> None:
            manifest[name] = hashlib.sha256(data).hexdigest()
            zf.writestr(name, data)

        with ctx.uow() as uow:
            person = get_person(uow.session, external_id)
            photos = [p for p in _photos_of(uow.session, person, eager=True)
                      if p.original_key is not None]
            jobs = [(photo, PhotoDecision(None, {
                f.id: Verdict.SHOW if f.person_id == person.id else Verdict.COVER
                for f in photo.faces})) for photo in photos]

            originals = ctx.stores.private  # built here, once, not by the threads

            def one(job: tuple[Photo, PhotoDecision]) -> bytes:
                photo, only_them = job
                return render(ctx=ctx, photo=photo, decision=only_them, channel=Channel.ONLINE,
                              data=originals.get(original_key_of(photo)),
                              covers=_covers_sparing(photo, person.id),
                              keep_sound=False)  # sound can speak other people's names

            with ThreadPoolExecutor(RENDER_THREADS) as pool:
                for (photo, _), data in zip(jobs, pool.map(one, jobs), strict=True):
                    ext = "mp4" if photo.media == "video" else "jpg"
                    add(f"photos/photo-{photo.id:06d}.{ext}", data)
        add("register.json", json.dumps(register, indent=2, sort_keys=True).encode())
        summary = _summary_html(register, [*manifest, "summary.html", "summary.pdf"])
        add("summary.html", summary.encode())
        add("summary.pdf", html_to_pdf(summary))
        zf.writestr("manifest.json", json.dumps(dict(sorted(manifest.items())), indent=2))
    return Export(external_id, len(manifest) + 1, len(jobs), buf.getvalue())


def _summary_html(register: dict[str, Any], names: list[str]) -> str:
    """The export's readable summary, from the document templates like every printed page."""
    return render_document(
        "subject_access.html", r=register, names=sorted(names),
        title=f"Subject access: {register['external_id']}",
        footer="Gatekeeper - subject access export")
