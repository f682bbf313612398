"""Visits to the consent portal: parents and carers (and pupils old enough to decide) open it
with a single-use link; a visit lasts an hour and ends when their rights change.

A portal visitor is never a staff user: a visit reaches exactly the children its contact may
decide for today (parental responsibility, no bar on contact), checked on every request
(`gatekeeper.services.portal.answers` does the rest)."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from consent_db import audit
from consent_db.db import OPERATOR
from consent_db.models import (
    Contact,
    Person,
    PortalInvitation,
    PortalSession,
    utcnow,
)
from gatekeeper.domain.deciders import has_own_voice
from gatekeeper.domain.retention import on_roll
from gatekeeper.domain.vocabulary import PersonKind
from gatekeeper.errors import InvalidInput, SignInRequired
from gatekeeper.services.accounts import options
from gatekeeper.services.consent import decisions
from gatekeeper.services.context import Context

SELF = 0  # a pupil's handle for themselves


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


@dataclass(frozen=True)
class PortalActor:
    """Who is using the portal: a contact, or a pupil deciding for themselves."""

    session_id: str
    contact_id: int | None
    pupil_id: int | None
    name: str
    email: str
    ref: str  # "contact:C001" or "pupil:P0007": the actor named in audit events


def open_session(*, ctx: Context, token: str) -> str:
    """Use a link once: returns a new portal session id. A used, expired, replaced or unknown
    link opens nothing and says so."""
    if not token or len(token) > 200:
        raise InvalidInput("this link is not valid: ask the school office for a new one")
    with ctx.uow() as uow:
        s = uow.session
        invitation = s.scalar(select(PortalInvitation).where(
            PortalInvitation.token_hash == token_hash(token)).with_for_update())
        now = utcnow()
        if invitation is None:
            raise InvalidInput("this link is not valid: ask the school office for a new one")
        if invitation.used_at is not None:
            raise InvalidInput("this link has already been used: each link works once. Get a new "
                               "one by e-mail below, or ask the school office")
        if invitation.expires_at <= now:
            raise InvalidInput("this link has expired: get a new one by e-mail below, or ask the "
                               "school office")
        if invitation.contact_id is not None and not decisions.may_decide(
                s, invitation.contact_id):
            raise InvalidInput("this link no longer gives access: please contact the school "
                               "office")
        if invitation.pupil_id is not None and not _pupil_may_decide(ctx, s, invitation.pupil_id):
            raise InvalidInput("this link no longer gives access: please contact the school "
                               "office")
        used = s.execute(update(PortalInvitation).where(
            PortalInvitation.id == invitation.id, PortalInvitation.used_at.is_(None))
            .values(used_at=now))
        if getattr(used, "rowcount", 0) != 1:  # another request used it a moment ago
            raise InvalidInput("this link has already been used: each link works once. Get a new "
                               "one by e-mail below, or ask the school office")
        if invitation.contact_id is not None:  # the visitor is named in the audit event
            contact = s.get(Contact, invitation.contact_id)
            s.info[OPERATOR] = f"contact:{contact.ref if contact else invitation.contact_id}"
        else:
            pupil = s.get(Person, invitation.pupil_id)
            s.info[OPERATOR] = f"pupil:{pupil.external_id if pupil else invitation.pupil_id}"
        session_id = secrets.token_urlsafe(32)
        s.add(PortalSession(id=session_id, contact_id=invitation.contact_id,
                            pupil_id=invitation.pupil_id, created_at=now,
                            expires_at=now + timedelta(
                                seconds=ctx.settings.portal_session_max_age_s)))
        audit.record(s, "portal.opened", "contact" if invitation.contact_id else "person",
                     invitation.contact_id or invitation.pupil_id, None,
                     invitation_id=invitation.id)
        uow.commit()
        return session_id


def _pupil_may_decide(ctx: Context, s: Session, pupil_id: int) -> bool:
    pupil = s.get(Person, pupil_id)
    today = ctx.today()
    return bool(pupil and pupil.kind == PersonKind.PUPIL and on_roll(pupil.left_on, today)
                and has_own_voice(pupil.year_group,
                                  int(options.read(s, decisions.PUPIL_VOICE_FROM_YEAR))))


def portal_actor(*, ctx: Context, session_id: str | None) -> PortalActor:
    """The visitor of a live portal session, or SignInRequired."""
    if not session_id:
        raise SignInRequired("open the portal with a link from the school's e-mail; each link "
                             "works once, so ask the school office for a new one if yours "
                             "was used")
    with ctx.uow() as uow:
        s = uow.session
        row = s.get(PortalSession, session_id)
        if row is None or row.revoked_at is not None or row.expires_at <= utcnow():
            raise SignInRequired("your visit has ended. Each link works once: ask the school "
                                 "office for a new link to change your answers")
        if row.contact_id is not None:
            contact = s.get(Contact, row.contact_id)
            if contact is None:
                raise SignInRequired("your portal visit has ended")
            return PortalActor(session_id, contact.id, None,
                               f"{contact.given_name} {contact.family_name}", contact.email,
                               f"contact:{contact.ref}")
        pupil = s.get(Person, row.pupil_id) if row.pupil_id else None
        if pupil is None or not _pupil_may_decide(ctx, s, pupil.id):
            raise SignInRequired("your portal visit has ended")
        return PortalActor(session_id, None, pupil.id, f"{pupil.given_name} {pupil.family_name}",
                           pupil.email or "", f"pupil:{pupil.external_id}")


def close_session(*, ctx: Context, session_id: str | None) -> None:
    if not session_id:
        return
    with ctx.uow() as uow:
        row = uow.session.get(PortalSession, session_id)
        if row is not None and row.revoked_at is None:
            row.revoked_at = utcnow()
            uow.commit()


