"""The DPO's and office's admin pages: people and consent, devices, the audit log."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Form, Request, UploadFile
from fastapi.responses import RedirectResponse
from sqlalchemy import case, func, or_, select

from consent_db.mis_import import ImportRejected
from consent_db.models import AuditEvent, ConsentRecord, Device, Event, Person, Photo, User
from gatekeeper.config import CHANNELS
from gatekeeper.retention import academic_year
from gatekeeper.services.devices import add_device
from gatekeeper.services.enrol import remove_templates, stage_reference
from gatekeeper.services.people import (
    get_person,
    import_consent,
    import_people,
    record_consent,
    update_person,
)

from .app import templates
from .deps import ContextDep, roles
from .security import check_csrf

router = APIRouter()


def _day(text: str) -> date | None:
    return date.fromisoformat(text) if text else None


@router.get("/people")
def people_page(request: Request, ctx: ContextDep, q: str = "", user=roles("dpo")):
    with ctx.uow() as uow:
        query = select(Person).order_by(Person.family_name, Person.given_name).limit(200)
        if q:
            like = f"%{q.strip()}%"
            query = query.where(or_(Person.given_name.ilike(like), Person.family_name.ilike(like),
                                    Person.external_id.ilike(like)))
        people = uow.session.scalars(query).all()
    return templates.TemplateResponse(request, "people.html", {"user": user, "people": people,
                                                                "q": q, "preview": None})


@router.post("/people/import")
async def people_import(request: Request, ctx: ContextDep, file: UploadFile, kind: str = Form(...),
                        confirm: str = Form(""), csrf: str = Form(""), user=roles("dpo")):
    """Upload a people or consent CSV: first a preview of the changes, then import on confirm."""
    check_csrf(request, csrf)
    data = await file.read(5_000_000)
    run = import_people if kind == "people" else import_consent
    extra = {"today": ctx.today()} if kind == "people" else {}
    error, report = None, None
    try:
        with ctx.uow() as uow:
            report = run(uow=uow, data=data, actor_id=user.id, commit=bool(confirm), **extra)
    except ImportRejected as exc:
        error = str(exc)
    preview = {"kind": kind, "error": error, "report": report, "done": bool(confirm),
               "name": file.filename, "data": data.decode("utf-8", "replace") if not confirm else ""}
    return templates.TemplateResponse(request, "people.html", {
        "user": user, "people": [], "q": "", "preview": preview},
        status_code=400 if error else 200)


@router.post("/people/import/confirm")
def people_import_confirm(request: Request, ctx: ContextDep, kind: str = Form(...),
                          data: str = Form(...), csrf: str = Form(""), user=roles("dpo")):
    check_csrf(request, csrf)
    run = import_people if kind == "people" else import_consent
    extra = {"today": ctx.today()} if kind == "people" else {}
    with ctx.uow() as uow:
        report = run(uow=uow, data=data.encode(), actor_id=user.id, **extra)
    preview = {"kind": kind, "error": None, "report": report, "done": True, "name": "", "data": ""}
    return templates.TemplateResponse(request, "people.html", {"user": user, "people": [],
                                                                "q": "", "preview": preview})


@router.get("/people/{external_id}")
def person_page(request: Request, ctx: ContextDep, external_id: str, user=roles("dpo")):
    with ctx.uow() as uow:
        person = get_person(uow.session, external_id)
        consents = uow.session.scalars(select(ConsentRecord).where(
            ConsentRecord.person_id == person.id).order_by(ConsentRecord.academic_year.desc(),
                                                          ConsentRecord.channel)).all()
        ids = [c.id for c in consents]
        history = uow.session.scalars(select(AuditEvent).where(or_(
            (AuditEvent.entity == "person") & (AuditEvent.entity_id == person.id),
            (AuditEvent.entity == "consent") & AuditEvent.entity_id.in_(ids or [0]),
        )).order_by(AuditEvent.id.desc()).limit(100)).all()
        templates_count = len(person.templates)
    return templates.TemplateResponse(request, "person.html", {
        "user": user, "person": person, "consents": consents, "history": history,
        "templates_count": templates_count, "channels": CHANNELS + ("retain",),
        "year": academic_year(ctx.today(), *ctx.year_start), "today": ctx.today().isoformat()})


@router.post("/people/{external_id}/consent")
def person_consent(request: Request, ctx: ContextDep, external_id: str,
                   academic_year_: str = Form(..., alias="academic_year"),
                   channel: str = Form(...), granted: str = Form(...),
                   recorded_on: str = Form(...), evidence: str = Form(""), csrf: str = Form(""),
                   user=roles("dpo")):
    check_csrf(request, csrf)
    try:
        day = date.fromisoformat(recorded_on)
    except ValueError:
        raise ImportRejected("the date must look like 2026-09-10") from None
    with ctx.uow() as uow:
        record_consent(uow=uow, external_id=external_id, academic_year=academic_year_,
                       channel=channel, granted=granted == "yes", recorded_on=day,
                       evidence=evidence, actor_id=user.id)
    return RedirectResponse(f"/people/{external_id}", status_code=303)


@router.post("/people/{external_id}/update")
def person_update(request: Request, ctx: ContextDep, external_id: str, left_on: str = Form(""),
                  biometric_consent: str = Form(""), safeguarding_no_photo: str = Form(""),
                  csrf: str = Form(""), user=roles("dpo")):
    check_csrf(request, csrf)
    try:
        left = _day(left_on)
    except ValueError:
        raise ImportRejected("the leaving date must look like 2026-07-20") from None
    with ctx.uow() as uow:
        update_person(uow=uow, external_id=external_id, today=ctx.today(), actor_id=user.id,
                      left_on=left, biometric_consent=biometric_consent == "yes",
                      safeguarding_no_photo=safeguarding_no_photo == "yes")
    return RedirectResponse(f"/people/{external_id}", status_code=303)


@router.post("/people/{external_id}/references")
async def person_reference(request: Request, ctx: ContextDep, external_id: str,
                           files: list[UploadFile], csrf: str = Form(""), user=roles("dpo")):
    """Reference photos are enrolled by a worker; the person page shows the result."""
    check_csrf(request, csrf)
    for f in files:
        data = await f.read(ctx.settings.max_upload_bytes + 1)
        key = stage_reference(ctx=ctx, external_id=external_id, data=data, today=ctx.today(),
                              actor_id=user.id)
        request.app.state.tasks["enrol_reference"](external_id, key, user.id)
    return RedirectResponse(f"/people/{external_id}", status_code=303)


@router.post("/people/{external_id}/references/remove")
def person_reference_remove(request: Request, ctx: ContextDep, external_id: str,
                            csrf: str = Form(""), user=roles("dpo")):
    check_csrf(request, csrf)
    remove_templates(ctx=ctx, external_id=external_id, actor_id=user.id)
    return RedirectResponse(f"/people/{external_id}", status_code=303)


@router.get("/events")
def events_page(request: Request, ctx: ContextDep, user=roles("office", "editor", "dpo")):
    with ctx.uow() as uow:
        rows = uow.session.execute(
            select(Event.id, Event.name, Event.slug, Event.created_at,
                   func.count(Photo.id), func.sum(case((Photo.status == "awaiting_review", 1),
                                                       else_=0)))
            .outerjoin(Photo, Photo.event_id == Event.id).group_by(Event.id)
            .order_by(Event.created_at.desc())).all()
    return templates.TemplateResponse(request, "events.html", {"user": user, "events": rows})


@router.get("/devices")
def devices_page(request: Request, ctx: ContextDep, user=roles("office", "dpo")):
    with ctx.uow() as uow:
        devices = uow.session.scalars(select(Device).order_by(Device.id)).all()
    return templates.TemplateResponse(request, "devices.html", {"user": user, "devices": devices})


@router.post("/devices")
def devices_add(request: Request, ctx: ContextDep, make: str = Form(...), model: str = Form(...),
                serial: str = Form(...), label: str = Form(""), csrf: str = Form(""),
                user=roles("office", "dpo")):
    check_csrf(request, csrf)
    with ctx.uow() as uow:
        add_device(uow=uow, make=make, model=model, serial=serial, label=label, actor_id=user.id)
    return RedirectResponse("/devices", status_code=303)


@router.get("/audit")
def audit_page(request: Request, ctx: ContextDep, action: str = "", entity: str = "",
               entity_id: int | None = None, actor: str = "", user=roles("dpo")):
    with ctx.uow() as uow:
        query = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(300)
        if action:
            query = query.where(AuditEvent.action.startswith(action))
        if entity:
            query = query.where(AuditEvent.entity == entity)
        if entity_id is not None:
            query = query.where(AuditEvent.entity_id == entity_id)
        if actor:
            actor_id = uow.session.scalar(select(User.id).where(User.username == actor))
            query = query.where(AuditEvent.actor_id == (actor_id or -1))
        events = uow.session.scalars(query).all()
        names = dict(uow.session.execute(select(User.id, User.username)).all())
    return templates.TemplateResponse(request, "audit.html", {
        "user": user, "events": events, "names": names, "action": action, "entity": entity,
        "entity_id": entity_id, "actor": actor})
