"""The DPO's admin pages (people and consent, cameras, users, the audit log) and the events
list: parse, call one service, render."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Form, Request, UploadFile
from fastapi.responses import RedirectResponse, Response

from gatekeeper.domain.vocabulary import ConsentKind, Role
from gatekeeper.errors import GatekeeperError, InvalidInput, InvalidState
from gatekeeper.services.accounts import users
from gatekeeper.services.accounts.users import Actor
from gatekeeper.services.consent import people
from gatekeeper.services.consent import read as people_read
from gatekeeper.services.consent.enrol import remove_templates, stage_reference
from gatekeeper.services.context import Context
from gatekeeper.services.dpo import read as dpo_read
from gatekeeper.services.photos import read as photo_read
from gatekeeper.services.photos.devices import add_device, set_device_active
from web.deps import ContextDep, roles
from web.forms import RecordId, day_from, read_upload
from web.offload import offload
from web.security import check_csrf
from web.templating import templates

router = APIRouter()
PEOPLE_PAGE = 100


def _people(request: Request, ctx: Context, user: Actor, q: str, page: int,
            preview: dict[str, Any] | None, status: int = 200) -> Response:
    page = max(1, page)
    rows, total = people_read.search_people(ctx=ctx, q=q, limit=PEOPLE_PAGE,
                                        offset=(page - 1) * PEOPLE_PAGE)
    return templates.TemplateResponse(request, "people.html", {
        "user": user, "people": rows, "q": q, "preview": preview, "total": total,
        "page": page, "pages": max(1, -(-total // PEOPLE_PAGE))}, status_code=status)


@router.get("/people")
def people_page(request: Request, ctx: ContextDep, q: str = "", page: int = 1,
                user: Actor = roles(Role.DPO)) -> Response:
    return _people(request, ctx, user, q, page, None)


@router.post("/people/import")
async def people_import(request: Request, ctx: ContextDep, file: UploadFile | None = None,
                        kind: str = Form("people"), csrf: str = Form(""),
                        user: Actor = roles(Role.DPO)) -> Response:
    """Upload a people or consent CSV: a preview of the changes first, the import on confirm."""
    check_csrf(request, csrf)
    if file is None or not file.filename:
        raise InvalidInput("choose a CSV file to import")
    data = await read_upload(file, people.MAX_CSV_BYTES)
    try:
        staged = await offload(people.stage_import, ctx=ctx, kind=kind, data=data,
                               actor_id=user.id)
    except GatekeeperError as exc:
        preview = {"kind": kind, "error": str(exc), "done": False, "name": file.filename}
        return _people(request, ctx, user, "", 1, preview, status=exc.http_status)
    preview = {"kind": kind, "error": None, "report": staged.report, "done": False,
               "name": file.filename, "token": staged.token}
    return _people(request, ctx, user, "", 1, preview)


@router.post("/people/import/confirm")
async def people_import_confirm(request: Request, ctx: ContextDep, token: str = Form(""),
                                keep: str = Form(""), csrf: str = Form(""),
                                user: Actor = roles(Role.DPO)) -> Response:
    check_csrf(request, csrf)
    done = await offload(people.confirm_import, ctx=ctx, token=token, actor_id=user.id,
                         keep_app_values=keep == "yes")
    preview = {"kind": done.kind, "error": None, "report": done.report, "done": True,
               "name": ""}
    return _people(request, ctx, user, "", 1, preview)


SAVED = {"consent": "Consent form recorded.", "person": "Leaving date and flags saved.",
         "references": "Reference photos received: each is turned into a template or refused "
                       "within a minute (see History).",
         "templates": "All face templates of this person were deleted.",
         "template": "The face template was deleted; {covered} face(s) it may have identified are "
                     "covered until an editor names them again."}


@router.get("/people/{external_id}")
def person_page(request: Request, ctx: ContextDep, external_id: str, saved: str = "",
                covered: int = 0, user: Actor = roles(Role.DPO)) -> Response:
    page = dpo_read.person_page(ctx=ctx, external_id=external_id)
    return templates.TemplateResponse(request, "person.html", {
        "user": user, "person": page.person, "consents": page.consents, "history": page.history,
        "photos": page.photos,
        "templates_count": page.templates_count, "templates": page.templates,
        "channels": [k.value for k in ConsentKind], "year": page.year,
        "today": ctx.today().isoformat(),
        "saved": SAVED[saved].format(covered=covered) if saved in SAVED else None})


@router.post("/people/{external_id}/consent")
def person_consent(request: Request, ctx: ContextDep, external_id: str,
                   academic_year_: str = Form(..., alias="academic_year"),
                   channel: str = Form(...), granted: str = Form(...),
                   recorded_on: str = Form(...), evidence: str = Form(""), csrf: str = Form(""),
                   user: Actor = roles(Role.DPO)) -> Response:
    check_csrf(request, csrf)
    day = day_from(recorded_on, field="recorded_on")
    if day is None:
        raise InvalidInput("the date on the form is needed", field="recorded_on")
    people.record_consent(ctx=ctx, external_id=external_id, academic_year=academic_year_,
                          channel=channel, granted=granted == "yes", recorded_on=day,
                          evidence=evidence, actor_id=user.id)
    return RedirectResponse(f"/people/{external_id}?saved=consent", status_code=303)


@router.post("/people/{external_id}/update")
def person_update(request: Request, ctx: ContextDep, external_id: str, left_on: str = Form(""),
                  biometric_consent: str = Form(""), safeguarding_no_photo: str = Form(""),
                  csrf: str = Form(""), user: Actor = roles(Role.DPO)) -> Response:
    check_csrf(request, csrf)
    people.update_person(ctx=ctx, external_id=external_id, actor_id=user.id,
                         left_on=day_from(left_on, "2026-07-20", field="left_on"),
                         biometric_consent=biometric_consent == "yes",
                         safeguarding_no_photo=safeguarding_no_photo == "yes")
    return RedirectResponse(f"/people/{external_id}?saved=person", status_code=303)


@router.post("/people/{external_id}/references")
async def person_reference(request: Request, ctx: ContextDep, external_id: str,
                           files: list[UploadFile] | None = None, csrf: str = Form(""),
                           user: Actor = roles(Role.DPO)) -> Response:
    """Reference photos are enrolled by a worker; the person page shows the result."""
    check_csrf(request, csrf)
    files = [f for f in files or [] if f.filename]
    if not files:
        raise InvalidInput("choose at least one reference photo")
    for f in files:
        data = await read_upload(f, ctx.settings.max_upload_bytes)
        await offload(stage_reference, ctx=ctx, external_id=external_id, data=data,
                      actor_id=user.id)
    return RedirectResponse(f"/people/{external_id}?saved=references", status_code=303)


@router.post("/people/{external_id}/references/remove")
def person_reference_remove(request: Request, ctx: ContextDep, external_id: str,
                            confirm: str = Form(""), csrf: str = Form(""),
                            user: Actor = roles(Role.DPO)) -> Response:
    """Deleting every template needs the confirmation box ticked (a destructive action)."""
    check_csrf(request, csrf)
    if confirm != "yes":
        raise InvalidInput("tick the box to confirm that all face templates are to be deleted",
                           field="confirm")
    remove_templates(ctx=ctx, external_id=external_id, actor_id=user.id)
    return RedirectResponse(f"/people/{external_id}?saved=templates", status_code=303)


@router.get("/events")
def events_page(request: Request, ctx: ContextDep,
                user: Actor = roles(Role.OFFICE, Role.EDITOR, Role.DPO)) -> Response:
    return templates.TemplateResponse(request, "events.html", {
        "user": user, "events": photo_read.events(ctx=ctx)})


def _devices(request: Request, ctx: Context, user: Actor, error: str | None = None,
             typed: dict[str, str] | None = None, saved: str = "", status: int = 200) -> Response:
    return templates.TemplateResponse(request, "devices.html", {
        "user": user, "devices": photo_read.devices(ctx=ctx), "error": error,
        "typed": typed or {}, "saved": saved}, status_code=status)


@router.get("/devices")
def devices_page(request: Request, ctx: ContextDep, saved: str = "",
                 user: Actor = roles(Role.DPO)) -> Response:
    return _devices(request, ctx, user, saved=saved)


@router.post("/devices")
def devices_add(request: Request, ctx: ContextDep, make: str = Form(...), model: str = Form(...),
                serial: str = Form(...), label: str = Form(""), csrf: str = Form(""),
                user: Actor = roles(Role.DPO)) -> Response:
    """A refused registration (a duplicate, a blank serial) is told on the page, keeping what
    was typed."""
    check_csrf(request, csrf)
    try:
        add_device(ctx=ctx, make=make, model=model, serial=serial, label=label, actor_id=user.id)
    except (InvalidInput, InvalidState) as exc:
        typed = {"make": make, "model": model, "serial": serial, "label": label}
        return _devices(request, ctx, user, str(exc), typed, status=exc.http_status)
    return RedirectResponse("/devices?saved=added", status_code=303)


@router.post("/devices/{device_id}/active")
def devices_active(request: Request, ctx: ContextDep, device_id: RecordId, active: str = Form(""),
                   since: str = Form(""), csrf: str = Form(""),
                   user: Actor = roles(Role.DPO)) -> Response:
    check_csrf(request, csrf)
    try:
        day = date.fromisoformat(since) if since.strip() else None
    except ValueError:
        return _devices(request, ctx, user, f"not a date: {since!r} (use the date picker)", {},
                        status=400)
    set_device_active(ctx=ctx, device_id=device_id, active=active == "yes", actor_id=user.id,
                      since=day)
    return RedirectResponse("/devices", status_code=303)


@router.get("/users")
def users_page(request: Request, ctx: ContextDep, user: Actor = roles(Role.DPO)) -> Response:
    return templates.TemplateResponse(request, "users.html", {
        "user": user, "users": users.list_users(ctx=ctx), "roles": [r.value for r in Role]})


@router.post("/users")
def users_add(request: Request, ctx: ContextDep, username: str = Form(...),
              role: list[str] | None = Form(None), password: str = Form(...),
              csrf: str = Form(""), user: Actor = roles(Role.DPO)) -> Response:
    check_csrf(request, csrf)
    users.add_user(ctx=ctx, username=username.strip(), roles=",".join(role or []),
                   password=password, actor_id=user.id)
    return RedirectResponse("/users", status_code=303)


@router.post("/users/{username}/active")
def users_active(request: Request, ctx: ContextDep, username: str, active: str = Form(""),
                 csrf: str = Form(""), user: Actor = roles(Role.DPO)) -> Response:
    check_csrf(request, csrf)
    users.set_active(ctx=ctx, username=username, active=active == "yes", actor_id=user.id)
    return RedirectResponse("/users", status_code=303)


@router.post("/users/{username}/roles")
def users_roles(request: Request, ctx: ContextDep, username: str,
                role: list[str] | None = Form(None), csrf: str = Form(""),
                user: Actor = roles(Role.DPO)) -> Response:
    check_csrf(request, csrf)
    users.set_roles(ctx=ctx, username=username, roles=",".join(role or []), actor_id=user.id)
    return RedirectResponse("/users", status_code=303)


@router.post("/users/{username}/password")
def users_password(request: Request, ctx: ContextDep, username: str, password: str = Form(...),
                   csrf: str = Form(""), user: Actor = roles(Role.DPO)) -> Response:
    check_csrf(request, csrf)
    users.set_password(ctx=ctx, username=username, password=password, actor_id=user.id)
    return RedirectResponse("/users", status_code=303)


@router.get("/audit")
def audit_page(request: Request, ctx: ContextDep, action: str = "", entity: str = "",
               entity_id: int | None = None, actor: str = "", before: int | None = None,
               user: Actor = roles(Role.DPO)) -> Response:
    page = dpo_read.audit_events(ctx=ctx, action=action, entity=entity, entity_id=entity_id,
                                actor=actor, before=before)
    return templates.TemplateResponse(request, "audit.html", {
        "user": user, "events": page.events, "names": page.names, "older": page.older,
        "action": action, "entity": entity, "entity_id": entity_id, "actor": actor})
