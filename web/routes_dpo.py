"""The DPO's answers to requests about one person (subject access export, erasure), face
templates (the refresh list, removing one) and the instance options."""

from __future__ import annotations

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from gatekeeper.domain.vocabulary import Role
from gatekeeper.errors import InvalidInput
from gatekeeper.services import options, purge, register
from gatekeeper.services import templates as face_templates
from gatekeeper.services.auditing import certificates
from gatekeeper.services.users import Actor
from web.deps import ContextDep, roles
from web.forms import RecordId
from web.offload import offload
from web.security import check_csrf
from web.templating import templates

router = APIRouter()


@router.get("/people/{external_id}/export")
async def subject_access(ctx: ContextDep, external_id: str,
                         user: Actor = roles(Role.DPO)) -> Response:
    export = await offload(register.subject_access_export, ctx=ctx, external_id=external_id,
                           user=user)
    return Response(export.data, media_type="application/zip", headers={
        "Content-Disposition": f'attachment; filename="subject-access-{external_id}.zip"',
        "Cache-Control": "no-store"})


@router.get("/people/{external_id}/erase")
def erase_page(request: Request, ctx: ContextDep, external_id: str,
               user: Actor = roles(Role.DPO)) -> Response:
    """What erasing would do, and the confirmation form."""
    plan = purge.plan_erasure(ctx=ctx, external_id=external_id)
    return templates.TemplateResponse(request, "erase.html", {
        "user": user, "external_id": external_id, "plan": plan})


@router.post("/people/{external_id}/erase")
async def erase(request: Request, ctx: ContextDep, external_id: str, confirm: str = Form(""),
                csrf: str = Form(""), user: Actor = roles(Role.DPO)) -> Response:
    check_csrf(request, csrf)
    if confirm.strip() != external_id:
        raise InvalidInput(f"type {external_id} to confirm the erasure")
    await offload(purge.erase_person, ctx=ctx, external_id=external_id, user=user)
    return RedirectResponse("/certificates", status_code=303)


@router.get("/certificates")
def certificates_page(request: Request, ctx: ContextDep,
                      user: Actor = roles(Role.DPO, Role.GOVERNOR)) -> Response:
    return templates.TemplateResponse(request, "certificates.html", {
        "user": user, "certificates": list(reversed(certificates(ctx=ctx)))})


@router.get("/templates")
def templates_page(request: Request, ctx: ContextDep, user: Actor = roles(Role.DPO)) -> Response:
    """Pupils whose face templates are older than this academic year, or who have none."""
    return templates.TemplateResponse(request, "templates.html", {
        "user": user, "rows": face_templates.stale_templates(ctx=ctx)})


@router.post("/templates/{template_id}/remove")
def template_remove(request: Request, ctx: ContextDep, template_id: RecordId,
                    reason: str = Form(""), csrf: str = Form(""),
                    user: Actor = roles(Role.DPO)) -> Response:
    check_csrf(request, csrf)
    done = face_templates.remove_template(ctx=ctx, template_id=template_id, reason=reason,
                                          user=user)
    return RedirectResponse(f"/people/{done.external_id}?saved=template&covered="
                            f"{done.faces_covered}", status_code=303)


@router.get("/options")
def options_page(request: Request, ctx: ContextDep, saved: str = "",
                 user: Actor = roles(Role.DPO)) -> Response:
    return templates.TemplateResponse(request, "options.html", {
        "user": user, "options": options.list_options(ctx=ctx), "saved": saved})


@router.post("/options/{key}")
def options_set(request: Request, ctx: ContextDep, key: str, value: str = Form(""),
                csrf: str = Form(""), user: Actor = roles(Role.DPO)) -> Response:
    """A yes/no option posts "yes" when ticked and nothing otherwise."""
    check_csrf(request, csrf)
    options.change_option(ctx=ctx, key=key, text=value, user=user)
    return RedirectResponse(f"/options?saved={key}", status_code=303)
