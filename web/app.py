"""The FastAPI application factory: the service Context is built in the lifespan, never at import."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.middleware.sessions import SessionMiddleware

from gatekeeper.config import Settings
from gatekeeper.services.context import Context
from web import (
    routes_admin,
    routes_api,
    routes_auth,
    routes_dpo,
    routes_pages,
    routes_parents,
    routes_portal,
)
from web.errors import install_error_handlers
from web.flash import keep_form
from web.headers import SecurityHeaders
from web.security import LinkThrottle, NewLinkThrottle, SignInThrottle, secret_key
from web.templating import HERE
from workers.queue import HueyJobQueue
from workers.tasks import make_huey


def create_app(settings: Settings, ctx: Context | None = None) -> FastAPI:
    """A new app for `settings`; pass `ctx` to share an existing Context (tests)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.ctx = ctx or Context(settings, jobs=HueyJobQueue(make_huey(settings)),
                                       operator="web")
        yield
        if ctx is None:
            app.state.ctx.close()

    app = FastAPI(title="Gatekeeper", lifespan=lifespan, docs_url=None, openapi_url=None,
                  redoc_url=None, dependencies=[Depends(keep_form)])
    # API docs: signed-in DPOs only, served locally (routes_api)
    app.state.throttle = SignInThrottle()
    # portal links: failures per client address and token prefix; a working link always opens
    app.state.portal_throttle = LinkThrottle()
    app.state.new_link_throttle = NewLinkThrottle()  # "e-mail me a new link", per address
    app.add_middleware(
        SessionMiddleware, secret_key=secret_key(settings), session_cookie="gatekeeper_session",
        max_age=settings.session_max_age_s, same_site="lax", https_only=settings.https_only,
    )
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    app.add_middleware(SecurityHeaders, hsts=settings.https_only)
    install_error_handlers(app)
    app.include_router(routes_auth.router)
    app.include_router(routes_admin.router)
    app.include_router(routes_dpo.router)
    app.include_router(routes_pages.router)
    app.include_router(routes_api.router)
    app.include_router(routes_portal.router)
    app.include_router(routes_parents.router)
    return app
