"""Importing people and consent from the MIS; keeping biometric templates only where allowed.

An import is all rows or none. A preview runs the very same import in a transaction that is
rolled back, so what the DPO is shown is exactly what confirming will do.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from consent_db import audit
from consent_db.models import (
    AuditEvent,
    ConsentDecision,
    ConsentRecord,
    FaceTemplate,
    Person,
    User,
)
from gatekeeper.adapters.mis_csv import (
    ConsentRow,
    PersonRow,
    Source,
    check_csv_size,
    consent_answer,
    iter_consent,
    iter_people,
)
from gatekeeper.domain.retention import academic_year
from gatekeeper.domain.safe_csv import to_csv
from gatekeeper.domain.vocabulary import ConsentKind, PersonKind, Role
from gatekeeper.errors import InvalidInput, NotFound, TooLarge
from gatekeeper.services.access_links import end_access
from gatekeeper.services.accounts.users import require_user_role
from gatekeeper.services.consent import ledger
from gatekeeper.services.consent.ledger import Effect
from gatekeeper.services.context import Context
from gatekeeper.services.exclusive import run_import


@dataclass(frozen=True)
class Change:
    """One field of one person (or one consent answer) that an import changes."""

    external_id: str
    name: str
    field: str
    old: str
    new: str
    set_in_app: str | None = None  # "by dpo1 on 2026-11-20": the web app set the value replaced
    kept: bool = False  # left as the web app set it (the DPO chose to keep such values)


# How many routine changes a preview lists before it only counts them.
CHANGES_LISTED = 5000


def _routine(change: Change) -> bool:
    return change.field in ("new person", "given_name", "family_name", "kind", "year_group",
                            "joined_on", "email")


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    templates_deleted: int = 0
    photos_blocked: int = 0
    photos_unblocked: int = 0
    faces_unidentified: int = 0
    changes: list[Change] = field(default_factory=list)
    unlisted: int = 0  # routine changes past CHANGES_LISTED, counted but not kept
    photo_ids: set[int] = field(default_factory=set)  # to reconcile after the commit

    def note(self, change: Change) -> None:
        """Keep a change for the preview. Past CHANGES_LISTED only a count is kept of routine
        ones (names, year groups, addresses), so a huge file cannot fill memory with them;
        a flag, face recognition, a leaving date, consent and anything replacing the web
        app's value are always listed."""
        if len(self.changes) < CHANGES_LISTED or change.set_in_app or not _routine(change):
            self.changes.append(change)
        else:
            self.unlisted += 1

    def took(self, effect: Effect) -> None:
        """Count what a change of fact did, and keep the photos it named."""
        self.photo_ids |= effect.photo_ids
        self.templates_deleted += effect.templates_deleted
        self.faces_unidentified += effect.faces_unidentified
        self.photos_blocked += effect.photos_blocked
        self.photos_unblocked += effect.photos_unblocked

    @property
    def overrides(self) -> list[Change]:
        """Changes that would replace what the DPO set in the web app."""
        return [c for c in self.changes if c.set_in_app]

    def line(self, what: str) -> str:
        text = f"{what}: {self.created} created, {self.updated} updated, {self.unchanged} unchanged"
        if self.templates_deleted:
            text += f"; {self.templates_deleted} biometric templates deleted"
        if self.faces_unidentified:
            text += (f"; {self.faces_unidentified} face(s) recognised by templates now covered "
                     "(face recognition withdrawn)")
        if self.photos_blocked:
            text += f"; {self.photos_blocked} photo(s) blocked (safeguarding)"
        if self.photos_unblocked:
            text += f"; {self.photos_unblocked} photo(s) back in review (flag lifted)"
        return text


_PERSON_FIELDS = ("given_name", "family_name", "kind", "year_group", "joined_on", "left_on",
                  "biometric_consent", "safeguarding_no_photo", "email")

Importer = Callable[[Session, Source, date, int | None, bool], ImportReport]
# The fields the DPO can also set on a person's page ("person.updated" with via="page").
_APP_FIELDS = ("left_on", "biometric_consent", "safeguarding_no_photo")


