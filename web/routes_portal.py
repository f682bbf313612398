"""The consent portal for parents, carers and older pupils: no staff account, phone first, plain
English, never a photo. A link is used by a POST (mail scanners that fetch links do not burn it),
and every request re-checks which children the visitor may answer for."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from gatekeeper.errors import InvalidInput
from gatekeeper.services.consent import decisions
from gatekeeper.services.portal import answers as portal_answers
from gatekeeper.services.portal import new_link
from gatekeeper.services.portal import visits as portal
from gatekeeper.services.portal.visits import PortalActor
from web.deps import ContextDep
from web.offload import offload
from web.security import LinkThrottle, NewLinkThrottle, check_csrf
from web.templating import templates

router = APIRouter(prefix="/portal")
SESSION_KEY = "portal_sid"


def get_visitor(request: Request, ctx: ContextDep) -> PortalActor:
    visitor = portal.portal_actor(ctx=ctx, session_id=request.session.get(SESSION_KEY))
    request.state.visitor = visitor
    return visitor


Visitor = Annotated[PortalActor, Depends(get_visitor)]


def _client(request: Request) -> str:
    return request.client.host if request.client else ""


@router.get("/welcome/{token}")
def welcome(request: Request, token: str) -> Response:
    """Shows a button; only pressing it uses the link."""
    return templates.TemplateResponse(request, "portal/welcome.html", {
        "visitor": None, "token": token}, headers={"Referrer-Policy": "no-referrer",
                                                   "Cache-Control": "no-store"})


@router.post("/welcome")
async def open_portal(request: Request, ctx: ContextDep, token: str = Form(""),
                      csrf: str = Form("")) -> Response:
    """Links are 256-bit random, so guessing is hopeless; the throttle only slows an address
    (or a token prefix) that keeps sending links that do not work, and never holds back a
    working one: the link is looked at first."""
    check_csrf(request, csrf)
    throttle: LinkThrottle = request.app.state.portal_throttle
    try:
        session_id = await offload(portal.open_session, ctx=ctx, token=token)
    except InvalidInput:
        throttle.failed(token, _client(request))
        raise
    portal.close_session(ctx=ctx, session_id=request.session.get(SESSION_KEY))  # one visit
    request.session[SESSION_KEY] = session_id
    return RedirectResponse("/portal", status_code=303)


SAVED = {"1": "Your answers are saved.",
         "withdrawn": "Your answers are saved. Consent has ended for some uses: photos already "
                      "published are being taken down now.",
         "same": "Nothing changed: these were already your answers."}


@router.get("")
def home(request: Request, ctx: ContextDep, visitor: Visitor, saved: str = "", child: int = -1,
         mail: str = "") -> Response:
    year, cards = portal_answers.children(ctx=ctx, actor=visitor)
    message = SAVED.get(saved, "")
    if message and saved != "same":
        message += (" A confirmation is on its way by e-mail." if mail == "sent" else
                    " We could not send a confirmation e-mail; your answers are saved all the "
                    "same." if mail == "failed" else "")
    return templates.TemplateResponse(request, "portal/home.html", {
        "visitor": visitor, "academic_year": year, "cards": cards, "today": ctx.today(),
        "saved": message, "saved_child": child,
        "minutes": ctx.settings.portal_session_max_age_s // 60},
        headers={"Cache-Control": "no-store"})


@router.post("/children/{handle}")
async def answer(request: Request, ctx: ContextDep, visitor: Visitor, handle: int) -> Response:
    form = await request.form()
    check_csrf(request, str(form.get("csrf", "")))
    answers: dict[str, bool] = {}
    for use in decisions.USES:
        value = str(form.get(use, "")).strip()
        if value in ("give", "refuse"):
            answers[use] = value == "give"
        elif value:
            raise InvalidInput(f"{use}: choose give or refuse")
    result = await offload(
        portal_answers.decide, ctx=ctx, actor=visitor, handle=handle, answers=answers,
        signed_name=str(form.get("signed_name", "")), client_address=_client(request),
        user_agent=request.headers.get("user-agent", ""))
    saved = "withdrawn" if result.withdrawn else "1" if result.recorded else "same"
    mail = "sent" if result.confirmation_sent else "failed" if result.recorded else ""
    return RedirectResponse(f"/portal?saved={saved}&child={handle}&mail={mail}#saved",
                            status_code=303)


@router.get("/history")
def history(request: Request, ctx: ContextDep, visitor: Visitor) -> Response:
    return templates.TemplateResponse(request, "portal/history.html", {
        "visitor": visitor, "entries": portal_answers.history(ctx=ctx, actor=visitor)},
        headers={"Cache-Control": "no-store"})


@router.post("/signout")
def finish(request: Request, ctx: ContextDep, csrf: str = Form("")) -> Response:
    check_csrf(request, csrf)
    portal.close_session(ctx=ctx, session_id=request.session.pop(SESSION_KEY, None))
    return templates.TemplateResponse(request, "portal/finished.html", {"visitor": None})


def _new_link_page(request: Request, ctx: ContextDep, status: int = 200, **extra: object) -> Response:
    return templates.TemplateResponse(request, "portal/new_link.html", {
        "visitor": None, "days": ctx.settings.invitation_days, "error": None, "typed": "",
        "sent": False, **extra}, status_code=status, headers={"Cache-Control": "no-store"})


@router.get("/new-link")
def new_link_page(request: Request, ctx: ContextDep) -> Response:
    """A family whose link was used or has expired asks for a new one here."""
    return _new_link_page(request, ctx)


@router.post("/new-link")
def send_new_link(request: Request, ctx: ContextDep, background: BackgroundTasks,
                  email: str = Form(""), csrf: str = Form("")) -> Response:
    """The same answer whether or not the address is known; the link is made and sent after
    the answer has gone (so the time taken says nothing either), to the address on file."""
    check_csrf(request, csrf)
    try:
        address = new_link.checked_address(email)
    except InvalidInput as exc:
        return _new_link_page(request, ctx, status=400, error=str(exc), typed=email[:254])
    throttle: NewLinkThrottle = request.app.state.new_link_throttle
    throttle.charge(address.lower(), _client(request))
    background.add_task(new_link.email_new_link, ctx=ctx, address=address)
    return _new_link_page(request, ctx, sent=True, typed=address)
