"""Shared fixtures: the real face set (skipped when absent), databases (SQLite, and PostgreSQL
when reachable), and a service Context on a temporary instance home."""

from __future__ import annotations

import functools
import os
import socket
from pathlib import Path

import pytest
from sqlalchemy import create_engine, make_url, text

ROOT = Path(__file__).resolve().parent.parent
FACES = Path(os.environ.get("GATEKEEPER_TEST_FACES", ROOT.parent / "shared" / "data" / "faces"))
PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@pytest.fixture(scope="session")
def faces_dir() -> Path:
    if not (FACES / "MANIFEST.csv").is_file():
        pytest.skip(f"real face set not found at {FACES} (set GATEKEEPER_TEST_FACES)")
    return FACES


class PostgresUnusable(Exception):
    """The configured PostgreSQL answers but its test database is missing and cannot be made."""


def _create_if_missing(url: str) -> None:
    """Create the database of `url` when the server has none of that name (connecting through
    the server's `postgres` maintenance database), so a fresh server needs no manual step."""
    target = make_url(url)
    engine = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT",
                           connect_args={"connect_timeout": 2})
    try:
        with engine.connect() as conn:
            if conn.execute(text("select 1 from pg_database where datname = :n"),
                            {"n": target.database}).first():
                return
            try:
                conn.execute(text(f'CREATE DATABASE "{target.database}"'))
            except Exception as exc:
                if conn.execute(text("select 1 from pg_database where datname = :n"),
                                {"n": target.database}).first():
                    return  # another test worker made it first
                reason = str(getattr(exc, "orig", exc)).splitlines()[0]
                raise PostgresUnusable(
                    f"PostgreSQL at {target.host}:{target.port or 5432} has no database "
                    f"{target.database!r} and it could not be created ({reason}): run "
                    f"`createdb {target.database}` or set GATEKEEPER_TEST_DATABASE_URL") from None
    finally:
        engine.dispose()


def _per_worker(url: str) -> str:
    """Under pytest-xdist each worker gets its own database (`test_gw1`, ...), created on
    first use, so parallel workers never reset each other's schema."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if not worker or worker == "gw0":
        return url
    base = make_url(url)
    return base.set(database=f"{base.database}_{worker}").render_as_string(hide_password=False)


def _postgres_url() -> str | None:
    """The test database's URL, created when the server has none; None when no server answers
    at the default address (PostgreSQL tests are then skipped). A server named explicitly in
    GATEKEEPER_TEST_DATABASE_URL that cannot be used fails the PostgreSQL tests with the reason,
    never skips them silently."""
    configured = os.environ.get("GATEKEEPER_TEST_DATABASE_URL")
    url = _per_worker(configured or PG_DEFAULT)
    try:
        _create_if_missing(url)
        engine = create_engine(url, connect_args={"connect_timeout": 2})
        with engine.connect() as conn:
            conn.execute(text("select 1"))
        engine.dispose()
        return url
    except PostgresUnusable:
        raise
    except Exception as exc:
        if configured:
            reason = str(getattr(exc, "orig", exc)).splitlines()[0]
            raise PostgresUnusable(
                f"GATEKEEPER_TEST_DATABASE_URL is set but PostgreSQL cannot be used: {reason}"
            ) from None
        return None


@functools.cache
def postgres_url() -> str | None:
    """The test PostgreSQL, probed once, on first use (never at import)."""
    return _postgres_url()


def reset_postgres(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path) -> str:
    """A fresh, empty database of each kind; PostgreSQL is skipped when not reachable."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'test.db'}"
    url = postgres_url()
    if url is None:
        pytest.skip("PostgreSQL not reachable at GATEKEEPER_TEST_DATABASE_URL or 127.0.0.1:5432")
    reset_postgres(url)
    return url


@pytest.fixture(scope="session")
def face_engine():
    from gatekeeper.adapters.faces import FaceEngine

    return FaceEngine()


@pytest.fixture
def settings(tmp_path, database_url):
    from gatekeeper.config import Settings

    # invitations need the links' base; the test server's own address (e2e tests swap it)
    return Settings(home=tmp_path / "home", database_url=database_url,
                    public_url="http://127.0.0.1:8000")


@pytest.fixture
def ctx(settings, face_engine):
    """A migrated instance; the session-wide face engine is shared to load the models once."""
    from consent_db.db import migrate
    from gatekeeper.services.context import Context

    settings.home.mkdir(parents=True, exist_ok=True)
    context = Context(settings, faces=face_engine)
    migrate(context.engine)
    yield context
    context.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def s3_endpoint():
    from moto.server import ThreadedMotoServer

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def s3_client(s3_endpoint, monkeypatch):
    import boto3

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    return boto3.client("s3", endpoint_url=s3_endpoint, region_name="eu-west-2")


@pytest.fixture
def school(ctx):
    """Users of every role, two enrolled and consented pupils and a registered camera."""
    from tests.integration.helpers import school as build_school

    return build_school(ctx)


def pytest_collection_modifyitems(config, items) -> None:
    """Longest first: the slow end-to-end suites start at once, so on several pytest-xdist
    workers (work stealing) the short tests fill in around them instead of waiting behind."""
    items.sort(key=lambda item: 0 if item.get_closest_marker("slow") else 1)