def _shown(value: object) -> str:
    if value is None or value == "":
        return "(empty)"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _set_in_app(session: Session, person_ids: list[int] | None) -> dict[tuple[int, str], str]:
    """(person id, field) -> who set it on the person page and when, where the page was the
    last to set that field (for `person_ids`, or everyone: a streamed import cannot know ahead
    which people its rows change)."""
    last: dict[tuple[int, str], str | None] = {}
    names = dict(session.execute(select(User.id, User.username)).all())
    query = select(AuditEvent).where(AuditEvent.action == "person.updated",
                                     AuditEvent.entity == "person").order_by(AuditEvent.id)
    if person_ids is not None:
        query = query.where(AuditEvent.entity_id.in_(person_ids or [0]))
    events = session.scalars(query)
    for e in events:
        details = e.details or {}
        for f in details.get("fields", []):
            last[(e.entity_id or 0, f)] = (
                f"by {names.get(e.actor_id or 0, 'someone')} on {e.at.date().isoformat()}"
                if details.get("via") == "page" else None)
    return {k: v for k, v in last.items() if v}


_ARRIVAL_FIELDS = ("year_group", "left_on", "biometric_consent", "safeguarding_no_photo")


def _arrival(row: PersonRow) -> list[Change]:
    """A new person's row in the preview, then each field the DPO must see before confirming:
    a safeguarding flag, face recognition or a leaving date set from the start matters as
    much as one a later file changes."""
    name = f"{row.given_name} {row.family_name}"
    first = Change(row.external_id, name, "new person", "",
                   f"{row.kind}{', ' + row.year_group if row.year_group else ''}")
    return [first, *(Change(row.external_id, name, f, "(none)", _shown(getattr(row, f)))
                     for f in _ARRIVAL_FIELDS if getattr(row, f) is not None)]


# New people are written in batches: one INSERT per person costs a round trip each (a
# 20 000-row file spent 60 % of its import in per-row flushes).
_NEW_BATCH = 500


def _people_into(session: Session, data: Source, today: date, actor_id: int | None,
                 keep_app_values: bool = False) -> ImportReport:
    report = ImportReport()
    existing = {p.external_id: p for p in session.scalars(select(Person))}
    from_app = _set_in_app(session, None)
    # biometric consent answered by parents in the portal is theirs: the MIS column never
    # overrides it (a later objection or consent comes through the portal too)
    changed_email: set[int] = set()
    portal_biometric = set(session.scalars(select(ConsentDecision.person_id).where(
        ConsentDecision.channel == "biometric", ConsentDecision.by_pupil.is_(False))))
    arrivals: list[Person] = []

    def write_arrivals() -> None:
        session.add_all(arrivals)
        session.flush()
        for person in arrivals:
            audit.record(session, "person.created", "person", person.id, actor_id)
        arrivals.clear()  # nothing holds them now: the session may let them go

    for row in iter_people(data):
        person = existing.get(row.external_id)
        values = {f: getattr(row, f) for f in _PERSON_FIELDS}
        if person is None:
            arrivals.append(Person(external_id=row.external_id, **values))
            if len(arrivals) >= _NEW_BATCH:
                write_arrivals()
            report.created += 1
            for change in _arrival(row):
                report.note(change)
            continue
        changed = sorted(f for f, v in values.items() if getattr(person, f) != v)
        name = f"{person.given_name} {person.family_name}"
        for f in list(changed):
            by = from_app.get((person.id, f))
            keep = bool(by) and keep_app_values
            if f == "biometric_consent" and person.id in portal_biometric:
                by, keep = "by parents in the portal", True
            report.note(Change(person.external_id, name, f, _shown(getattr(person, f)),
                               _shown(values[f]), by, keep))
            if keep:
                changed.remove(f)
        if not changed:
            report.unchanged += 1
            continue
        plain = [f for f in changed if f not in _FACT_FIELDS]
        for f in plain:
            setattr(person, f, values[f])
        if plain:
            audit.record(session, "person.updated", "person", person.id, actor_id,
                         fields=plain, via="import")
        report.took(_set_facts(session, person, {f: values[f] for f in changed}, actor_id,
                               "import", today))
        if "email" in changed:
            changed_email.add(person.id)
        report.updated += 1
    write_arrivals()
    report.templates_deleted += drop_unkeepable_templates(session, today=today,
                                                          actor_id=actor_id)
    if changed_email:  # links already sent went to the old address
        end_access(session, pupil_ids=changed_email)
    return report


