"""Engine, sessions and the unit of work: one use case = one transaction, committed once."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry


def make_engine(url: str) -> Engine:
    """An engine with SQLite made safe for several processes (WAL, foreign keys, busy wait)."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(conn: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
            cur = conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True)


class UnitOfWork:
    """`with UnitOfWork(factory) as uow: ...; uow.commit()` - rolls back whatever is not committed."""

    def __init__(self, session_factory: sessionmaker[Session], operator: str | None = None) -> None:
        self._factory = session_factory
        self._operator = operator
        self.session: Session

    def __enter__(self) -> UnitOfWork:
        self.session = self._factory()
        if self._operator:  # who acts when no user id is given: audit events name it
            self.session.info[OPERATOR] = self._operator
        return self

    def __exit__(self, *exc: object) -> None:
        self.session.close()  # rolls back anything uncommitted; loaded objects stay readable

    def commit(self) -> None:
        self.session.commit()

    def flush(self) -> None:
        self.session.flush()


OPERATOR = "gatekeeper.operator"


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


def _alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    return cfg


def head_revision() -> str | None:
    """The newest migration's revision id."""
    return ScriptDirectory.from_config(_alembic_config()).get_current_head()


def migrate(engine: Engine) -> None:
    """Bring the database to Alembic head (the only way tables are created)."""
    cfg = _alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()
