"""The DPO's side of the consent portal: parents' contacts, invitations and reminders, who may
decide for whom, and the state of every child's consent with the reason."""

from __future__ import annotations

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import RedirectResponse, Response

from gatekeeper.domain.vocabulary import Role
from gatekeeper.errors import GatekeeperError, InvalidInput
from gatekeeper.services.accounts import options
from gatekeeper.services.accounts.users import Actor
from gatekeeper.services.consent import decisions
from gatekeeper.services.context import Context
from gatekeeper.services.portal import answers as portal_answers
from gatekeeper.services.portal import contacts, families, invitations, public_links
from web.deps import ContextDep, roles
from web.forms import read_upload
from web.offload import offload
from web.security import check_csrf
from web.templating import templates

router = APIRouter(prefix="/parents")


def _page(request: Request, ctx: Context, user: Actor, status: int = 200,
          **extra: object) -> Response:
    return templates.TemplateResponse(request, "parents.html", {
        "user": user, "counts": contacts.portal_counts(ctx=ctx), "outbox": not ctx.settings.smtp_url,
        "voice_from": options.get(ctx=ctx, option=decisions.PUPIL_VOICE_FROM_YEAR),
        "days": ctx.settings.invitation_days, "link_base": public_links.link_base(ctx.settings),
        **extra}, status_code=status)


@router.get("")
def parents_page(request: Request, ctx: ContextDep, family: str = "",
                 user: Actor = roles(Role.DPO)) -> Response:
    invitations.forget_old_links_csv(ctx=ctx)
    found = families.find_families(ctx=ctx, text=family[:200])
    return _page(request, ctx, user, family=family, families=found)


@router.post("/import")
async def import_contacts(request: Request, ctx: ContextDep, file: UploadFile = File(...),
                          csrf: str = Form(""), user: Actor = roles(Role.DPO)) -> Response:
    check_csrf(request, csrf)
    data = await read_upload(file, contacts.MAX_CONTACTS_BYTES)
    try:
        report = await offload(contacts.import_contacts, ctx=ctx, data=data, actor_id=user.id)
    except InvalidInput as exc:
        return _page(request, ctx, user, status=exc.http_status, error=str(exc))
    return _page(request, ctx, user, imported=report.line())


@router.post("/invite")
async def invite(request: Request, ctx: ContextDep, audience: str = Form("all"),
                 year_group: str = Form(""), days: str = Form(""), csrf: str = Form(""),
                 user: Actor = roles(Role.DPO)) -> Response:
    check_csrf(request, csrf)
    try:
        who = invitations.Audience(audience)
        group = int(year_group) if who is invitations.Audience.YEAR_GROUP else None
        valid_days = int(days) if days.strip() else None
    except ValueError:
        return _page(request, ctx, user, status=400,
                     error="choose who to invite; a year group and days are whole numbers")
    try:
        report = await offload(invitations.invite, ctx=ctx, audience=who, year_group=group,
                               days=valid_days, actor_id=user.id)
    except GatekeeperError as exc:
        return _page(request, ctx, user, status=exc.http_status, error=str(exc))
    token = invitations.keep_links_csv(ctx=ctx, report=report)
    return _page(request, ctx, user, invited=report.line(), links_token=token,
                 link_count=len(report.links))


@router.post("/invite-contact")
async def invite_contact(request: Request, ctx: ContextDep, contact: str = Form(""),
                         csrf: str = Form(""), user: Actor = roles(Role.DPO)) -> Response:
    """One family's new link (their older unused one stops working)."""
    check_csrf(request, csrf)
    try:
        report = await offload(invitations.invite, ctx=ctx,
                               audience=invitations.Audience.CONTACT, contact_ref=contact,
                               actor_id=user.id)
    except GatekeeperError as exc:
        return _page(request, ctx, user, status=exc.http_status, error=str(exc))
    token = invitations.keep_links_csv(ctx=ctx, report=report)
    return _page(request, ctx, user, invited=f"{contact}: {report.line()}", links_token=token,
                 link_count=len(report.links))


@router.get("/links/{token}.csv")
def links(ctx: ContextDep, token: str, user: Actor = roles(Role.DPO)) -> Response:
    """The links of one invitation run, once: the file is deleted as it is handed over."""
    data = invitations.take_links_csv(ctx=ctx, token=token)
    return Response(data, media_type="text/csv", headers={
        "Content-Disposition": 'attachment; filename="portal-links.csv"',
        "Cache-Control": "no-store"})


@router.post("/pupil-refusal")
async def pupil_refusal(request: Request, ctx: ContextDep, user: Actor = roles(Role.DPO)) -> Response:
    form = await request.form()
    check_csrf(request, str(form.get("csrf", "")))
    external_id = str(form.get("external_id", "")).strip()
    uses = [str(u) for u in form.getlist("use")]
    try:
        done = await offload(portal_answers.record_pupil_refusal, ctx=ctx,
                             external_id=external_id, uses=uses, note=str(form.get("note", "")),
                             actor_id=user.id, actor_name=user.username)
    except GatekeeperError as exc:
        return _page(request, ctx, user, status=exc.http_status, error=str(exc))
    return _page(request, ctx, user, refusal=f"Recorded: {external_id} refuses "
                 f"{', '.join(uses)}." + (f" Consent ended for {', '.join(done.withdrawn)}; "
                                          "live copies are being taken down."
                                          if done.withdrawn else ""))


@router.post("/options")
def set_voice(request: Request, ctx: ContextDep, voice_from: str = Form(""),
              csrf: str = Form(""), user: Actor = roles(Role.DPO)) -> Response:
    check_csrf(request, csrf)
    try:
        value = int(voice_from)
    except ValueError:
        return _page(request, ctx, user, status=400, error="the year must be a whole number")
    if not 1 <= value <= 14:
        return _page(request, ctx, user, status=400, error="the year must be from 1 to 14")
    options.set_option(ctx=ctx, option=decisions.PUPIL_VOICE_FROM_YEAR, value=value,
                       actor_id=user.id)
    return RedirectResponse("/parents", status_code=303)


@router.get("/consent")
def consent_state(request: Request, ctx: ContextDep, year_group: str = "",
                  attention: str = "", user: Actor = roles(Role.DPO)) -> Response:
    group = int(year_group) if year_group.strip().isdigit() else None
    year, rows = decisions.overview(ctx=ctx, year_group=group)
    if attention:
        rows = [r for r in rows if r.needs_attention]
    return templates.TemplateResponse(request, "parents_consent.html", {
        "user": user, "academic_year": year, "rows": rows, "uses": decisions.USES,
        "titles": {u: decisions.USE_TEXT[u][0] for u in decisions.USES},
        "year_group": year_group, "attention": attention})
