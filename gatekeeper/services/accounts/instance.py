"""Creating and checking an instance home: database at Alembic head, stores, first admin."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from consent_db.db import current_revision, head_revision, make_engine, migrate
from consent_db.models import User
from gatekeeper.adapters.filemodes import secure_database_file
from gatekeeper.adapters.storage import ensure_buckets
from gatekeeper.config import Settings
from gatekeeper.errors import NotInitialised
from gatekeeper.services.accounts.users import create_user, new_password
from gatekeeper.services.context import Context


@dataclass(frozen=True)
class InitResult:
    created: bool
    admin: str
    password: str | None  # shown once, on creation only


def initialise(*, settings: Settings, admin: str, operator: str = "system:init") -> InitResult:
    """Migrate to head, create the stores and, on a new instance, the first admin; the audit
    event of its creation names `operator` (who ran `init`)."""
    settings.home.mkdir(parents=True, exist_ok=True)
    settings.home.chmod(0o711)  # others may pass through to public/, never list or read
    ctx = Context(settings, operator=operator)
    try:
        migrate(ctx.engine)
        secure_database_file(settings.resolved_database_url)  # hashes and templates: 0600
        ensure_buckets(ctx.stores)  # local folders with their modes; missing S3 buckets
        with ctx.uow() as uow:
            if uow.session.scalar(select(User.id).limit(1)) is not None:
                return InitResult(False, admin, None)
            password = new_password()
            create_user(uow.session, username=admin, roles="dpo,editor,office",
                        password=password, actor_id=None)
            uow.commit()
        return InitResult(True, admin, password)
    finally:
        ctx.close()


def ensure_initialised(settings: Settings) -> None:
    """Refuse to run on a home without a database at Alembic head."""
    if settings.database_url is None and not (settings.home / "gatekeeper.db").exists():
        raise NotInitialised(f"no Gatekeeper instance in {settings.home}: run `gatekeeper init`")
    engine = make_engine(settings.resolved_database_url)
    try:
        current = current_revision(engine)
    finally:
        engine.dispose()
    if current is None:
        raise NotInitialised(f"database not initialised: run `gatekeeper init` "
                             f"(home {settings.home})")
    if current != head_revision():
        raise NotInitialised(f"database at revision {current}, not the newest: run "
                             f"`gatekeeper init` to upgrade it (home {settings.home})")
