"""Users, roles and passwords (argon2); the `Actor` every other use case is called with."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.orm import Session

from consent_db import audit
from consent_db.models import User, UserSession, utcnow
from gatekeeper.domain.vocabulary import Role, parse_roles
from gatekeeper.errors import InvalidInput, NotFound, PermissionDenied, SignInRequired
from gatekeeper.services.context import Context

_hasher = PasswordHasher()
MIN_PASSWORD_LENGTH = 10


@dataclass(frozen=True)
class Actor:
    """Who is acting: loaded once per request or command, passed to every use case."""

    id: int
    username: str
    roles: frozenset[Role]

    def has(self, *roles: Role) -> bool:
        return bool(self.roles & set(roles))

    @property
    def role_set(self) -> frozenset[Role]:
        return self.roles

    @property
    def roles_text(self) -> str:
        return ", ".join(sorted(r.value for r in self.roles))


@dataclass(frozen=True)
class UserRow:
    username: str
    roles: str
    active: bool


def actor_of(user: User) -> Actor:
    return Actor(user.id, user.username, roles_of(user))


def roles_of(user: User) -> frozenset[Role]:
    return frozenset(Role(r) for r in user.roles.split(",") if r in {x.value for x in Role})


def require_role(actor: Actor, *roles: Role) -> None:
    """The one role check (docs/developers/architecture.md, "Where roles are checked"): a use
    case a person starts calls it first, whichever door the person came through."""
    if not actor.has(*roles):
        raise PermissionDenied(f"user {actor.username} needs the role "
                               f"{' or '.join(r.value for r in roles)}")


def require_user_role(*, ctx: Context, actor_id: int | None, roles: tuple[Role, ...]) -> None:
    """`require_role` for the use cases that name their person by id because the system and
    the operator run them too: None is the scheduler, a worker, or the operator at the server
    (shell access to the instance is full authority); any other id must be an active user
    holding one of `roles`."""
    if actor_id is None:
        return
    with ctx.uow() as uow:
        user = uow.session.get(User, actor_id)
        if user is None or not user.active:
            raise PermissionDenied(f"user {actor_id} is not an active user")
        require_role(actor_of(user), *roles)


def check_roles(text: str) -> str:
    """The canonical comma string for `text`, or InvalidInput."""
    try:
        return ",".join(sorted(r.value for r in parse_roles(text)))
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None


def named(username: str) -> ColumnElement[bool]:
    """The clause that finds a user by name whatever its case: `Office1` and `office1` are one
    person to the school (and the database's unique index on lower(username) says so too)."""
    return func.lower(User.username) == username.lower()


def _check_new_user(session: Session, username: str, password: str) -> None:
    if (not username or len(username) > 64 or not username.isascii()
            or not username.replace("_", "").replace(".", "").isalnum()):
        raise InvalidInput("user names are 1-64 letters (a-z), digits, '.' or '_'",
                           field="username")
    _check_password(password)
    existing = session.scalar(select(User.username).where(named(username)))
    if existing:
        raise InvalidInput(f"user {existing} already exists (user names ignore case)",
                           field="username")


def create_user(session: Session, *, username: str, roles: str, password: str,
                actor_id: int | None) -> User:
    """Add a user inside the caller's transaction; the password is kept only as an argon2 hash."""
    _check_new_user(session, username, password)
    user = User(username=username, roles=check_roles(roles), password_hash=_hasher.hash(password))
    session.add(user)
    session.flush()
    audit.record(session, "user.created", "user", user.id, actor_id, roles=user.roles)
    return user


def add_user(*, ctx: Context, username: str, roles: str, password: str,
             actor_id: int | None = None) -> UserRow:
    """Create a user."""
    require_user_role(ctx=ctx, actor_id=actor_id, roles=(Role.DPO,))
    with ctx.uow() as uow:
        user = create_user(uow.session, username=username, roles=roles, password=password,
                           actor_id=actor_id)
        uow.commit()
        return UserRow(user.username, user.roles, user.active)


def list_users(*, ctx: Context) -> list[UserRow]:
    """Every user, by name."""
    with ctx.uow() as uow:
        return [UserRow(u.username, u.roles, u.active)
                for u in uow.session.scalars(select(User).order_by(User.username))]


def new_password() -> str:
    return secrets.token_urlsafe(15)


def find_actor(*, ctx: Context, username: str) -> Actor:
    """The active user named `username`, as the actor of a CLI command."""
    with ctx.uow() as uow:
        user = uow.session.scalar(select(User).where(named(username)))
        if user is None or not user.active:
            raise NotFound(f"no active user {username}")
        return actor_of(user)


def session_actor(*, ctx: Context, user_id: object, stamp: object, session_id: object) -> Actor:
    """The actor behind a session cookie, or SignInRequired when the session was revoked,
    expired, or its user disabled or given a new password."""
    if not isinstance(user_id, int) or not isinstance(session_id, str):
        raise SignInRequired("sign in first")
    with ctx.uow() as uow:
        row = uow.session.get(UserSession, session_id)
        user = uow.session.get(User, user_id)
        if (row is None or row.user_id != user_id or row.revoked_at is not None
                or row.expires_at <= utcnow() or user is None or not user.active
                or stamp != password_stamp(user.password_hash)):
            raise SignInRequired("sign in first")
        return actor_of(user)


def authenticate(*, ctx: Context, username: str, password: str) -> tuple[Actor, str]:
    """The actor and their session stamp, or PermissionDenied with one message for every
    kind of failure (and the same cost whether or not the user exists)."""
    with ctx.uow() as uow:
        user = uow.session.scalar(select(User).where(named(username)))
        try:
            if user is None or not user.active:
                _hasher.hash(password)
                raise VerificationError
            _hasher.verify(user.password_hash, password)
        except (VerificationError, InvalidHashError):
            raise PermissionDenied("wrong user name or password") from None
        return actor_of(user), password_stamp(user.password_hash)


@dataclass(frozen=True)
class SignedIn:
    actor: Actor
    stamp: str
    session_id: str


def sign_in(*, ctx: Context, username: str, password: str) -> SignedIn:
    """Check the password and open a server-side session."""
    actor, stamp = authenticate(ctx=ctx, username=username, password=password)
    with ctx.uow() as uow:
        sid = secrets.token_urlsafe(32)
        uow.session.add(UserSession(
            id=sid, user_id=actor.id,
            expires_at=utcnow() + timedelta(seconds=ctx.settings.session_max_age_s)))
        audit.record(uow.session, "user.signed_in", "user", actor.id, actor.id)
        uow.commit()
    return SignedIn(actor, stamp, sid)


def sign_out(*, ctx: Context, session_id: object) -> None:
    """End one session at once (a replayed cookie no longer works)."""
    if not isinstance(session_id, str):
        return
    with ctx.uow() as uow:
        row = uow.session.get(UserSession, session_id)
        if row is not None and row.revoked_at is None:
            row.revoked_at = utcnow()
            audit.record(uow.session, "user.signed_out", "user", row.user_id, row.user_id)
            uow.commit()


def _revoke_all(session: Session, user_id: int) -> None:
    session.execute(update(UserSession).where(
        UserSession.user_id == user_id, UserSession.revoked_at.is_(None)
    ).values(revoked_at=utcnow()))


def _user(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(named(username)))
    if user is None:
        raise NotFound(f"no user {username}")
    return user


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(f"passwords need at least {MIN_PASSWORD_LENGTH} characters",
                           field="password")
    if len(set(password)) < 4:
        raise InvalidInput("that password is too simple: use more different characters",
                           field="password")


def set_active(*, ctx: Context, username: str, active: bool, actor_id: int | None) -> UserRow:
    """Disable (ending every session at once) or enable a user."""
    require_user_role(ctx=ctx, actor_id=actor_id, roles=(Role.DPO,))
    with ctx.uow() as uow:
        user = _user(uow.session, username)
        if actor_id is not None and user.id == actor_id and not active:
            raise InvalidInput("you cannot disable yourself")
        user.active = active
        if not active:
            _revoke_all(uow.session, user.id)
        audit.record(uow.session, "user.enabled" if active else "user.disabled", "user",
                     user.id, actor_id)
        uow.commit()
        return UserRow(user.username, user.roles, user.active)


def set_roles(*, ctx: Context, username: str, roles: str, actor_id: int | None) -> UserRow:
    """Change a user's roles; their sessions end so the new roles apply at once."""
    require_user_role(ctx=ctx, actor_id=actor_id, roles=(Role.DPO,))
    with ctx.uow() as uow:
        user = _user(uow.session, username)
        user.roles = check_roles(roles)
        _revoke_all(uow.session, user.id)
        audit.record(uow.session, "user.roles_changed", "user", user.id, actor_id,
                     roles=user.roles)
        uow.commit()
        return UserRow(user.username, user.roles, user.active)


def set_password(*, ctx: Context, username: str, password: str, actor_id: int | None) -> None:
    """Reset a user's password (the DPO, or the operator at the server); every session of
    theirs ends."""
    require_user_role(ctx=ctx, actor_id=actor_id, roles=(Role.DPO,))
    _store_password(ctx, username, password, actor_id, "user.password_reset")


def change_own_password(*, ctx: Context, user: Actor, current: str, new: str) -> None:
    """A user of any role changes their own password, proving the current one; other sessions
    end."""
    authenticate(ctx=ctx, username=user.username, password=current)
    if new == current:
        raise InvalidInput("the new password must differ from the current one")
    _store_password(ctx, user.username, new, user.id, "user.password_changed")


def _store_password(ctx: Context, username: str, password: str, actor_id: int | None,
                    action: str) -> None:
    _check_password(password)
    with ctx.uow() as uow:
        user = _user(uow.session, username)
        user.password_hash = _hasher.hash(password)
        _revoke_all(uow.session, user.id)
        audit.record(uow.session, action, "user", user.id, actor_id)
        uow.commit()


def password_stamp(password_hash: str) -> str:
    """A one-way stamp of the user's current password hash, kept in the (signed, readable)
    session cookie: changing the password ends every session, and the cookie reveals nothing."""
    return hashlib.sha256(password_hash.encode()).hexdigest()[:16]
