"""Every refusal becomes an HTTP answer here and nowhere else: an HTML page for a browser,
JSON for the API; the status comes from the error class."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException

from gatekeeper.errors import GatekeeperError, SignInRequired
from gatekeeper.services.accounts.users import Actor, session_actor
from web.flash import back_to_form, way_back
from web.templating import templates

_TITLES = {400: "That did not work", 401: "Sign in first", 502: "Not sent", 403: "Not allowed",
           404: "Not found", 405: "Not possible", 409: "Not possible now",
           413: "Too large", 422: "Something is missing", 429: "Too many attempts"}


def wants_html(request: Request) -> bool:
    return not request.url.path.startswith("/api") and "text/html" in request.headers.get(
        "accept", "text/html")


def _portal(request: Request) -> bool:
    return request.url.path == "/portal" or request.url.path.startswith("/portal/")


def _answer(request: Request, status: int, message: str, field: str | None = None,
            same_page: bool = True) -> Response:
    """A browser's refused form goes back to its page (reason beside the field, typed values
    kept); any other refusal is an error page with a way back, or JSON for the API."""
    if wants_html(request) and same_page and request.method == "POST" and (
            status in _SAME_PAGE or field is not None):  # about what was typed: beside it
        back = back_to_form(request, message, field)
        if back is not None:
            return RedirectResponse(back, status_code=303)
    if wants_html(request) and _portal(request):  # parents never see the staff pages' menu
        return templates.TemplateResponse(
            request, "portal/error.html", {
                "message": message, "status": status,
                "visitor": getattr(request.state, "visitor", None),
                "new_link": request.url.path in _LINK_PAGES,
                "title": "Your visit has ended" if status == 401 else
                "This link does not open your page" if request.url.path in _LINK_PAGES
                and status == 400 else _TITLES.get(status, "That did not work")},
            status_code=status)
    if wants_html(request):
        user = getattr(request.state, "actor", None) or _signed_in(request)
        back, back_text = way_back(request, user, status)
        return templates.TemplateResponse(
            request, "error.html", {"message": message, "status": status, "user": user,
                                    "title": _TITLES.get(status, "That did not work"),
                                    "back": back, "back_text": back_text},
            status_code=status)
    return JSONResponse({"detail": message}, status_code=status)


# refusals of what was typed come back to the form; a missing record, a lost session or a
# server-side failure get their own page
_SAME_PAGE = {400, 403, 409, 413, 422}
_LINK_PAGES = {"/portal", "/portal/welcome", "/portal/history"}  # offer "e-mail me a new link"


def _signed_in(request: Request) -> Actor | None:
    """The signed-in user for the menu bar of an error page, if there is one."""
    try:
        return session_actor(ctx=request.app.state.ctx, user_id=request.session.get("user_id"),
                             stamp=request.session.get("pw"),
                             session_id=request.session.get("sid"))
    except (GatekeeperError, AttributeError, AssertionError):
        return None


def _validation_message(errors: list[Any]) -> str:
    parts = []
    for e in errors[:5]:
        where = ".".join(str(x) for x in e.get("loc", ())[1:]) or "request"
        parts.append(f"{where}: {e.get('msg', 'invalid')}")
    return "; ".join(parts) or "the request is not valid"


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(SignInRequired)
    async def sign_in_required(request: Request, exc: SignInRequired) -> Response:
        if _portal(request):
            return _answer(request, 401, str(exc))
        if wants_html(request):
            return RedirectResponse(f"/signin?next={request.url.path}", status_code=303)
        return JSONResponse({"detail": "sign in first"}, status_code=401)

    @app.exception_handler(GatekeeperError)
    async def domain_error(request: Request, exc: GatekeeperError) -> Response:
        response = _answer(request, exc.http_status, str(exc), exc.field)
        retry_after = getattr(exc, "retry_after", None)
        if retry_after:
            response.headers["Retry-After"] = str(retry_after)
        return response

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> Response:
        errors = list(exc.errors())
        if wants_html(request) and any(e.get("loc", ("",))[0] == "path" for e in errors):
            return _answer(request, 404, "there is no page at this address (the address has a "
                           "part that names nothing, such as a photo number that is not a "
                           "number)")
        field = next((str(e["loc"][1]) for e in errors
                      if len(e.get("loc", ())) > 1 and e["loc"][0] == "body"), None)
        return _answer(request, 422, _validation_message(errors), field)

    @app.exception_handler(OverflowError)
    @app.exception_handler(DataError)
    async def out_of_range(request: Request, exc: Exception) -> Response:
        """A value the database cannot hold (an id beyond its integer range, text too long)."""
        return _answer(request, 400, "a value in the request is out of range or too long")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        message = {404: "there is no page at this address",
                   405: "this address does not take that kind of request"}.get(
            exc.status_code, str(exc.detail))
        return _answer(request, exc.status_code, message)