# The person's fields that are facts with their own write path (`ledger`).
_FACT_FIELDS = ("left_on", "biometric_consent", "safeguarding_no_photo")


def _set_facts(session: Session, person: Person, values: dict[str, object],
               actor_id: int | None, via: str, today: date) -> Effect:
    """Apply changed leaving date, face-recognition consent and safeguarding flag through the
    ledger, whichever door they came through."""
    effect = Effect()
    if "left_on" in values:
        left_on = values["left_on"]
        assert left_on is None or isinstance(left_on, date)
        effect.add(ledger.set_leaving_date(session, person=person, left_on=left_on,
                                           actor_id=actor_id, via=via, today=today))
    if "biometric_consent" in values:
        effect.add(ledger.set_biometric(session, person=person,
                                        allowed=bool(values["biometric_consent"]),
                                        actor_id=actor_id, via=via))
    if "safeguarding_no_photo" in values:
        effect.add(ledger.set_safeguarding(session, person=person,
                                           flagged=bool(values["safeguarding_no_photo"]),
                                           actor_id=actor_id, via=via))
    return effect


def _consent_into(session: Session, data: Source, today: date,
                  actor_id: int | None, keep_app_values: bool = False) -> ImportReport:
    people = {p.external_id: p for p in session.scalars(select(Person))}
    rows = iter_consent(data, known_ids=people)
    report = ImportReport()
    current = {(c.person_id, c.academic_year, c.channel): c
               for c in session.scalars(select(ConsentRecord))}
    portal_answers: dict[tuple[int, str, str], date] = {}
    for pid, year, channel, at in session.execute(select(
            ConsentDecision.person_id, ConsentDecision.academic_year, ConsentDecision.channel,
            func.max(ConsentDecision.decided_at)).group_by(
            ConsentDecision.person_id, ConsentDecision.academic_year, ConsentDecision.channel)):
        portal_answers[(pid, year, channel)] = at.date()
    for row in rows:
        person = people[row.external_id]
        key = (person.id, row.academic_year, row.channel)
        answered = portal_answers.get(key)
        if answered is not None and ledger.portal_overrides(answered, row.recorded_on,
                                                            row.granted):
            _kept_portal_answer(report, person, row, answered)
            continue
        current[key] = apply_consent(session, person=person, row=row, record=current.get(key),
                                     report=report, actor_id=actor_id)
    return report


def _kept_portal_answer(report: ImportReport, person: Person, row: ConsentRow,
                        answered: date) -> None:
    """A paper answer left out: an answer given since in the portal stands."""
    report.unchanged += 1
    report.note(Change(
        person.external_id, f"{person.given_name} {person.family_name}",
        f"consent {row.channel} {row.academic_year}", "(portal answer)",
        "granted" if row.granted else "refused",
        set_in_app=f"in the portal on {answered.isoformat()}", kept=True))


IMPORTERS: dict[str, Importer] = {"people": _people_into, "consent": _consent_into}


def _run(ctx: Context, kind: str, data: Source, actor_id: int | None, commit: bool,
         keep_app_values: bool = False) -> ImportReport:
    check_csv_size(data, MAX_CSV_BYTES)
    importer = IMPORTERS.get(kind)
    if importer is None:
        raise InvalidInput(f"unknown import {kind!r} (people or consent)")

    def work(session: Session) -> ImportReport:  # a bad row raises ImportRejected, whole
        if not isinstance(data, bytes):
            data.seek(0)  # a retried import reads its file again from the start
        return importer(session, data, ctx.today(), actor_id, keep_app_values)

    def reconcile(report: ImportReport) -> None:
        ctx.jobs.reconcile(sorted(report.photo_ids))

    return run_import(ctx=ctx, work=work, commit=commit, what=f"the {kind} import",
                      after_commit=reconcile)


