"""Typed FastAPI dependencies in one place; tests swap them with app.dependency_overrides."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, Request

from gatekeeper.domain.vocabulary import Role
from gatekeeper.errors import PermissionDenied, SignInRequired
from gatekeeper.services.accounts.users import Actor, session_actor
from gatekeeper.services.context import Context


def get_context(request: Request) -> Context:
    ctx: Context = request.app.state.ctx
    return ctx


ContextDep = Annotated[Context, Depends(get_context)]


def get_current_user(request: Request, ctx: ContextDep) -> Actor:
    try:
        actor = session_actor(ctx=ctx, user_id=request.session.get("user_id"),
                              stamp=request.session.get("pw"),
                              session_id=request.session.get("sid"))
    except SignInRequired:
        request.session.clear()
        raise
    request.state.actor = actor
    return actor


CurrentUser = Annotated[Actor, Depends(get_current_user)]


def roles(*allowed: Role) -> Any:
    """Dependency: the current user, if they hold one of `allowed` roles."""

    def check(user: CurrentUser) -> Actor:
        if not user.has(*allowed):
            raise PermissionDenied(f"this needs the role {' or '.join(r.value for r in allowed)}")
        return user

    dep: Callable[..., Actor] = check
    return Depends(dep)
