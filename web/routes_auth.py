"""Sign-in, sign-out and changing one's own password."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from gatekeeper.errors import GatekeeperError, PermissionDenied
from gatekeeper.services.accounts.users import change_own_password, sign_in, sign_out
from web.deps import ContextDep, CurrentUser
from web.offload import offload
from web.security import SignInThrottled, check_csrf
from web.templating import templates

router = APIRouter()


def _safe_next(target: str | None) -> str:
    return target if target and target.startswith("/") and not target.startswith("//") else "/"


@router.get("/signin")
def signin_page(request: Request, next: str | None = None, changed: str = "") -> Response:
    return templates.TemplateResponse(request, "signin.html", {
        "user": None, "next": next, "error": None, "changed": changed == "1"})


@router.post("/signin")
async def signin(request: Request, ctx: ContextDep, username: str = Form(...),
                 password: str = Form(...), csrf: str = Form(""), next: str = Form("/")) -> Response:
    check_csrf(request, csrf)
    throttle = request.app.state.throttle
    client = request.client.host if request.client else None
    try:
        await asyncio.sleep(throttle.begin(username, client))  # reserves the attempt first
    except SignInThrottled as exc:
        return templates.TemplateResponse(
            request, "signin.html", {"user": None, "next": next, "error": str(exc)},
            status_code=429, headers={"Retry-After": str(exc.retry_after)})
    try:
        done = await offload(sign_in, ctx=ctx, username=username, password=password)
    except PermissionDenied as exc:
        throttle.failed(username, client)
        return templates.TemplateResponse(
            request, "signin.html", {"user": None, "next": next, "error": str(exc)},
            status_code=401)
    throttle.succeeded(username, client)
    request.session.clear()
    request.session.update({"user_id": done.actor.id, "pw": done.stamp, "sid": done.session_id})
    return RedirectResponse(_safe_next(next), status_code=303)


@router.post("/signout")
def signout(request: Request, ctx: ContextDep, csrf: str = Form("")) -> Response:
    check_csrf(request, csrf)
    sign_out(ctx=ctx, session_id=request.session.get("sid"))
    request.session.clear()
    return RedirectResponse("/signin", status_code=303)


@router.get("/account")
def account_page(request: Request, user: CurrentUser) -> Response:
    return templates.TemplateResponse(request, "account.html",
                                      {"user": user, "error": None, "done": False})


@router.post("/account/password")
def account_password(request: Request, ctx: ContextDep, user: CurrentUser,
                     current: str = Form(...), new: str = Form(...), again: str = Form(...),
                     csrf: str = Form("")) -> Response:
    check_csrf(request, csrf)
    try:
        if new != again:
            raise PermissionDenied("the two new passwords differ")
        change_own_password(ctx=ctx, user=user, current=current, new=new)
    except GatekeeperError as exc:
        return templates.TemplateResponse(request, "account.html",
                                          {"user": user, "error": str(exc), "done": False},
                                          status_code=400)
    request.session.clear()  # this session ended too: sign in with the new password
    return RedirectResponse("/signin?changed=1", status_code=303)
