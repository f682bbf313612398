"""Importing people and consent from the MIS; keeping biometric templates only where allowed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from consent_db import audit
from consent_db.mis_import import parse_consent, parse_people
from consent_db.models import ConsentRecord, FaceTemplate, Person


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    templates_deleted: int = 0

    def line(self, what: str) -> str:
        text = f"{what}: {self.created} created, {self.updated} updated, {self.unchanged} unchanged"
        if self.templates_deleted:
            text += f"; {self.templates_deleted} biometric templates deleted"
        return text


_PERSON_FIELDS = ("given_name", "family_name", "kind", "year_group", "joined_on", "left_on",
                  "biometric_consent", "safeguarding_no_photo")


def import_people(*, uow, data: bytes, today: date, actor_id: int | None = None,
                  commit: bool = True) -> ImportReport:
    """Create or update people from a CSV; all rows or none (commit=False: a preview)."""
    rows = parse_people(data)
    report = ImportReport()
    existing = {p.external_id: p for p in uow.session.scalars(select(Person))}
    for row in rows:
        person = existing.get(row.external_id)
        values = {f: getattr(row, f) for f in _PERSON_FIELDS}
        if person is None:
            person = Person(external_id=row.external_id, **values)
            uow.session.add(person)
            uow.flush()
            audit.record(uow.session, "person.created", "person", person.id, actor_id)
            report.created += 1
            continue
        changed = sorted(f for f, v in values.items() if getattr(person, f) != v)
        if not changed:
            report.unchanged += 1
            continue
        for f in changed:
            setattr(person, f, values[f])
        audit.record(uow.session, "person.updated", "person", person.id, actor_id, fields=changed)
        report.updated += 1
    report.templates_deleted = drop_unkeepable_templates(uow=uow, today=today, actor_id=actor_id)
    if commit:
        uow.commit()
    return report


def import_consent(*, uow, data: bytes, actor_id: int | None = None,
                   commit: bool = True) -> ImportReport:
    """Record consent forms; a granted=no row withdraws an earlier grant as of its date."""
    rows = parse_consent(data)
    people = {p.external_id: p for p in uow.session.scalars(select(Person))}
    from consent_db.mis_import import ImportRejected

    for row in rows:
        if row.external_id not in people:
            raise ImportRejected(
                f"row {row.line}, column external_id: no such person (import people first); "
                "nothing was imported"
            )
    report = ImportReport()
    current = {(c.person_id, c.academic_year, c.channel): c
               for c in uow.session.scalars(select(ConsentRecord))}
    for row in rows:
        person = people[row.external_id]
        key = (person.id, row.academic_year, row.channel)
        current[key] = apply_consent(uow=uow, person=person, row=row, record=current.get(key),
                                     report=report, actor_id=actor_id)
    if commit:
        uow.commit()
    return report


def apply_consent(*, uow, person: Person, row, record: ConsentRecord | None,
                  report: ImportReport, actor_id: int | None) -> ConsentRecord:
    """One consent answer: create, re-grant, withdraw from its date, or leave unchanged."""
    if record is None:
        record = ConsentRecord(person_id=person.id, academic_year=row.academic_year,
                               channel=row.channel, granted=row.granted,
                               recorded_on=row.recorded_on, evidence=row.evidence,
                               recorded_by_id=actor_id)
        uow.session.add(record)
        uow.flush()
        action = "consent.granted" if row.granted else "consent.refused"
        report.created += 1
    elif row.granted == record.granted:
        report.unchanged += 1  # the same answer again (or a repeated withdrawal)
        return record
    elif row.granted:  # granted again after a refusal or withdrawal
        record.granted, record.withdrawn_on = True, None
        record.recorded_on, record.evidence = row.recorded_on, row.evidence
        action = "consent.granted"
        report.updated += 1
    else:  # a withdrawal of an earlier grant, effective from the row's date
        record.granted, record.withdrawn_on = False, row.recorded_on
        record.evidence = row.evidence or record.evidence
        action = "consent.withdrawn"
        report.updated += 1
    audit.record(uow.session, action, "consent", record.id, actor_id, person_id=person.id,
                 channel=row.channel, academic_year=row.academic_year)
    return record


def record_consent(*, uow, external_id: str, academic_year: str, channel: str, granted: bool,
                   recorded_on: date, evidence: str, actor_id: int | None) -> ImportReport:
    """The DPO records one written answer (same rules as a one-row consent import)."""
    import csv
    import io

    buf = io.StringIO()
    csv.writer(buf).writerows([
        ["external_id", "academic_year", "channel", "granted", "recorded_on", "evidence"],
        [external_id, academic_year, channel, "yes" if granted else "no", recorded_on.isoformat(),
         evidence]])
    return import_consent(uow=uow, data=buf.getvalue().encode(), actor_id=actor_id)


def update_person(*, uow, external_id: str, today: date, actor_id: int | None,
                  left_on: date | None, biometric_consent: bool,
                  safeguarding_no_photo: bool) -> list[str]:
    """The DPO changes a leaving date or a flag; templates that may no longer be kept go."""
    person = get_person(uow.session, external_id)
    values = {"left_on": left_on, "biometric_consent": biometric_consent,
              "safeguarding_no_photo": safeguarding_no_photo}
    changed = sorted(k for k, v in values.items() if getattr(person, k) != v)
    for k in changed:
        setattr(person, k, values[k])
    if changed:
        audit.record(uow.session, "person.updated", "person", person.id, actor_id, fields=changed)
    drop_unkeepable_templates(uow=uow, today=today, actor_id=actor_id)
    uow.commit()
    return changed


def drop_unkeepable_templates(*, uow, today: date, actor_id: int | None = None) -> int:
    """Delete templates of people without biometric consent or no longer on roll (invariant 6)."""
    doomed = uow.session.scalars(
        select(FaceTemplate).join(Person).where(
            (Person.biometric_consent.is_(False))
            | (Person.left_on.is_not(None) & (Person.left_on <= today))
        )
    ).all()
    for template in doomed:
        audit.record(uow.session, "template.deleted", "person", template.person_id, actor_id,
                     template_id=template.id)
        uow.session.delete(template)
    return len(doomed)


def get_person(session, external_id: str) -> Person:
    from ..errors import NotFound

    person = session.scalar(select(Person).where(Person.external_id == external_id))
    if person is None:
        raise NotFound(f"no person with external id {external_id}")
    return person
