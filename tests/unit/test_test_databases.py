"""Issue 26: `make test` with PostgreSQL configured but its test database missing creates the
database (or fails with the reason), instead of silently skipping every PostgreSQL test."""

from __future__ import annotations

import secrets
import socket

import pytest
from sqlalchemy import create_engine, make_url, text

from tests import conftest


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_missing_test_database_is_created(monkeypatch):
    if conftest.postgres_url() is None:
        pytest.skip("PostgreSQL not reachable")
    name = f"test_missing_{secrets.token_hex(4)}"
    url = make_url(conftest.postgres_url()).set(database=name).render_as_string(
        hide_password=False)
    monkeypatch.setenv("GATEKEEPER_TEST_DATABASE_URL", url)
    monkeypatch.delenv("PYTEST_XDIST_WORKER", raising=False)
    try:
        assert conftest._postgres_url() == url
        engine = create_engine(url)
        with engine.connect() as conn:
            assert conn.execute(text("select current_database()")).scalar() == name
        engine.dispose()
    finally:
        admin = create_engine(make_url(url).set(database="postgres"),
                              isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


def test_a_configured_server_that_cannot_be_used_fails_with_the_reason(monkeypatch):
    monkeypatch.setenv("GATEKEEPER_TEST_DATABASE_URL",
                       f"postgresql+psycopg://postgres@127.0.0.1:{closed_port()}/test")
    with pytest.raises(conftest.PostgresUnusable, match="GATEKEEPER_TEST_DATABASE_URL is set"):
        conftest._postgres_url()


def test_no_server_at_the_default_address_skips_postgresql(monkeypatch):
    monkeypatch.delenv("GATEKEEPER_TEST_DATABASE_URL", raising=False)
    monkeypatch.setattr(conftest, "PG_DEFAULT",
                        f"postgresql+psycopg://postgres@127.0.0.1:{closed_port()}/test")
    assert conftest._postgres_url() is None
