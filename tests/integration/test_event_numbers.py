"""Photos uploaded at the same moment into one event get different numbers: the numbers make
the published file names, so two photos must never share one."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from consent_db.models import Photo
from gatekeeper.services.photos.ingest import IngestOutcome, ingest_bytes
from tests import imagegen
from tests.integration.helpers import users

PARALLEL = 6


def distinct_photos(n: int) -> list[bytes]:
    base = imagegen.row_of_faces([imagegen.load(imagegen.FIXTURES / "tom_cruise.jpg")])[0]
    out = []
    for i in range(n):
        img = base.copy()
        img.putpixel((i, 0), (i * 20 % 256, 7, 9))  # another file, another SHA-256
        out.append(imagegen.jpeg(img, imagegen.exif_bytes()))
    return out


def test_parallel_uploads_into_one_event_get_distinct_numbers(ctx):
    office = users(ctx)["office1"]
    ingest_bytes(ctx=ctx, data=distinct_photos(PARALLEL + 1)[-1], name="first.jpg",
                 event_name="Sports Day", actor_id=office.id)  # the event exists already
    files = distinct_photos(PARALLEL)
    start = threading.Barrier(PARALLEL)
    results: list[object] = []

    def upload(data: bytes, i: int) -> None:
        start.wait()
        results.append(ingest_bytes(ctx=ctx, data=data, name=f"{i}.jpg",
                                    event_name="Sports Day", actor_id=office.id))

    threads = [threading.Thread(target=upload, args=(d, i)) for i, d in enumerate(files)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == PARALLEL
    assert all(r.outcome in (IngestOutcome.ACCEPTED, IngestOutcome.HELD) for r in results)
    with ctx.uow() as uow:
        numbers = sorted(uow.session.scalars(select(Photo.number)))
    assert numbers == list(range(1, PARALLEL + 2))


def test_the_database_refuses_a_number_twice(ctx):
    office = users(ctx)["office1"]
    a, b = distinct_photos(2)
    for i, data in enumerate((a, b)):
        ingest_bytes(ctx=ctx, data=data, name=f"{i}.jpg", event_name="Trip", actor_id=office.id)
    with ctx.uow() as uow, pytest.raises(IntegrityError):
        second = uow.session.scalar(select(Photo).where(Photo.number == 2))
        second.number = 1
        uow.commit()


def test_the_migration_renumbers_photos_that_already_share_a_number(database_url):
    """An instance where the race already happened: the later photo moves to a free number."""
    from alembic import command
    from sqlalchemy import text

    from consent_db.db import _alembic_config, make_engine, migrate

    engine = make_engine(database_url)
    cfg = _alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0008")
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO events (id, name, slug, next_number, created_at) "
                          "VALUES (1, 'Trip', 'trip', 3, '2026-01-01 00:00:00')"))
        for pid, number in ((1, 1), (2, 2), (3, 2), (4, 2)):
            conn.execute(text(
                "INSERT INTO photos (id, sha256, event_id, number, format, width, height, "
                "orientation, provenance, status, created_at, revision) VALUES (:id, :sha, 1, "
                ":n, 'JPEG', 10, 10, 0, 'school_device', 'received', '2026-01-01 00:00:00', 0)"),
                {"id": pid, "sha": f"{pid:064d}", "n": number})
    migrate(engine)
    with engine.connect() as conn:
        numbers = {i: n for i, n in conn.execute(text("SELECT id, number FROM photos"))}
        next_number = conn.execute(text("SELECT next_number FROM events")).scalar_one()
    assert numbers == {1: 1, 2: 2, 3: 3, 4: 4} and next_number == 5
    engine.dispose()