def import_csv(*, ctx: Context, kind: str, data: Source, actor_id: int | None = None,
               keep_app_values: bool = False) -> ImportReport:
    """Import a people or consent CSV: every row or none. keep_app_values: leave a leaving
    date or flag last set on the person's page as it is."""
    require_user_role(ctx=ctx, actor_id=actor_id, roles=(Role.OFFICE, Role.DPO))
    return _run(ctx, kind, data, actor_id, commit=True, keep_app_values=keep_app_values)


def preview_csv(*, ctx: Context, kind: str, data: Source,
                actor_id: int | None = None) -> ImportReport:
    """What importing the CSV would change, without changing anything (rolled back)."""
    return _run(ctx, kind, data, actor_id, commit=False)


def apply_consent(session: Session, *, person: Person, row: ConsentRow,
                  record: ConsentRecord | None, report: ImportReport,
                  actor_id: int | None) -> ConsentRecord:
    """One consent row through the ledger, counted in the import's report."""
    change = ledger.set_consent(session, person=person, year=row.academic_year,
                                kind=ConsentKind(row.channel), granted=row.granted,
                                on=row.recorded_on, evidence=row.evidence or "",
                                actor_id=actor_id, record=record)
    report.took(change.effect)
    if not change.changed:
        report.unchanged += 1
        return change.record
    if change.before == "(none)":
        report.created += 1
    else:
        report.updated += 1
    report.note(Change(person.external_id, f"{person.given_name} {person.family_name}",
                                 f"consent {row.channel} {row.academic_year}", change.before,
                                 change.after))
    return change.record


def record_consent(*, ctx: Context, external_id: str, academic_year: str, channel: str,
                   granted: bool, recorded_on: date, evidence: str,
                   actor_id: int | None) -> ImportReport:
    """The DPO records one written answer: checked by the rules of a consent.csv row, through
    the same ledger, touching only that person's record."""
    require_user_role(ctx=ctx, actor_id=actor_id, roles=(Role.DPO,))
    with ctx.uow() as uow:
        person = uow.session.scalar(select(Person).where(Person.external_id == external_id))
        row = consent_answer({
            "external_id": external_id, "academic_year": academic_year, "channel": channel,
            "granted": "yes" if granted else "no", "recorded_on": recorded_on.isoformat(),
            "evidence": evidence}, known_ids={external_id} if person else set())
        assert person is not None
        report = ImportReport()
        answered = ledger.portal_answer_since(uow.session, person.id, row.academic_year,
                                              row.channel, row.recorded_on, row.granted)
        if answered is not None:
            _kept_portal_answer(report, person, row, answered)
        else:
            apply_consent(uow.session, person=person, row=row, record=None, report=report,
                          actor_id=actor_id)
        uow.commit()
    ctx.jobs.reconcile(sorted(report.photo_ids))
    return report


def update_person(*, ctx: Context, external_id: str, actor_id: int | None,
                  left_on: date | None, biometric_consent: bool,
                  safeguarding_no_photo: bool) -> list[str]:
    """The DPO changes a leaving date or a flag on the person's page: each through its ledger
    function; the photos it affects follow at once."""
    require_user_role(ctx=ctx, actor_id=actor_id, roles=(Role.DPO,))
    with ctx.uow() as uow:
        person = get_person(uow.session, external_id)
        values = {"left_on": left_on, "biometric_consent": biometric_consent,
                  "safeguarding_no_photo": safeguarding_no_photo}
        changed = sorted(k for k, v in values.items() if getattr(person, k) != v)
        effect = _set_facts(uow.session, person, {k: values[k] for k in changed}, actor_id,
                            "page", ctx.today())
        uow.commit()
    ctx.jobs.reconcile(sorted(effect.photo_ids))
    return changed


def drop_unkeepable_templates(session: Session, *, today: date,
                              actor_id: int | None = None) -> int:
    """Delete templates of people without biometric consent or no longer on roll (invariant 6)."""
    doomed = session.scalars(
        select(FaceTemplate).join(Person).where(
            (Person.biometric_consent.is_(False))
            | (Person.left_on.is_not(None) & (Person.left_on <= today))
        )
    ).all()
    for template in doomed:
        audit.record(session, "template.deleted", "person", template.person_id, actor_id,
                     template_id=template.id)
        session.delete(template)
    return len(doomed)


