"""Finding one family's contact, for the DPO to send them a new portal link."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, or_, select

from consent_db.models import Contact, ContactChild, Person
from gatekeeper.services.context import Context


@dataclass(frozen=True)
class Family:
    """One contact as the Parents page lists it for a new link (the DPO sees names)."""

    ref: str
    name: str
    email: str
    children: list[str]
    may_decide: bool


MAX_FAMILIES_SHOWN = 20


def find_families(*, ctx: Context, text: str) -> list[Family]:
    """Contacts whose name, e-mail address, contact id or child's name contains `text` (at most
    MAX_FAMILIES_SHOWN), for the DPO to send one of them a new link."""
    needle = text.strip().lower()
    if not needle:
        return []
    like = f"%{needle.replace('%', '').replace('_', '')}%"
    with ctx.uow() as uow:
        s = uow.session
        child_match = select(ContactChild.contact_id).join(Person).where(or_(
            func.lower(Person.given_name + " " + Person.family_name).like(like),
            func.lower(Person.external_id).like(like)))
        found = s.scalars(select(Contact).where(or_(
            func.lower(Contact.ref).like(like), func.lower(Contact.email).like(like),
            func.lower(Contact.given_name + " " + Contact.family_name).like(like),
            Contact.id.in_(child_match))).order_by(Contact.family_name, Contact.given_name,
                                                   Contact.ref).limit(MAX_FAMILIES_SHOWN)).all()
        today = ctx.today()
        out = []
        for c in found:
            kids = [(link, s.get(Person, link.person_id)) for link in c.children]
            on_roll = [(link, p) for link, p in kids if p is not None and p.kind == "pupil"
                       and (p.left_on is None or p.left_on > today)]
            out.append(Family(
                c.ref, f"{c.given_name} {c.family_name}", c.email,
                sorted(f"{p.given_name} {p.family_name}" for _link, p in on_roll),
                any(link.parental_responsibility and not link.no_contact
                    for link, _p in on_roll)))
        return out

