"""The FastAPI application factory: settings and the database engine are built in the lifespan."""

from __future__ import annotations

from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.middleware.sessions import SessionMiddleware

from consent_db.mis_import import ImportRejected
from gatekeeper.config import Settings
from gatekeeper.errors import GatekeeperError, InvalidState, NotFound, PermissionDenied
from gatekeeper.services.context import Context

from .deps import SignInRequired
from .security import SignInThrottle, csrf_token, secret_key

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=str(HERE / "templates"))
templates.env.globals["csrf_token"] = csrf_token


def create_app(settings: Settings, ctx: Context | None = None) -> FastAPI:
    """A new app for `settings`; pass `ctx` to share an existing Context (tests)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        from workers.tasks import make_huey

        app.state.ctx = ctx or Context(settings)
        app.state.tasks = make_huey(settings).gatekeeper_tasks  # enqueue only; workers consume
        yield
        if ctx is None:
            app.state.ctx.close()

    app = FastAPI(title="Gatekeeper", lifespan=lifespan, docs_url="/api/docs",
                  openapi_url="/api/openapi.json", redoc_url=None)
    app.state.throttle = SignInThrottle()
    app.add_middleware(
        SessionMiddleware, secret_key=secret_key(settings), session_cookie="gatekeeper_session",
        max_age=settings.session_max_age_s, same_site="lax", https_only=settings.https_only,
    )
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    _install_error_handlers(app)

    from . import routes_admin, routes_api, routes_auth, routes_pages

    app.include_router(routes_auth.router)
    app.include_router(routes_admin.router)
    app.include_router(routes_pages.router)
    app.include_router(routes_api.router)
    return app


def _wants_html(request: Request) -> bool:
    return not request.url.path.startswith("/api") and "text/html" in request.headers.get(
        "accept", "text/html")


def _install_error_handlers(app: FastAPI) -> None:
    """Domain exceptions map to HTTP status here, and nowhere else."""
    status_of = {NotFound: 404, PermissionDenied: 403, InvalidState: 409}

    @app.exception_handler(SignInRequired)
    async def sign_in_required(request: Request, exc: SignInRequired):
        if _wants_html(request):
            return RedirectResponse(f"/signin?next={request.url.path}", status_code=303)
        return JSONResponse({"detail": "sign in first"}, status_code=401)

    @app.exception_handler(GatekeeperError)
    @app.exception_handler(ImportRejected)
    async def domain_error(request: Request, exc: Exception):
        status = next((s for t, s in status_of.items() if isinstance(exc, t)), 400)
        if _wants_html(request):
            return templates.TemplateResponse(
                request, "error.html", {"message": str(exc), "status": status,
                                        "user": None}, status_code=status)
        return JSONResponse({"detail": str(exc)}, status_code=status)