def drop_leavers_templates(*, ctx: Context) -> int:
    """The daily job: templates of people whose leaving date has arrived go (invariant 6)."""
    with ctx.uow() as uow:
        count = drop_unkeepable_templates(uow.session, today=ctx.today())
        uow.commit()
        return count


def get_person(session: Session, external_id: str) -> Person:
    person = session.scalar(select(Person).where(Person.external_id == external_id))
    if person is None:
        raise NotFound(f"no person with external id {external_id}")
    return person


MAX_CSV_BYTES = 64_000_000


@dataclass(frozen=True)
class StagedImport:
    token: str
    kind: str
    report: ImportReport


def _staged_key(token: str) -> str:
    if not token.isalnum() or len(token) != 32:
        raise InvalidInput("that import is unknown or has expired: upload the file again")
    return f"imports/{token}"


def stage_import(*, ctx: Context, kind: str, data: bytes, actor_id: int | None) -> StagedImport:
    """Preview an import and keep the file privately until the DPO confirms it (the browser
    posts back only a token, never the data)."""
    require_user_role(ctx=ctx, actor_id=actor_id, roles=(Role.OFFICE, Role.DPO))
    if len(data) > MAX_CSV_BYTES:
        raise TooLarge(f"CSV files may be at most {MAX_CSV_BYTES:,} bytes: split the file")
    report = preview_csv(ctx=ctx, kind=kind, data=data, actor_id=actor_id)
    token = secrets.token_hex(16)
    ctx.stores.private.put(_staged_key(token), kind.encode() + b"\n" + data)
    return StagedImport(token, kind, report)


def confirm_import(*, ctx: Context, token: str, actor_id: int | None,
                   keep_app_values: bool = False) -> StagedImport:
    """Import a staged file whole (or refuse it whole), then forget it; keep_app_values
    leaves the leaving dates and flags last set on a person's page as they are."""
    require_user_role(ctx=ctx, actor_id=actor_id, roles=(Role.OFFICE, Role.DPO))
    key = _staged_key(token)
    try:
        blob = ctx.stores.private.get(key)
    except NotFound:
        raise InvalidInput("that import is unknown or was already done: upload the file again") from None
    kind, _, data = blob.partition(b"\n")
    report = import_csv(ctx=ctx, kind=kind.decode(), data=data, actor_id=actor_id,
                        keep_app_values=keep_app_values)
    ctx.stores.private.delete(key)
    return StagedImport(token, kind.decode(), report)


@dataclass(frozen=True)
class MissingDecision:
    external_id: str
    given_name: str
    family_name: str
    year_group: str
    kinds: tuple[str, ...]


def missing_decisions(*, ctx: Context, year: str | None = None) -> list[MissingDecision]:
    """Pupils on roll with no recorded answer for some use in the academic year (from
    1 September the new year has no consent until it is recorded): the re-consent list."""
    from_year = year or academic_year(ctx.today(), *ctx.year_start)
    with ctx.uow() as uow:
        answered: dict[int, set[str]] = {}
        for person_id, kind in uow.session.execute(
                select(ConsentRecord.person_id, ConsentRecord.channel)
                .where(ConsentRecord.academic_year == from_year)):
            answered.setdefault(person_id, set()).add(kind)
        out = []
        for p in uow.session.scalars(select(Person).where(
                Person.kind == PersonKind.PUPIL, Person.left_on.is_(None))
                .order_by(Person.year_group, Person.family_name, Person.given_name)):
            kinds = tuple(k.value for k in ConsentKind if k.value not in answered.get(p.id, set()))
            if kinds:
                out.append(MissingDecision(p.external_id, p.given_name, p.family_name,
                                           p.year_group or "", kinds))
        return out


def missing_decisions_csv(rows: list[MissingDecision]) -> str:
    """The re-consent list as CSV; names come from the MIS, so formulas are neutralised."""
    return to_csv([("external_id", "given_name", "family_name", "year_group", "missing"),
                   *((r.external_id, r.given_name, r.family_name, r.year_group,
                      " ".join(r.kinds)) for r in rows)])
