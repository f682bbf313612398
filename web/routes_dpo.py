"""The DPO's answers to requests about one person (subject access export, erasure), the
deletion certificates, the records the ICO expects (DPIA and RoPA drafts), face templates (the
refresh list, removing one) and the instance options."""

from __future__ import annotations

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from gatekeeper.domain.vocabulary import Role
from gatekeeper.errors import InvalidInput
from gatekeeper.services.accounts import options
from gatekeeper.services.accounts.school import school_name
from gatekeeper.services.accounts.users import Actor
from gatekeeper.services.auditing import certificate_pdf, certificates
from gatekeeper.services.consent import templates as face_templates
from gatekeeper.services.dpo import compliance, purge, register
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
        raise InvalidInput(f"type {external_id} exactly to confirm the erasure",
                           field="confirm")
    await offload(purge.erase_person, ctx=ctx, external_id=external_id, user=user)
    return RedirectResponse("/certificates", status_code=303)


@router.get("/certificates")
def certificates_page(request: Request, ctx: ContextDep,
                      user: Actor = roles(Role.DPO, Role.GOVERNOR)) -> Response:
    return templates.TemplateResponse(request, "certificates.html", {
        "user": user, "certificates": list(reversed(certificates(ctx=ctx)))})


def _pdf(data: bytes, name: str) -> Response:
    return Response(data, media_type="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"})


@router.get("/certificates/{certificate_id}.pdf")
async def certificate_download(ctx: ContextDep, certificate_id: RecordId,
                               user: Actor = roles(Role.DPO)) -> Response:
    """A certificate names record ids: the DPO's, not the governors' (they see the counts)."""
    data = await offload(certificate_pdf, ctx=ctx, certificate_id=certificate_id,
                         school=school_name(ctx))
    return _pdf(data, f"deletion-certificate-{certificate_id}.pdf")


@router.get("/dpo/records")
def records_page(request: Request, ctx: ContextDep, saved: int = 0,
                 user: Actor = roles(Role.DPO)) -> Response:
    """The DPIA and RoPA drafts from this instance's configuration, and the DPO's answers."""
    overview = compliance.processing_overview(ctx=ctx)
    return templates.TemplateResponse(request, "records.html", {
        "user": user, "r": overview.records, "docs": overview.documents, "saved": saved,
        "labels": compliance.BASIS_KEYS, "not_recorded": compliance.NOT_RECORDED})


@router.post("/dpo/records")
async def records_save(request: Request, ctx: ContextDep, user: Actor = roles(Role.DPO)) -> Response:
    form = await request.form()
    check_csrf(request, str(form.get("csrf", "")))
    compliance.record_processing_details(
        ctx=ctx, user=user, controller=str(form.get("controller", "")),
        bases={k: str(form.get(f"basis_{k}", "")) for k in compliance.BASIS_KEYS})
    return RedirectResponse("/dpo/records?saved=1", status_code=303)


@router.get("/dpo/records/{which}.pdf")
async def records_pdf(ctx: ContextDep, which: compliance.Which,
                      user: Actor = roles(Role.DPO)) -> Response:
    doc = compliance.processing_document(ctx=ctx, which=which)
    return _pdf(await offload(doc.pdf), f"{which}-draft.pdf")


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
