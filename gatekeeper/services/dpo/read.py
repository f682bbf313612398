"""Read models of the DPO's pages: one person's record and history, and the audit log."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select

from consent_db.models import (
    AuditEvent,
    ConsentRecord,
    User,
)
from gatekeeper.domain.retention import academic_year
from gatekeeper.services.consent.people import get_person
from gatekeeper.services.consent.read import PersonSummary
from gatekeeper.services.consent.templates import template_rows
from gatekeeper.services.context import Context
from gatekeeper.services.dpo.register import person_register


@dataclass(frozen=True)
class PersonPage:
    photos: list[dict[str, Any]]  # every photo they are identified in, shown/covered per channel
    person: PersonSummary
    consents: list[dict[str, Any]]
    history: list[dict[str, Any]]
    templates_count: int
    year: str
    templates: list[dict[str, Any]]  # when made, at what age, from what (no vectors)


def person_page(*, ctx: Context, external_id: str) -> PersonPage:
    with ctx.uow() as uow:
        p = get_person(uow.session, external_id)
        consents = uow.session.scalars(select(ConsentRecord).where(
            ConsentRecord.person_id == p.id).order_by(ConsentRecord.academic_year.desc(),
                                                      ConsentRecord.channel)).all()
        ids = [c.id for c in consents]
        history = uow.session.scalars(select(AuditEvent).where(or_(
            (AuditEvent.entity == "person") & (AuditEvent.entity_id == p.id),
            (AuditEvent.entity == "consent") & AuditEvent.entity_id.in_(ids or [0]),
        )).order_by(AuditEvent.id.desc()).limit(100)).all()
        return PersonPage(
            person_register(ctx=ctx, external_id=external_id)["photos"],
            PersonSummary.of(p),
            [{"academic_year": c.academic_year, "channel": c.channel, "granted": c.granted,
              "recorded_on": c.recorded_on, "withdrawn_on": c.withdrawn_on,
              "evidence": c.evidence} for c in consents],
            [_event_dict(e) for e in history], len(p.templates),
            academic_year(ctx.today(), *ctx.year_start),
            template_rows(uow.session, p.id, ctx.year_start, ctx.today()))


EVENT_WORDS = {
    "person.created": "added to the register", "person.updated": "record changed",
    "person.enrolled": "face recognition set up", "consent.granted": "consent given",
    "consent.refused": "consent refused", "consent.withdrawn": "consent withdrawn",
    "consent.decided": "consent decided on the portal", "reference.staged": "reference photo received",
    "reference.refused": "reference photo refused", "template.added": "face template made",
    "template.deleted": "face templates deleted", "template.removed": "a face template removed",
    "template.refused": "face template refused", "portal.opened": "opened the parents' portal",
    "portal.invited": "invited to the parents' portal", "face.identified": "named in a photo",
}


def event_words(action: str) -> str:
    """An audit action as plain words for a person's history (`consent.granted` reads
    "consent given"); an action without words of its own reads as its parts."""
    return EVENT_WORDS.get(action) or action.replace(".", ": ").replace("_", " ")


def _event_dict(e: AuditEvent) -> dict[str, Any]:
    return {"id": e.id, "at": e.at.isoformat(), "actor_id": e.actor_id, "action": e.action,
            "what": event_words(e.action),
            "entity": e.entity, "entity_id": e.entity_id, "details": e.details}


@dataclass(frozen=True)
class AuditPage:
    events: list[dict[str, Any]]
    names: dict[int, str]
    older: int | None  # id to pass as `before` for the next page, None on the last


def audit_events(*, ctx: Context, action: str = "", entity: str = "",
                 entity_id: int | None = None, actor: str = "", before: int | None = None,
                 limit: int = 300) -> AuditPage:
    """Audit events, newest first, filtered, a page at a time."""
    with ctx.uow() as uow:
        query = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit + 1)
        if action:
            query = query.where(AuditEvent.action.startswith(action))
        if entity:
            query = query.where(AuditEvent.entity == entity)
        if entity_id is not None:
            query = query.where(AuditEvent.entity_id == entity_id)
        if before is not None:
            query = query.where(AuditEvent.id < before)
        if actor:
            actor_id = uow.session.scalar(select(User.id).where(User.username == actor))
            query = query.where(AuditEvent.actor_id == (actor_id or -1))
        rows = list(uow.session.scalars(query))
        names = dict(uow.session.execute(select(User.id, User.username)).all())
    page = rows[:limit]
    return AuditPage([_event_dict(e) for e in page], names,
                     page[-1].id if len(rows) > limit else None)

