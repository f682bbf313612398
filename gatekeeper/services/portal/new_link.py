"""A family (or a pupil who decides for themselves) whose link was used or has expired asks for
a new one by typing their e-mail address: the new link goes to the address the school has on
file, never to one typed in, and the answer is the same whether or not the address is known
(no hint who is a parent or pupil here)."""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import func, select

from consent_db.models import Contact, Person, PortalInvitation, utcnow
from gatekeeper.domain.vocabulary import PersonKind
from gatekeeper.errors import GatekeeperError, InvalidInput
from gatekeeper.services.context import Context
from gatekeeper.services.portal.invitations import Audience, invite

log = logging.getLogger(__name__)
NEW_LINK_GAP = timedelta(minutes=10)  # one link per family per ten minutes, however often asked
MAX_ADDRESS = 254


def checked_address(text: str) -> str:
    """The typed address, or InvalidInput when it cannot be an e-mail address at all (a typo
    the person can fix; it says nothing about who is known)."""
    address = (text or "").strip()
    local, _, domain = address.rpartition("@")
    if not local or "." not in domain or len(address) > MAX_ADDRESS or any(
            c.isspace() for c in address):
        raise InvalidInput("type the e-mail address the school sends its messages to, such as "
                           "name@example.org", field="email")
    return address


def email_new_link(*, ctx: Context, address: str) -> int:
    """Send a new link to every contact on file with this address who may still decide for a
    child, and to a pupil with this address who decides for themselves, each unless they had a
    link in the last ten minutes; returns how many were sent (for the tests and the log only:
    the visitor is never told)."""
    wanted = checked_address(address).lower()
    since = utcnow() - NEW_LINK_GAP
    with ctx.uow() as uow:
        s = uow.session
        asks: list[tuple[Audience, str]] = [
            (Audience.CONTACT, ref) for ref, cid in s.execute(select(Contact.ref, Contact.id).where(
                func.lower(Contact.email) == wanted).order_by(Contact.id))
            if not s.scalar(select(func.count(PortalInvitation.id)).where(
                PortalInvitation.contact_id == cid, PortalInvitation.created_at >= since))]
        asks += [(Audience.PUPIL, ext) for ext, pid in s.execute(
            select(Person.external_id, Person.id).where(
                func.lower(Person.email) == wanted, Person.kind == PersonKind.PUPIL)
            .order_by(Person.id))
            if not s.scalar(select(func.count(PortalInvitation.id)).where(
                PortalInvitation.pupil_id == pid, PortalInvitation.created_at >= since))]
    sent = 0
    for audience, ref in asks:
        try:
            if audience is Audience.CONTACT:
                invite(ctx=ctx, audience=audience, contact_ref=ref, actor_id=None)
            else:
                invite(ctx=ctx, audience=audience, pupil_ref=ref, actor_id=None)
            sent += 1
        except GatekeeperError as exc:  # no longer a decider, mail down: the school's log says
            log.warning("a new portal link a family asked for was not sent: %s",
                        type(exc).__name__)
    return sent
