"""Parents' and carers' contacts from the MIS (contacts.csv): all rows or none, and importing the
same file twice changes nothing. The file is the whole list: a contact or a link to a child that
is no longer in it is removed, and their open portal sessions end."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from consent_db import audit
from consent_db.models import (
    ConsentDecision,
    Contact,
    ContactChild,
    Person,
    PortalInvitation,
)
from gatekeeper.adapters.mis_csv import ContactRow, Source, check_csv_size, iter_contacts
from gatekeeper.domain.retention import academic_year
from gatekeeper.domain.vocabulary import PersonKind, Role
from gatekeeper.services.access_links import end_access
from gatekeeper.services.accounts.users import require_user_role
from gatekeeper.services.consent import decisions
from gatekeeper.services.context import Context
from gatekeeper.services.exclusive import run_import
from gatekeeper.services.records import on_roll_clause

MAX_CONTACTS_BYTES = 64_000_000


@dataclass
class ContactsReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    links_added: int = 0
    links_changed: int = 0
    links_removed: int = 0
    may_decide: int = 0  # contacts with at least one child they may decide for
    consent_ended: list[int] = field(default_factory=list)  # children: deciders lost rights
    photo_ids: set[int] = field(default_factory=set)  # to reconcile after the commit
    notes: list[str] = field(default_factory=list)

    def line(self) -> str:
        return (f"contacts: {self.created} created, {self.updated} updated, {self.unchanged} "
                f"unchanged, {self.removed} removed; links to children: {self.links_added} added, "
                f"{self.links_changed} changed, {self.links_removed} removed; "
                f"{self.may_decide} contact(s) may decide for a child"
                + (f"; consent ended for {len(self.consent_ended)} child(ren) whose deciders "
                   "changed" if self.consent_ended else ""))


def _resolve_again(session: Session, person_ids: set[int], today: date, year: str,
                   actor_id: int | None, report: ContactsReport) -> None:
    """Children whose deciders changed: their consent follows who may decide now. Those whose
    consent ended are counted, and the photos to reconcile kept."""
    for person in session.scalars(select(Person).where(Person.id.in_(
            decisions.touched_by_portal(session, person_ids, year)))):
        applied = decisions.apply(session, person, year, today, evidence="contacts changed",
                                  actor_id=actor_id)
        if applied.withdrawn:
            report.consent_ended.append(person.id)
        report.photo_ids |= applied.photo_ids


def _import(session: Session, data: Source, actor_id: int | None, today: date,
            year: str) -> ContactsReport:
    """One pass over the file as it is read: each contact is written at its first row, each
    row's link to a child after it."""
    people = {p.external_id: p.id for p in session.scalars(select(Person))}
    report = ContactsReport()
    contacts = {c.ref: c for c in session.scalars(select(Contact))}
    links = {(link.contact_id, link.person_id): link
             for link in session.scalars(select(ContactChild))}
    wanted: set[tuple[int, int]] = set()
    present: set[str] = set()
    lost_rights: set[int] = set()
    affected: set[int] = set()  # children whose deciders changed: their consent is resolved again
    for row in iter_contacts(data, known_ids=people):
        if row.contact_id not in present:
            present.add(row.contact_id)
            _write_contact(session, contacts, row, actor_id, report, lost_rights)
        contact = contacts[row.contact_id]
        key = (contact.id, people[row.external_id])
        wanted.add(key)
        link = links.get(key)
        if link is None:
            session.add(ContactChild(contact_id=key[0], person_id=key[1],
                                     parental_responsibility=row.parental_responsibility,
                                     no_contact=row.no_contact))
            report.links_added += 1
            affected.add(key[1])
        elif (link.parental_responsibility, link.no_contact) != (row.parental_responsibility,
                                                                 row.no_contact):
            if link.parental_responsibility and not row.parental_responsibility or (
                    row.no_contact and not link.no_contact):
                lost_rights.add(contact.id)
            link.parental_responsibility, link.no_contact = (row.parental_responsibility,
                                                             row.no_contact)
            audit.record(session, "contact.rights_changed", "contact", contact.id, actor_id,
                         person_id=key[1], parental_responsibility=row.parental_responsibility,
                         no_contact=row.no_contact)
            report.links_changed += 1
            affected.add(key[1])
    for key, link in links.items():
        if key not in wanted:
            session.delete(link)
            lost_rights.add(key[0])
            report.links_removed += 1
            affected.add(key[1])
    for ref, contact in contacts.items():
        if ref not in present:
            affected.update(link.person_id for link in contact.children)
            audit.record(session, "contact.removed", "contact", contact.id, actor_id)
            session.delete(contact)
            report.removed += 1
    session.flush()
    end_access(session, contact_ids=lost_rights)
    _resolve_again(session, affected, today, year, actor_id, report)
    report.may_decide = len({cid for (cid, _pid), link in _current_links(session).items()
                             if link.parental_responsibility and not link.no_contact})
    return report


