"""Finding 14: the database and the private store are readable by the service's user only;
published files are world-readable so a web server running as another user can serve them."""

from __future__ import annotations

import os
import sqlite3
import stat
from contextlib import contextmanager
from pathlib import Path

import pytest

from gatekeeper.adapters.filemodes import secure_database_file, sqlite_path
from gatekeeper.adapters.storage import LocalStore, build_stores
from gatekeeper.config import Settings


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@contextmanager
def umask(value: int):
    old = os.umask(value)
    try:
        yield
    finally:
        os.umask(old)


@pytest.mark.parametrize("mask", [0o000, 0o022, 0o077])
def test_private_store_is_0600_and_0700_whatever_the_umask(tmp_path, mask):
    with umask(mask):
        store = LocalStore(tmp_path / "private")
        store.put("originals/ab/cdef", b"photo")
    assert mode(tmp_path / "private") == 0o700
    assert mode(tmp_path / "private" / "originals") == 0o700
    assert mode(tmp_path / "private" / "originals" / "ab") == 0o700
    assert mode(tmp_path / "private" / "originals" / "ab" / "cdef") == 0o600


@pytest.mark.parametrize("mask", [0o000, 0o022, 0o077])
def test_public_store_is_world_readable_whatever_the_umask(tmp_path, mask):
    with umask(mask):
        store = LocalStore(tmp_path / "public", file_mode=0o644, dir_mode=0o755)
        store.put("2026/sports-day-0001.jpg", b"jpeg")
        store.put("2026/sports-day-0001.jpg", b"jpeg again")  # replacing keeps the mode
    assert mode(tmp_path / "public") == 0o755
    assert mode(tmp_path / "public" / "2026") == 0o755
    assert mode(tmp_path / "public" / "2026" / "sports-day-0001.jpg") == 0o644
    assert list(store.keys()) == ["2026/sports-day-0001.jpg"]


def test_build_stores_private_and_public_modes(tmp_path):
    settings = Settings(home=tmp_path)
    with umask(0o077):
        stores = build_stores(settings)
        stores.private.put("originals/x", b"a")
        for channel, store in stores.public.items():
            store.put("f.jpg", b"b")
            assert mode(tmp_path / "public" / channel / "f.jpg") == 0o644
            assert mode(tmp_path / "public" / channel) == 0o755
    assert mode(tmp_path / "public") == 0o755
    assert mode(tmp_path / "private" / "originals" / "x") == 0o600


def test_public_modes_are_configurable(tmp_path):
    settings = Settings(home=tmp_path, public_file_mode=0o640, public_dir_mode=0o750)
    stores = build_stores(settings)
    channel, store = next(iter(stores.public.items()))
    store.put("f.jpg", b"b")
    assert mode(tmp_path / "public" / channel / "f.jpg") == 0o640
    assert mode(tmp_path / "public" / channel) == 0o750


def test_enforce_modes_repairs_an_old_instance(tmp_path):
    root = tmp_path / "public"
    (root / "2026").mkdir(parents=True)
    (root / "2026" / "a.jpg").write_bytes(b"x")
    os.chmod(root / "2026" / "a.jpg", 0o600)
    os.chmod(root / "2026", 0o700)
    store = LocalStore(root, file_mode=0o644, dir_mode=0o755)
    assert store.enforce_modes() == 2
    assert mode(root / "2026") == 0o755 and mode(root / "2026" / "a.jpg") == 0o644


def test_database_file_and_companions_are_0600(tmp_path):
    db = tmp_path / "gatekeeper.db"
    with umask(0o022):
        conn = sqlite3.connect(db)
        conn.execute("pragma journal_mode=wal")
        conn.execute("create table t (x)")
        conn.execute("insert into t values (1)")
        conn.commit()
        assert mode(db) == 0o644  # what the old code left behind
        secured = secure_database_file(f"sqlite:///{db}")
        assert set(secured) == {db, tmp_path / "gatekeeper.db-wal", tmp_path / "gatekeeper.db-shm"}
        for path in secured:
            assert mode(path) == 0o600
        conn.close()
    assert mode(db) == 0o600


def test_secure_database_file_leaves_other_databases_alone(tmp_path):
    assert secure_database_file("postgresql+psycopg://u@h/db") == []
    assert secure_database_file("sqlite://") == []
    assert secure_database_file("sqlite:///:memory:") == []
    assert secure_database_file(tmp_path / "missing.db") == []
    assert sqlite_path("sqlite:////abs/x.db") == Path("/abs/x.db")
    assert sqlite_path("sqlite:///rel/x.db") == Path("rel/x.db")
    assert sqlite_path("sqlite+pysqlite:////abs/x.db?mode=rwc") == Path("/abs/x.db")
