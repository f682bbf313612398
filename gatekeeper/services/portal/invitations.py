"""Inviting parents, carers and older pupils to the consent portal, and reminding those whose
decisions are missing. Each link is single-use, expires, and is bound to one contact (or pupil);
only its hash is stored, so the links exist only in the messages (and the CSV handed back)."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from consent_db import audit
from consent_db.models import (
    ConsentRecord,
    Contact,
    ContactChild,
    Person,
    PortalInvitation,
    utcnow,
)
from gatekeeper.domain.deciders import has_own_voice, year_number
from gatekeeper.domain.retention import academic_year
from gatekeeper.domain.safe_csv import to_csv
from gatekeeper.domain.vocabulary import ConsentKind, PersonKind, Role
from gatekeeper.errors import DeliveryFailed, InvalidInput, NotFound
from gatekeeper.services.access_links import end_access
from gatekeeper.services.accounts import options
from gatekeeper.services.accounts.users import require_user_role
from gatekeeper.services.consent import decisions
from gatekeeper.services.context import Context
from gatekeeper.services.portal import letters
from gatekeeper.services.portal.public_links import required_base
from gatekeeper.services.portal.visits import token_hash
from gatekeeper.services.records import on_roll_clause


class Audience(StrEnum):
    ALL = "all"  # every child on roll
    MISSING = "missing"  # children with a decision missing this year: the reminder
    YEAR_GROUP = "year-group"
    CONTACT = "contact"  # one family: a new link for a parent who lost theirs
    PUPIL = "pupil"  # one pupil who decides for themselves: a new link for a lost one


@dataclass(frozen=True)
class Link:
    recipient: str  # contact_id from the MIS, or the pupil's external id
    email: str
    url: str


@dataclass
class InviteReport:
    contacts: int = 0
    pupils: int = 0
    via: str = ""
    children_without_contact: int = 0  # no contact who may decide: the office must follow up
    barred: int = 0  # links not sent: no parental responsibility or no contact allowed
    links: list[Link] = field(default_factory=list)

    def line(self) -> str:
        where = "sent by e-mail" if self.via == "smtp" else "written to the outbox"
        text = (f"{self.contacts} parent/carer and {self.pupils} pupil invitation(s) {where}")
        if self.children_without_contact:
            text += (f"; {self.children_without_contact} child(ren) have no contact who may "
                     "decide (see the consent page)")
        return text


def _children(session: Session, audience: Audience, year_group: int | None, year: str,
              today: date, contact: Contact | None = None) -> list[Person]:
    pupils = session.scalars(select(Person).where(
        Person.kind == PersonKind.PUPIL, on_roll_clause(today)).order_by(Person.id)).all()
    if contact is not None:
        theirs = {link.person_id for link in contact.children}
        return [p for p in pupils if p.id in theirs]
    if audience is Audience.YEAR_GROUP:
        return [p for p in pupils if year_number(p.year_group) == year_group]
    if audience is Audience.MISSING:
        answered: dict[int, set[str]] = {}
        for pid, kind in session.execute(select(ConsentRecord.person_id, ConsentRecord.channel)
                                         .where(ConsentRecord.academic_year == year)):
            answered.setdefault(pid, set()).add(kind)
        wanted = {k.value for k in ConsentKind}
        return [p for p in pupils if not wanted <= answered.get(p.id, set())]
    return list(pupils)


def invite(*, ctx: Context, audience: Audience, actor_id: int | None,
           year_group: int | None = None, days: int | None = None,
           contact_ref: str | None = None, pupil_ref: str | None = None) -> InviteReport:
    """Make one link per contact who may decide for a child in `audience` (and one per pupil
    who decides for themselves and has an address), send them, and hand the links back.
    Audience.CONTACT sends one new link to the contact `contact_ref` alone (their older unused
    link stops working), for a parent who lost or never got theirs; Audience.PUPIL one new link
    to the pupil `pupil_ref` (their external id), who must decide for themselves and have an
    address on file."""
    require_user_role(ctx=ctx, actor_id=actor_id, roles=(Role.DPO,))
    base = required_base(ctx.settings)
    if audience is Audience.YEAR_GROUP and year_group is None:
        raise InvalidInput("say which year group, e.g. --year-group 7")
    if audience is Audience.CONTACT and not (contact_ref or "").strip():
        raise InvalidInput("say which contact, e.g. --contact C1 (the MIS contact id)")
    if audience is Audience.PUPIL and not (pupil_ref or "").strip():
        raise InvalidInput("say which pupil (their external id)")
    days = days or ctx.settings.invitation_days
    if not 1 <= days <= 60:
        raise InvalidInput("links may be valid for 1 to 60 days")
    today = ctx.today()
    year = academic_year(today, *ctx.year_start)
    reminder = audience is Audience.MISSING
    via = letters.transport(ctx.settings)
    report = InviteReport(via=via)
    head = letters.letterhead(ctx)
    now = utcnow()
    with ctx.uow() as uow:
        s = uow.session
        family = _contact(s, contact_ref) if audience is Audience.CONTACT else None
        kids = _children(s, audience, year_group, year, today, family)
        if audience is Audience.PUPIL:  # their own link only: their parents keep theirs
            kids = [k for k in kids if k.external_id == (pupil_ref or "").strip()]
        by_id = {k.id: k for k in kids}
        links = [] if audience is Audience.PUPIL else s.scalars(select(ContactChild).where(
            ContactChild.person_id.in_(by_id or {0}))).all()
        allowed: dict[int, list[Person]] = {}
        covered: set[int] = set()
        for link in links:
            if link.parental_responsibility and not link.no_contact:
                allowed.setdefault(link.contact_id, []).append(by_id[link.person_id])
                covered.add(link.person_id)
            else:
                report.barred += 1
        report.children_without_contact = len(set(by_id) - covered)
        if family is not None:  # their children's other parents keep the links they have
            if family.id not in allowed:
                raise InvalidInput(f"contact {family.ref} may not decide for any child on roll "
                                   "(no parental responsibility, or no contact allowed): no "
                                   "link was sent")
            allowed = {family.id: allowed[family.id]}
            report.barred = report.children_without_contact = 0
        contacts = {c.id: c for c in s.scalars(select(Contact).where(
            Contact.id.in_(allowed or {0})))}
        voice_from = int(options.read(s, decisions.PUPIL_VOICE_FROM_YEAR))
        messages = []
        kind = "reminder" if reminder else "invitation"

        def new_link(contact_id: int | None, pupil_id: int | None) -> str:
            token = secrets.token_urlsafe(32)
            s.add(PortalInvitation(token_hash=token_hash(token), contact_id=contact_id,
                                   pupil_id=pupil_id, kind=kind, delivered_via=via,
                                   created_at=now, expires_at=now + timedelta(days=days)))
            return f"{base}/portal/welcome/{token}"

        pupils = [kid for kid in kids if kid.email and family is None
                  and has_own_voice(kid.year_group, voice_from)]
        if audience is Audience.PUPIL and not pupils:
            raise InvalidInput(f"pupil {(pupil_ref or '').strip()} is not on roll, does not decide "
                               "for themselves, or has no e-mail address: no link was sent")
        # the newest link replaces any earlier one not yet used: fewer live links in mailboxes
        end_access(s, contact_ids=set(allowed), pupil_ids={k.id for k in pupils}, visits=False)
        for cid, children in sorted(allowed.items()):
            contact = contacts[cid]
            url = new_link(cid, None)
            names = sorted(c.given_name for c in children)
            messages.append(letters.invitation(
                head, to=contact.email, name=f"{contact.given_name} {contact.family_name}",
                children=names, url=url, days=days, reminder=reminder, pupil=False))
            report.links.append(Link(contact.ref, contact.email, url))
            report.contacts += 1
        for kid in pupils:
            url = new_link(None, kid.id)
            messages.append(letters.invitation(
                head, to=kid.email or "", name=kid.given_name, children=[kid.given_name],
                url=url, days=days, reminder=reminder, pupil=True))
            report.links.append(Link(kid.external_id, kid.email or "", url))
            report.pupils += 1
        s.flush()
        try:
            letters.send(ctx.settings, messages)
        except letters.MailError as exc:
            raise DeliveryFailed(str(exc)) from None  # rolled back: no link exists
        audit.record(s, "portal.invited", "portal", None, actor_id, audience=audience.value,
                     year_group=year_group, contacts=report.contacts, pupils=report.pupils,
                     via=via, kind=kind, academic_year=year,
                     contact_id=family.id if family else None)
        uow.commit()
    return report


def _contact(session: Session, ref: str | None) -> Contact:
    contact = session.scalar(select(Contact).where(Contact.ref == (ref or "").strip()))
    if contact is None:
        raise NotFound(f"no contact {(ref or '').strip()} (the MIS contact_id in contacts.csv)")
    return contact


def links_csv(report: InviteReport) -> str:
    """The links for the school's own messaging system (contact, email, link); contact ids come
    from the MIS, so formulas are neutralised."""
    return to_csv([("contact", "email", "link"),
                   *((link.recipient, link.email, link.url) for link in report.links)])


LINKS_CSV_TTL_S = 3600  # a links list not downloaded within the hour is deleted


def _links_key(token: str) -> str:
    if not token.isalnum() or len(token) != 32:
        raise NotFound("that list of links is unknown or was already downloaded")
    return f"invitations/{token}-{int(time.time())}.csv"


def keep_links_csv(*, ctx: Context, report: InviteReport) -> str:
    """Keep the links privately for one download by the DPO (within the hour): returns its
    token."""
    token = secrets.token_hex(16)
    ctx.stores.private.put(_links_key(token), links_csv(report).encode())
    return token


def take_links_csv(*, ctx: Context, token: str) -> bytes:
    """The kept links, once: deleted as they are handed over."""
    _links_key(token)  # checks the token's form
    for key in ctx.stores.private.keys(f"invitations/{token}-"):
        data = ctx.stores.private.get(key)
        ctx.stores.private.delete(key)
        return data
    raise NotFound("that list of links is unknown or was already downloaded")


def forget_old_links_csv(*, ctx: Context, now: float | None = None) -> int:
    """Delete links lists older than the hour (nobody downloaded them)."""
    now = now or time.time()
    gone = 0
    for key in list(ctx.stores.private.keys("invitations/")):
        stamp = key.rsplit("-", 1)[-1].removesuffix(".csv")
        if stamp.isdigit() and now - int(stamp) > LINKS_CSV_TTL_S:
            ctx.stores.private.delete(key)
            gone += 1
    return gone
