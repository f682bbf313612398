"""Sign-in and sign-out."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse

from gatekeeper.errors import PermissionDenied
from gatekeeper.services.users import authenticate

from .app import templates
from .deps import ContextDep
from .security import check_csrf, password_stamp

router = APIRouter()


def _safe_next(target: str | None) -> str:
    return target if target and target.startswith("/") and not target.startswith("//") else "/"


@router.get("/signin")
def signin_page(request: Request, next: str | None = None):
    return templates.TemplateResponse(request, "signin.html", {"user": None, "next": next,
                                                                "error": None})


@router.post("/signin")
async def signin(request: Request, ctx: ContextDep, username: str = Form(...),
                 password: str = Form(...), csrf: str = Form(""), next: str = Form("/")):
    check_csrf(request, csrf)
    throttle = request.app.state.throttle
    await asyncio.sleep(throttle.wait_time(username))
    try:
        with ctx.uow() as uow:
            user = authenticate(uow.session, username, password)
    except PermissionDenied as exc:
        throttle.failed(username)
        return templates.TemplateResponse(
            request, "signin.html", {"user": None, "next": next, "error": str(exc)},
            status_code=401)
    throttle.succeeded(username)
    request.session.clear()
    request.session.update({"user_id": user.id, "pw": password_stamp(user.password_hash)})
    return RedirectResponse(_safe_next(next), status_code=303)


@router.post("/signout")
def signout(request: Request, csrf: str = Form("")):
    check_csrf(request, csrf)
    request.session.clear()
    return RedirectResponse("/signin", status_code=303)
