"""Face templates over time: their provenance (age band, academic year, source), the refresh list
for the DPO, the per-person cap, and removing one wrong template with its effect audited.

Removing a template fails closed: every face the scanner identified automatically as that person
in a photo still under review (approved or live included) is un-identified, so it is covered; the
photo's approvals reset and its revision goes up, so a live copy is re-rendered by the sweep
covering at least as much. Faces an editor named by hand stay as the editor decided.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from consent_db import audit
from consent_db.models import Face, FaceTemplate, Person, Photo, PhotoStatus
from gatekeeper.domain.names import names_found
from gatekeeper.domain.retention import academic_year, on_roll
from gatekeeper.domain.safe_csv import to_csv
from gatekeeper.domain.templates import Kept, age_band, is_stale, over_cap
from gatekeeper.domain.vocabulary import NameRule, PersonKind, Role
from gatekeeper.errors import InvalidInput, NotFound
from gatekeeper.services import rechecks
from gatekeeper.services.accounts.options import define
from gatekeeper.services.accounts.users import Actor, require_role
from gatekeeper.services.consent.safeguarding import redecide_block
from gatekeeper.services.context import Context
from gatekeeper.services.records import on_roll_clause

CONFIRMED_TEMPLATES = define("confirmed_faces_become_templates", False,
                             "Faces editors confirm become templates")


def may_hold_templates(person: Person, today: date) -> bool:
    """Invariant 6: biometric consent and on roll."""
    return person.biometric_consent and (on_roll(person.left_on, today))


def provenance(person: Person, *, ctx: Context, source: str, actor_id: int | None,
               source_face_id: int | None = None) -> dict[str, object]:
    """The provenance columns of a template made today for `person`."""
    return {"age_band": age_band(person.kind, person.year_group),
            "academic_year": academic_year(ctx.today(), *ctx.year_start),
            "source": source, "source_face_id": source_face_id, "added_by_id": actor_id}


def enforce_cap(session: Session, person_id: int, actor_id: int | None) -> list[int]:
    """Delete the templates over the per-person cap (oldest confirmed ones first), audited."""
    rows = session.scalars(select(FaceTemplate).where(FaceTemplate.person_id == person_id)).all()
    doomed = set(over_cap([Kept(t.id, t.source, t.created_at) for t in rows]))
    for t in rows:
        if t.id in doomed:
            audit.record(session, "template.deleted", "person", person_id, actor_id,
                         template_id=t.id, reason="cap")
            session.delete(t)
    return sorted(doomed)


def template_rows(session: Session, person_id: int, year_start: tuple[int, int],
                  today: date) -> list[dict[str, object]]:
    """The person page's list: when each template was made, at what age, from what; newest first."""
    current = academic_year(today, *year_start)
    rows = session.scalars(select(FaceTemplate).where(FaceTemplate.person_id == person_id)
                           .order_by(FaceTemplate.created_at.desc(), FaceTemplate.id.desc()))
    out = []
    for t in rows:
        year = t.academic_year or academic_year(t.created_at.date(), *year_start)
        out.append({"id": t.id, "made_on": t.created_at.date().isoformat(), "academic_year": year,
                    "age_band": t.age_band or "", "source": t.source,
                    "source_face_id": t.source_face_id, "stale": is_stale(year, current),
                    "two_models": t.sface_encoding is not None})
    return out


@dataclass(frozen=True)
class StaleRow:
    external_id: str
    given_name: str
    family_name: str
    year_group: str
    age_band: str  # the band the person is in now
    templates: int
    newest_on: date | None  # when the newest template was made; None: no template at all
    newest_year: str | None


def stale_templates(*, ctx: Context) -> list[StaleRow]:
    """Pupils on roll with biometric consent whose newest template was made before the current
    academic year, or who have none: the DPO's list of reference photos to take again."""
    today = ctx.today()
    current = academic_year(today, *ctx.year_start)
    with ctx.uow() as uow:
        made: dict[int, list[tuple[date, str]]] = {}
        for person_id, created_at, year in uow.session.execute(
                select(FaceTemplate.person_id, FaceTemplate.created_at,
                       FaceTemplate.academic_year)):
            day = created_at.date()
            made.setdefault(person_id, []).append(
                (day, year or academic_year(day, *ctx.year_start)))
        out = []
        for p in uow.session.scalars(select(Person).where(
                Person.kind == PersonKind.PUPIL, Person.biometric_consent.is_(True),
                on_roll_clause(today))
                .order_by(Person.year_group, Person.family_name, Person.given_name)):
            mine = made.get(p.id, [])
            newest = max(mine) if mine else None
            if newest is not None and not is_stale(max(y for _, y in mine), current):
                continue
            out.append(StaleRow(p.external_id, p.given_name, p.family_name, p.year_group or "",
                                age_band(p.kind, p.year_group) or "", len(mine),
                                newest[0] if newest else None,
                                max(y for _, y in mine) if mine else None))
        return out


