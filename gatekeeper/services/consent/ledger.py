"""One write path per fact about a person: consent, face-recognition (biometric) consent, the
safeguarding flag and the leaving date.

Every door (people.csv and consent.csv, the DPO's forms, the parents' portal, a pupil's refusal)
calls these functions inside its own unit of work. Each records the change with its evidence and
actor in the audit chain, and names the photos it affects in the dirty set (`rechecks`); the
door queues `ctx.jobs.reconcile(effect.photo_ids)` after its commit so that every live copy
follows within seconds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from consent_db import audit
from consent_db.models import ConsentDecision, ConsentRecord, FaceTemplate, Person
from gatekeeper.domain.retention import on_roll
from gatekeeper.domain.vocabulary import ConsentKind, ConsentUse
from gatekeeper.services import rechecks
from gatekeeper.services.consent.safeguarding import redecide_blocks
from gatekeeper.services.consent.templates import unidentify_auto_matches


@dataclass
class Effect:
    """What a change of fact touched: the photos to reconcile, and what it deleted."""

    photo_ids: set[int] = field(default_factory=set)
    templates_deleted: int = 0
    faces_unidentified: int = 0
    photos_blocked: int = 0
    photos_unblocked: int = 0

    def add(self, other: Effect) -> Effect:
        self.photo_ids |= other.photo_ids
        self.templates_deleted += other.templates_deleted
        self.faces_unidentified += other.faces_unidentified
        self.photos_blocked += other.photos_blocked
        self.photos_unblocked += other.photos_unblocked
        return self


@dataclass(frozen=True)
class ConsentChange:
    """One consent answer applied: what the record said before and what it says now."""

    record: ConsentRecord
    before: str  # "(none)", "granted", "refused", "withdrawn"
    after: str  # the same words; equal to `before` when nothing changed
    effect: Effect

    @property
    def changed(self) -> bool:
        return self.before != self.after


def _state(record: ConsentRecord | None) -> str:
    if record is None:
        return "(none)"
    return "granted" if record.granted else "withdrawn" if record.withdrawn_on else "refused"


def portal_answer_since(session: Session, person_id: int, year: str, use: str,
                        recorded_on: date, granted: bool) -> date | None:
    """The day of a portal answer that a paper form dated `recorded_on` may not override (an
    older form never overrides an answer given since; on the same day only a refusal does:
    fail closed), or None."""
    answered = session.scalar(select(func.max(ConsentDecision.decided_at)).where(
        ConsentDecision.person_id == person_id, ConsentDecision.academic_year == year,
        ConsentDecision.channel == use))
    if answered is None:
        return None
    day = answered.date()
    return day if portal_overrides(day, recorded_on, granted) else None


def portal_overrides(answered: date, recorded_on: date, granted: bool) -> bool:
    """Whether a portal answer given on `answered` stands against a paper answer."""
    return answered > recorded_on or (answered == recorded_on and granted)


def set_consent(session: Session, *, person: Person, year: str, kind: ConsentKind,
                granted: bool, on: date, evidence: str, actor_id: int | None,
                record: ConsentRecord | None = None) -> ConsentChange:
    """One consent answer for a person, academic year and use: create, re-grant, withdraw from
    `on`, or leave unchanged. A refusal or withdrawal names the person's photos to reconcile.
    `record`: the current record when the caller has already loaded it."""
    if record is None:
        record = session.scalar(select(ConsentRecord).where(
            ConsentRecord.person_id == person.id, ConsentRecord.academic_year == year,
            ConsentRecord.channel == kind.value))
    before = _state(record)
    if record is None:
        record = ConsentRecord(person_id=person.id, academic_year=year, channel=kind.value,
                               granted=granted, recorded_on=on, evidence=evidence,
                               recorded_by_id=actor_id)
        session.add(record)
        session.flush()
        action = "consent.granted" if granted else "consent.refused"
    elif granted == record.granted:
        return ConsentChange(record, before, before, Effect())  # the same answer again
    elif granted:  # granted again after a refusal or withdrawal
        record.granted, record.withdrawn_on, record.recorded_on = True, None, on
        record.evidence = record.evidence or evidence  # the first form's stays
        action = "consent.granted"
    else:  # a withdrawal of an earlier grant, effective from `on`
        record.granted, record.withdrawn_on = False, on
        action = "consent.withdrawn"  # the grant's evidence stays; the withdrawal's is audited
    audit.record(session, action, "consent", record.id, actor_id, person_id=person.id,
                 channel=kind.value, academic_year=year, recorded_on=on.isoformat(),
                 evidence=evidence or "")
    effect = Effect()
    if not granted and kind is not ConsentKind.RETAIN:
        effect.photo_ids = rechecks.mark(
            session, rechecks.photos_identifying(session, person.id), "consent")
    return ConsentChange(record, before, _state(record), effect)


def set_biometric(session: Session, *, person: Person, allowed: bool, actor_id: int | None,
                  via: str, reason: str | None = None) -> Effect:
    """Face-recognition consent given or withdrawn. A withdrawal (a parent's objection, the
    pupil's refusal) deletes the person's templates and withdraws every identification made
    through them: those faces become unknown, so covered. A face an editor named by eye was not
    recognised by a template and stays named."""
    if person.biometric_consent == allowed:
        return Effect()
    person.biometric_consent = allowed
    details: dict[str, object] = {"fields": ["biometric_consent"], "via": via}
    if reason:
        details["reason"] = reason
    audit.record(session, "person.updated", "person", person.id, actor_id, **details)
    effect = Effect()
    if not allowed:
        effect.templates_deleted = _drop_templates(session, person, actor_id,
                                                   "biometric consent withdrawn")
        faces, photo_ids = unidentify_auto_matches(session, person.id, actor_id)
        effect.faces_unidentified = faces
        effect.photo_ids = rechecks.mark(session, photo_ids, ConsentUse.BIOMETRIC.value)
    return effect


def set_safeguarding(session: Session, *, person: Person, flagged: bool,
                     actor_id: int | None, via: str) -> Effect:
    """Set or lift a "never photograph" flag. Set: every photo the person is (even possibly) in
    is blocked at once and its live copies go. Lifted: a photo blocked only by it returns to
    review with the reason gone (publishing it again needs a new approval)."""
    if person.safeguarding_no_photo == flagged:
        return Effect()
    person.safeguarding_no_photo = flagged
    audit.record(session, "person.updated", "person", person.id, actor_id,
                 fields=["safeguarding_no_photo"], via=via)
    session.flush()
    photo_ids = rechecks.photos_identifying(session, person.id, near=True)
    changed = redecide_blocks(session, photo_ids, actor_id)
    effect = Effect(photo_ids=rechecks.mark(session, photo_ids, "safeguarding"))
    effect.photos_blocked = sum(1 for c in changed.values() if c == "blocked")
    effect.photos_unblocked = sum(1 for c in changed.values() if c == "unblocked")
    return effect


def set_leaving_date(session: Session, *, person: Person, left_on: date | None,
                     actor_id: int | None, via: str, today: date) -> Effect:
    """A leaving date set, moved or cleared; on the day a pupil leaves their templates go
    (invariant 6). Retention of their photos follows from it in the daily purge."""
    if person.left_on == left_on:
        return Effect()
    person.left_on = left_on
    audit.record(session, "person.updated", "person", person.id, actor_id,
                 fields=["left_on"], via=via)
    effect = Effect()
    if not on_roll(left_on, today):
        effect.templates_deleted = _drop_templates(session, person, actor_id, "left")
    return effect


def _drop_templates(session: Session, person: Person, actor_id: int | None,
                    reason: str) -> int:
    doomed = session.scalars(select(FaceTemplate).where(
        FaceTemplate.person_id == person.id)).all()
    for template in doomed:
        audit.record(session, "template.deleted", "person", person.id, actor_id,
                     template_id=template.id, reason=reason)
        session.delete(template)
    session.flush()
    return len(doomed)
