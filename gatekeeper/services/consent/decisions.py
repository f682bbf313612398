"""Consent answered in the portal: stored with its evidence, then resolved into the consent
records (and the biometric flag) every other part of Gatekeeper already reads.

Each decider's latest answer counts: parents and carers with parental responsibility who may be
contacted, and the pupil. `gatekeeper.domain.deciders` says what the answers add up to.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from consent_db.models import (
    ConsentDecision,
    ConsentRecord,
    Contact,
    ContactChild,
    Person,
)
from gatekeeper.domain.deciders import (
    BIOMETRIC,
    Answer,
    Outcome,
    Resolution,
    has_own_voice,
    resolve_biometric,
    resolve_use,
    year_number,
)
from gatekeeper.domain.retention import academic_year
from gatekeeper.domain.vocabulary import ConsentKind, ConsentUse, PersonKind
from gatekeeper.services.accounts import options
from gatekeeper.services.consent import ledger
from gatekeeper.services.context import Context
from gatekeeper.services.records import on_roll_clause

PUPIL_VOICE_FROM_YEAR = options.define(
    "pupil_voice_from_year", 8, "Pupils decide for themselves from National Curriculum year")

USES: tuple[ConsentUse, ...] = tuple(ConsentUse)

# What the portal shows for each use; the exact text shown is stored with every answer.
USE_TEXT: dict[str, tuple[str, str]] = {
    "display": ("Displays and newsletters",
                "Photos of {child} on displays in school, in newsletters and in learning "
                "journeys."),
    "print": ("Print and press",
              "Photos of {child} in leaflets, posters, school documents and the local press."),
    "online": ("Website and social media",
               "Photos of {child} on the school website and the school's social media. Full "
               "names are never published with photos."),
    "retain": ("Keeping photos after leaving",
               "Keeping photos of {child} for up to three years after {child} leaves the school."),
    BIOMETRIC: ("Face recognition",
                "Using face recognition on the school's photos so that {child} is recognised "
                "and shown only where you consented, and covered everywhere else. Without it, "
                "the school's system never recognises {child}: {child}'s face is covered unless "
                "a member of staff looks at the photo and names {child} by eye, and even then "
                "{child} is shown only where you consented. Objecting also undoes every "
                "recognition made so far. Any parent may object and {child} may refuse at any "
                "age (Protection of Freedoms Act 2012)."),
}


def form_text(child_given_name: str, academic_year: str, answers: dict[str, bool]) -> str:
    """The statement a decider signs: every use shown, with the answer chosen."""
    lines = [f"Consent for photos of {child_given_name}, academic year {academic_year}.", ""]
    for use in USES:
        if use in answers:
            title, text = USE_TEXT[use]
            lines.append(f"{title}: {text.format(child=child_given_name)}")
            lines.append(f"  Answer: {'I give consent' if answers[use] else 'I do not consent'}")
    lines += ["", "You can change these answers at any time; a withdrawal takes effect at once."]
    return "\n".join(lines)


def may_decide(session: Session, contact_id: int) -> dict[int, ContactChild]:
    """person id -> link, for the children this contact may decide for."""
    return {link.person_id: link for link in session.scalars(select(ContactChild).where(
        ContactChild.contact_id == contact_id, ContactChild.parental_responsibility.is_(True),
        ContactChild.no_contact.is_(False)))}


def latest_answers(session: Session, person_id: int, year: str) -> dict[str, list[Answer]]:
    """use -> the latest answer of each decider who counts today (a contact who has since lost
    parental responsibility, or may not be contacted, no longer counts)."""
    eligible = {link.contact_id for link in session.scalars(select(ContactChild).where(
        ContactChild.person_id == person_id, ContactChild.parental_responsibility.is_(True),
        ContactChild.no_contact.is_(False)))}
    names = {c.id: f"{c.given_name} {c.family_name}" for c in session.scalars(
        select(Contact).where(Contact.id.in_(eligible or {0})))}
    latest: dict[tuple[str, str], ConsentDecision] = {}
    for d in session.scalars(select(ConsentDecision).where(
            ConsentDecision.person_id == person_id, ConsentDecision.academic_year == year)
            .order_by(ConsentDecision.id)):
        if not d.by_pupil and d.contact_id not in eligible:
            continue
        who = "pupil" if d.by_pupil else f"contact:{d.contact_id}"
        latest[(d.channel, who)] = d
    out: dict[str, list[Answer]] = {}
    for (use, _who), d in latest.items():
        out.setdefault(use, []).append(Answer(
            d.granted, d.by_pupil, "the pupil" if d.by_pupil else names.get(d.contact_id or 0,
                                                                             "a parent")))
    return out


def resolve(session: Session, person: Person, year: str) -> dict[str, Resolution]:
    """use -> what the portal answers add up to for this person and year."""
    voice = has_own_voice(person.year_group, int(options.read(session, PUPIL_VOICE_FROM_YEAR)))
    answers = latest_answers(session, person.id, year)
    out: dict[str, Resolution] = {use: resolve_use(answers.get(use, []), pupil_has_voice=voice)
                                  for use in USES if use != BIOMETRIC}
    out[BIOMETRIC] = resolve_biometric(answers.get(BIOMETRIC, []))
    return out


def from_portal(evidence: str | None) -> bool:
    """A consent record set by portal answers (not by a paper form)."""
    return (evidence or "").startswith(PORTAL_EVIDENCE)


PORTAL_EVIDENCE = ("portal decision", "pupil refusal", "contacts changed")


def touched_by_portal(session: Session, person_ids: set[int], year: str) -> set[int]:
    """Those of `person_ids` whose consent the portal has a say in: an answer given in the
    portal (any use; biometric in any year) or a record the portal set this year. For anyone
    else `apply` changes nothing, so a whole-school contacts import skips them (it spent
    ~10 ms a child asking)."""
    found: set[int] = set()
    ids = sorted(person_ids)
    for start in range(0, len(ids), _IN_CHUNK):  # SQLite allows ~32 000 values in a query
        chunk = ids[start:start + _IN_CHUNK]
        found.update(session.scalars(select(ConsentDecision.person_id).where(
            ConsentDecision.person_id.in_(chunk)).distinct()))
        found.update(session.scalars(select(ConsentRecord.person_id).where(
            ConsentRecord.person_id.in_(chunk), ConsentRecord.academic_year == year,
            or_(*(ConsentRecord.evidence.startswith(p) for p in PORTAL_EVIDENCE))).distinct()))
    return found


_IN_CHUNK = 5000


@dataclass
class Applied:
    """What resolving changed in the records."""

    withdrawn: list[str] = field(default_factory=list)  # consent that ended: take down
    granted: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # refused with no consent before
    templates_deleted: int = 0
    photo_ids: set[int] = field(default_factory=set)  # to reconcile after the commit


def apply(session: Session, person: Person, year: str, today: date, evidence: str,
          actor_id: int | None = None) -> Applied:
    """Bring the person's consent records for `year`, and their biometric flag, in line with
    the portal's answers. A use nobody has answered in the portal keeps its record (from the
    paper form import); any answer that counts replaces it."""
    applied = Applied()
    resolutions = resolve(session, person, year)
    records = {r.channel: r for r in session.scalars(select(ConsentRecord).where(
        ConsentRecord.person_id == person.id, ConsentRecord.academic_year == year))}
    for use, res in resolutions.items():
        if use == BIOMETRIC:
            continue
        record = records.get(use)
        if res.outcome is Outcome.NONE and not (record is not None and record.granted
                                                and from_portal(record.evidence)):
            continue  # nobody who counts answered: a paper-form record stands
        # (a consent given in the portal by someone who may no longer decide ends: fail closed)
        granted = res.outcome is Outcome.GRANTED
        if record is not None and record.granted == granted:
            continue
        was_granted = record is not None and record.granted
        change = ledger.set_consent(session, person=person, year=year, kind=ConsentKind(use),
                                    granted=granted, on=today, evidence=evidence,
                                    actor_id=actor_id, record=record)
        applied.photo_ids |= change.effect.photo_ids
        if granted:
            applied.granted.append(use)
        else:
            (applied.withdrawn if was_granted else applied.refused).append(use)
    bio = resolutions[BIOMETRIC]
    portal_biometric = bool(session.scalar(select(ConsentDecision.id).where(
        ConsentDecision.person_id == person.id, ConsentDecision.channel == BIOMETRIC,
        ConsentDecision.by_pupil.is_(False)).limit(1)))
    if bio.outcome is not Outcome.NONE or portal_biometric:
        allowed = bio.outcome is Outcome.GRANTED
        if person.biometric_consent != allowed:
            effect = ledger.set_biometric(session, person=person, allowed=allowed,
                                          actor_id=actor_id, via="portal",
                                          reason=bio.reason)
            (applied.granted if allowed else applied.withdrawn).append(BIOMETRIC)
            applied.templates_deleted = effect.templates_deleted
            applied.photo_ids |= effect.photo_ids
    return applied


@dataclass(frozen=True)
class UseState:
    state: str  # given | refused | withdrawn | no decision
    reason: str


@dataclass(frozen=True)
class ChildState:
    external_id: str
    given_name: str
    family_name: str
    year_group: str
    own_voice: bool
    may_decide: int  # contacts who may decide for this child
    uses: dict[str, UseState]
    disagreement: bool

    @property
    def needs_attention(self) -> bool:
        return self.disagreement or self.may_decide == 0 or any(
            u.state == "no decision" for k, u in self.uses.items() if k != BIOMETRIC)


def overview(*, ctx: Context, year_group: int | None = None) -> tuple[str, list[ChildState]]:
    """Every pupil on roll (or one year group): each use's state this academic year and why,
    parents who disagree, children nobody may decide for. For the DPO."""
    today = ctx.today()
    year = academic_year(today, *ctx.year_start)
    with ctx.uow() as uow:
        s = uow.session
        voice_from = int(options.read(s, PUPIL_VOICE_FROM_YEAR))
        pupils = [p for p in s.scalars(select(Person).where(
            Person.kind == PersonKind.PUPIL, on_roll_clause(today)).order_by(
            Person.year_group, Person.family_name, Person.given_name))
            if year_group is None or year_number(p.year_group) == year_group]
        records: dict[tuple[int, str], ConsentRecord] = {
            (r.person_id, r.channel): r for r in s.scalars(select(ConsentRecord).where(
                ConsentRecord.academic_year == year))}
        deciding: dict[int, int] = {}
        for link in s.scalars(select(ContactChild).where(
                ContactChild.parental_responsibility.is_(True),
                ContactChild.no_contact.is_(False))):
            deciding[link.person_id] = deciding.get(link.person_id, 0) + 1
        answered = set(s.scalars(select(ConsentDecision.person_id).where(
            ConsentDecision.academic_year == year).distinct()))
        out = []
        for p in pupils:
            resolved = resolve(s, p, year) if p.id in answered else {}
            uses: dict[str, UseState] = {}
            for use in USES:
                res = resolved.get(use)
                if use == BIOMETRIC:
                    state = "given" if p.biometric_consent else "no consent"
                    if res and res.outcome is Outcome.REFUSED:
                        state, reason = "refused", res.reason
                    elif res and res.outcome is Outcome.GRANTED:
                        reason = res.reason
                    else:
                        reason = ("from the school's records (MIS import)" if p.biometric_consent
                                  else "no consent recorded: faces are always covered")
                else:
                    r = records.get((p.id, use))
                    state = ("no decision" if r is None else "given" if r.granted
                             else "withdrawn" if r.withdrawn_on else "refused")
                    if res and (res.outcome is not Outcome.NONE
                                or (r is not None and from_portal(r.evidence))):
                        reason = res.reason  # the portal's answers decide it
                    else:
                        reason = (f"paper form: {r.evidence or 'recorded'}" if r else
                                  "nobody has answered yet")
                uses[use] = UseState(state, reason)
            out.append(ChildState(p.external_id, p.given_name, p.family_name, p.year_group or "",
                                  has_own_voice(p.year_group, voice_from), deciding.get(p.id, 0),
                                  uses, any(r.disagreement for r in resolved.values())))
        return year, out
