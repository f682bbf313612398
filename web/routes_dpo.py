"""The DPO's answers to requests about one person: subject access export and erasure."""

from __future__ import annotations

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from gatekeeper.domain.vocabulary import Role
from gatekeeper.errors import InvalidInput
from gatekeeper.services import purge, register
from gatekeeper.services.auditing import certificates
from gatekeeper.services.users import Actor
from web.deps import ContextDep, roles
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
