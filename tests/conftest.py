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


def _per_worker(url: str) -> str:
    """Under pytest-xdist each worker gets its own database (`test_gw1`, ...), created on
    first use, so parallel workers never reset each other's schema."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if not worker or worker == "gw0":
        return url
    base = make_url(url)
    name = f"{base.database}_{worker}"
    engine = create_engine(base, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 2})
    with engine.connect() as conn:
        if not conn.execute(text("select 1 from pg_database where datname = :n"),
                            {"n": name}).first():
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


def _postgres_url() -> str | None:
    url = os.environ.get("GATEKEEPER_TEST_DATABASE_URL", PG_DEFAULT)
    try:
        url = _per_worker(url)
        engine = create_engine(url, connect_args={"connect_timeout": 2})
        with engine.connect() as conn:
            conn.execute(text("select 1"))
        engine.dispose()
        return url
    except Exception:
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
