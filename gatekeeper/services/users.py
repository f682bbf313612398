"""Users, roles and passwords (argon2)."""

from __future__ import annotations

import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select

from consent_db import audit
from consent_db.models import User

from ..errors import GatekeeperError, NotFound, PermissionDenied

ROLES = ("office", "editor", "dpo", "governor")
_hasher = PasswordHasher()


def parse_roles(text: str) -> str:
    roles = sorted({r.strip().lower() for r in text.split(",") if r.strip()})
    bad = [r for r in roles if r not in ROLES]
    if not roles or bad:
        raise GatekeeperError(f"roles must be some of {', '.join(ROLES)} (got {text!r})")
    return ",".join(roles)


def add_user(*, uow, username: str, roles: str, password: str, actor_id: int | None = None) -> User:
    """Create a user; the password is stored only as an argon2 hash."""
    if not username or len(username) > 64 or not username.replace("_", "").replace(".", "").isalnum():
        raise GatekeeperError("user names are 1-64 letters, digits, '.' or '_'")
    if len(password) < 10:
        raise GatekeeperError("passwords need at least 10 characters")
    if uow.session.scalar(select(User).where(User.username == username)):
        raise GatekeeperError(f"user {username} already exists")
    user = User(username=username, roles=parse_roles(roles), password_hash=_hasher.hash(password))
    uow.session.add(user)
    uow.flush()
    audit.record(uow.session, "user.created", "user", user.id, actor_id, roles=user.roles)
    return user


def new_password() -> str:
    return secrets.token_urlsafe(15)


def get_user(session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None or not user.active:
        raise NotFound(f"no active user {username}")
    return user


def authenticate(session, username: str, password: str) -> User:
    """The user, or PermissionDenied with one message for every kind of failure."""
    user = session.scalar(select(User).where(User.username == username))
    try:
        if user is None or not user.active:
            _hasher.hash(password)  # same cost whether or not the user exists
            raise VerificationError
        _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        raise PermissionDenied("wrong user name or password") from None
    return user


def require_role(user: User, *roles: str) -> None:
    if not user.role_set & set(roles):
        raise PermissionDenied(f"user {user.username} needs the role {' or '.join(roles)}")
