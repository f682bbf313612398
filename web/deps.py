"""Typed FastAPI dependencies in one place; tests swap them with app.dependency_overrides."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from consent_db.models import User
from gatekeeper.config import Settings
from gatekeeper.errors import PermissionDenied
from gatekeeper.services.context import Context

from .security import password_stamp


class SignInRequired(Exception):
    """No valid session: HTML pages redirect to sign-in, the API answers 401."""


def get_context(request: Request) -> Context:
    return request.app.state.ctx


def get_settings_dep(request: Request) -> Settings:
    return request.app.state.ctx.settings


ContextDep = Annotated[Context, Depends(get_context)]
SettingsDep = Annotated[Settings, Depends(get_settings_dep)]


def get_current_user(request: Request, ctx: ContextDep) -> User:
    user_id = request.session.get("user_id")
    if user_id is None:
        raise SignInRequired
    with ctx.uow() as uow:
        user = uow.session.get(User, user_id)
    if (user is None or not user.active
            or request.session.get("pw") != password_stamp(user.password_hash)):
        request.session.clear()
        raise SignInRequired
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]


def roles(*allowed: str):
    """Dependency factory: the current user, if they hold one of `allowed` roles."""

    def check(user: CurrentUser) -> User:
        if not user.role_set & set(allowed):
            raise PermissionDenied(f"this needs the role {' or '.join(allowed)}")
        return user

    return Depends(check)