def stale_csv(rows: list[StaleRow]) -> str:
    """Pupils whose templates are stale, as CSV; names come from the MIS, so formulas are
    neutralised."""
    return to_csv([("external_id", "given_name", "family_name", "year_group", "age_band",
                    "templates", "newest_template_on", "newest_template_year"),
                   *((r.external_id, r.given_name, r.family_name, r.year_group, r.age_band,
                      r.templates, r.newest_on.isoformat() if r.newest_on else "",
                      r.newest_year or "") for r in rows)])


@dataclass(frozen=True)
class TemplateRemoved:
    template_id: int
    external_id: str
    faces_covered: int
    photo_ids: tuple[int, ...]


def unidentify_auto_matches(session: Session, person_id: int,
                            actor_id: int | None) -> tuple[int, list[int]]:
    """Withdraw every identification of the person that a template made (in any photo not yet
    purged): those faces become unknown, so covered, until an editor names them by eye. Each
    photo's approvals reset and its revision goes up, so live copies are re-rendered covering
    at least as much; a photo blocked by a flag only through these faces is re-decided."""
    faces = session.scalars(select(Face).join(Photo).where(
        Face.person_id == person_id, Face.decided_by == "auto",
        Photo.status != PhotoStatus.PURGED.value).order_by(Face.id)).all()
    photos: dict[int, Photo] = {}
    for face in faces:
        face.person_id, face.distance, face.margin = None, None, None
        photos[face.photo_id] = face.photo
    session.flush()
    for photo in photos.values():
        photo.approvals.clear()
        photo.revision += 1
        redecide_block(session, photo, actor_id)
        audit.record(session, "photo.faces_unidentified", "photo", photo.id, actor_id,
                     faces=[f.id for f in faces if f.photo_id == photo.id])
    rechecks.mark(session, photos, "template")
    return len(faces), sorted(photos)


def drop_contradicted(session: Session, face: Face, actor_id: int | None) -> set[int]:
    """An editor names a face again: a template made from it for someone else goes (the
    confirmation it came from is contradicted), with the same fail-closed effect as removing it.
    Returns the photos whose faces it un-identified."""
    doomed = [t for t in session.scalars(select(FaceTemplate).where(
        FaceTemplate.source_face_id == face.id)) if t.person_id != face.person_id]
    touched: set[int] = set()
    for t in doomed:
        session.delete(t)
        session.flush()
        covered, photo_ids = unidentify_auto_matches(session, t.person_id, actor_id)
        touched.update(photo_ids)
        audit.record(session, "template.removed", "person", t.person_id, actor_id,
                     template_id=t.id, source=t.source, source_face_id=face.id,
                     reason="the editor named the face again", faces_covered=covered,
                     photo_ids=photo_ids)
    return touched


def remove_template(*, ctx: Context, template_id: int, reason: str,
                    user: Actor) -> TemplateRemoved:
    """The DPO deletes one template (from the wrong person, a bad photo); the faces it may have
    identified are covered (fail closed) and the effect is audited."""
    require_role(user, Role.DPO)
    reason = reason.strip()
    if not reason:
        raise InvalidInput("say why the template is removed")
    with ctx.uow() as uow:
        template = uow.session.get(FaceTemplate, template_id)
        if template is None:
            raise NotFound(f"no face template {template_id}")
        people = uow.session.execute(select(Person.given_name, Person.family_name)).all()
        if names_found(reason, people, NameRule.NO_FAMILY_NAME):
            raise InvalidInput("the reason goes into the audit log, which names no one: "
                               "write it without names (e.g. 'wrong person, see face 12')")
        person = template.person
        uow.session.delete(template)
        uow.flush()
        covered, photo_ids = unidentify_auto_matches(uow.session, person.id, user.id)
        audit.record(uow.session, "template.removed", "person", person.id, user.id,
                     template_id=template_id, source=template.source,
                     source_face_id=template.source_face_id, reason=reason[:200],
                     faces_covered=covered, photo_ids=photo_ids)
        uow.commit()
        removed = TemplateRemoved(template_id, person.external_id, covered, tuple(photo_ids))
    ctx.jobs.reconcile(list(photo_ids))
    return removed