def _current_links(session: Session) -> dict[tuple[int, int], ContactChild]:
    return {(link.contact_id, link.person_id): link
            for link in session.scalars(select(ContactChild))}


def _write_contact(session: Session, contacts: dict[str, Contact], row: ContactRow,
                   actor_id: int | None, report: ContactsReport, lost_rights: set[int]) -> None:
    """A contact at its first row: created, updated (a new address ends links already sent)
    or unchanged."""
    values = {"given_name": row.given_name, "family_name": row.family_name, "email": row.email}
    contact = contacts.get(row.contact_id)
    if contact is None:
        contact = Contact(ref=row.contact_id, **values)
        session.add(contact)
        session.flush()
        contacts[row.contact_id] = contact
        audit.record(session, "contact.created", "contact", contact.id, actor_id)
        report.created += 1
        return
    changed = sorted(k for k, v in values.items() if getattr(contact, k) != v)
    if not changed:
        report.unchanged += 1
        return
    for k in changed:
        setattr(contact, k, values[k])
    audit.record(session, "contact.updated", "contact", contact.id, actor_id, fields=changed)
    report.updated += 1
    if "email" in changed:
        lost_rights.add(contact.id)  # links already sent went to the old address


def import_contacts(*, ctx: Context, data: Source, actor_id: int | None,
                    dry_run: bool = False) -> ContactsReport:
    """Import contacts.csv whole or refuse it whole, naming the row, column and reason."""
    require_user_role(ctx=ctx, actor_id=actor_id, roles=(Role.DPO,))
    check_csv_size(data, MAX_CONTACTS_BYTES)

    def work(session: Session) -> ContactsReport:  # a bad row raises ImportRejected, whole
        if not isinstance(data, bytes):
            data.seek(0)  # a retried import reads its file again from the start
        return _import(session, data, actor_id, ctx.today(),
                       academic_year(ctx.today(), *ctx.year_start))

    def reconcile(report: ContactsReport) -> None:
        ctx.jobs.reconcile(sorted(report.photo_ids))

    return run_import(ctx=ctx, work=work, commit=not dry_run, what="the contacts import",
                      after_commit=reconcile)


def portal_counts(*, ctx: Context) -> dict[str, int]:
    """Figures for the DPO's portal page: contacts, who may decide, links sent and used."""
    with ctx.uow() as uow:
        s = uow.session

        def count(query: Any) -> int:
            return int(s.scalar(query) or 0)

        pupils_on_roll = select(Person.id).where(Person.kind == PersonKind.PUPIL, on_roll_clause(ctx.today()))
        deciding = select(ContactChild.person_id).where(
            ContactChild.parental_responsibility.is_(True), ContactChild.no_contact.is_(False))
        return {
            "contacts": count(select(func.count()).select_from(Contact)),
            "may_decide": count(select(func.count(func.distinct(ContactChild.contact_id)))
                                .where(ContactChild.parental_responsibility.is_(True),
                                       ContactChild.no_contact.is_(False))),
            "barred": count(select(func.count()).select_from(ContactChild).where(
                (ContactChild.parental_responsibility.is_(False))
                | (ContactChild.no_contact.is_(True)))),
            "children_without_contact": count(select(func.count()).select_from(
                pupils_on_roll.where(Person.id.not_in(deciding)).subquery())),
            "links_sent": count(select(func.count()).select_from(PortalInvitation)),
            "links_used": count(select(func.count()).select_from(PortalInvitation).where(
                PortalInvitation.used_at.is_not(None))),
            "answers": count(select(func.count()).select_from(ConsentDecision)),
        }
