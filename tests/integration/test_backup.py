"""Issue 26: `gatekeeper backup --out FILE` and `gatekeeper restore FILE --home DIR`.

A backup taken from a working instance (SQLite online backup, the local stores, the secret key
and the audit anchors, as one 0600 file with a SHA-256 manifest) restores into a new home where
the photos are byte for byte the originals and the audit chain and its anchors verify; a
damaged or doctored file is refused and leaves nothing behind; nothing is written over."""

from __future__ import annotations

import hashlib
import io
import stat
import tarfile

import pytest
from sqlalchemy import select

from consent_db.models import Photo
from gatekeeper.config import Settings
from gatekeeper.domain.vocabulary import Channel
from gatekeeper.entrypoints.cli import main
from gatekeeper.services.accounts.instance import initialise
from gatekeeper.services.auditing import anchor_audit_head, anchors_path, check_audit
from gatekeeper.services.context import Context
from tests.integration.helpers import event_photo, ingest, school


@pytest.fixture
def instance(tmp_path, face_engine, monkeypatch):
    """An embedded instance (database in its home) with people, photos, a published file, an
    anchored audit chain and a secret key."""
    from web.security import secret_key

    monkeypatch.delenv("GATEKEEPER_DATABASE_URL", raising=False)
    settings = Settings(home=tmp_path / "school")
    initialise(settings=settings, admin="admin")
    ctx = Context(settings, faces=face_engine)
    users = school(ctx)
    for seed in (("tom", "eileen"), ("tom",)):
        assert ingest(ctx, users["office1"], event_photo(seed)).photo_id
    ctx.stores.public[Channel.ONLINE].put("trip-0001-abcdef0123.jpg", b"published bytes")
    anchor_audit_head(ctx=ctx)
    secret_key(settings)
    yield ctx
    ctx.close()


def originals(ctx: Context) -> dict[str, str]:
    with ctx.uow() as uow:
        keys = uow.session.scalars(select(Photo.original_key)).all()
    return {key: hashlib.sha256(ctx.stores.private.get(key)).hexdigest() for key in keys if key}


def test_a_backup_restores_into_a_new_home_with_photos_and_audit_intact(instance, tmp_path,
                                                                         capsys):
    home = instance.settings.home
    archive = tmp_path / "school.tar.gz"
    assert main(["backup", "--out", str(archive), "--home", str(home)]) == 0, \
        capsys.readouterr().err
    assert stat.S_IMODE(archive.stat().st_mode) == 0o600
    assert main(["backup", "--out", str(archive), "--home", str(home)]) == 1  # never over a file
    new_home = tmp_path / "restored"
    assert main(["restore", str(archive), "--home", str(new_home)]) == 0, capsys.readouterr().err
    assert "checksums verified" in capsys.readouterr().out
    restored = Context(Settings(home=new_home), faces=instance.faces)
    try:
        assert len(originals(instance)) == 2
        assert originals(restored) == originals(instance)
        check = check_audit(ctx=restored)
        assert check.problem is None and check.events == check_audit(ctx=instance).events
        assert anchors_path(restored).read_text() == anchors_path(instance).read_text()
        assert restored.stores.public[Channel.ONLINE].get("trip-0001-abcdef0123.jpg") == \
            b"published bytes"
    finally:
        restored.close()
    assert (new_home / "secret_key").read_text() == (home / "secret_key").read_text()
    modes = {p: stat.S_IMODE((new_home / p).stat().st_mode)
             for p in ("gatekeeper.db", "secret_key", "audit-anchors.log", "private",
                       "public/online/trip-0001-abcdef0123.jpg")}
    assert modes == {"gatekeeper.db": 0o600, "secret_key": 0o600, "audit-anchors.log": 0o600,
                     "private": 0o700, "public/online/trip-0001-abcdef0123.jpg": 0o644}
    assert main(["people", "show", "TOM", "--home", str(new_home)]) == 0  # a working instance
    assert main(["restore", str(archive), "--home", str(new_home)]) == 1  # never over an instance
    assert "is not empty" in capsys.readouterr().err


def doctored(archive, tmp_path):
    """The same archive with one photo's bytes changed and the manifest left as it was."""
    out = tmp_path / "doctored.tar.gz"
    with tarfile.open(archive, "r:gz") as src, tarfile.open(out, "w:gz") as dst:
        for member in src:
            data = src.extractfile(member).read() if member.isfile() else b""
            if member.name.startswith("private/originals/"):
                data = data[:-1] + bytes([data[-1] ^ 1])
            dst.addfile(member, io.BytesIO(data))
    return out


def test_a_damaged_or_doctored_backup_is_refused_and_leaves_nothing(instance, tmp_path, capsys):
    archive = tmp_path / "school.tar.gz"
    assert main(["backup", "--out", str(archive), "--home", str(instance.settings.home)]) == 0
    damaged = tmp_path / "damaged.tar.gz"
    data = bytearray(archive.read_bytes())
    data[len(data) // 2] ^= 0xFF
    damaged.write_bytes(bytes(data))
    truncated = tmp_path / "truncated.tar.gz"
    truncated.write_bytes(archive.read_bytes()[: len(data) // 3])
    for bad, reason in ((damaged, "damaged backup"), (truncated, "damaged backup"),
                        (doctored(archive, tmp_path), "checksum does not match")):
        target = tmp_path / f"from-{bad.stem}"
        capsys.readouterr()
        assert main(["restore", str(bad), "--home", str(target)]) == 1
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and reason in err and "nothing restored" in err
        assert not target.exists()
        assert not [p for p in tmp_path.iterdir() if "-restore-" in p.name]


@pytest.mark.parametrize("name", ["../outside", "/etc/gatekeeper", "private/../../outside"])
def test_a_member_that_would_land_outside_the_home_is_refused(tmp_path, name):
    from gatekeeper.adapters.archive import DamagedArchive, extract_archive

    archive = tmp_path / "evil.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        info = tarfile.TarInfo(name)
        info.size = 4
        tar.addfile(info, io.BytesIO(b"evil"))
    target = tmp_path / "home"
    target.mkdir()
    with pytest.raises(DamagedArchive, match="outside"):
        extract_archive(archive, target)
    assert not (tmp_path / "outside").exists()


def test_the_daily_job_writes_a_backup_and_keeps_the_newest(tmp_path, monkeypatch):
    """GATEKEEPER_BACKUP_DIR: one 0600 backup a day from the daily job, the oldest going once
    there are more than GATEKEEPER_BACKUP_KEEP; none when it is unset."""
    from datetime import date

    from gatekeeper.services.dpo.backup import scheduled_backup
    from workers.tasks import make_huey

    monkeypatch.delenv("GATEKEEPER_DATABASE_URL", raising=False)
    folder = tmp_path / "backups"
    settings = Settings(home=tmp_path / "school", backup_dir=folder, backup_keep=2)
    initialise(settings=settings, admin="admin")
    assert scheduled_backup(settings=settings.model_copy(update={"backup_dir": None}),
                            today=date(2026, 12, 1)) is None
    for day in range(1, 4):
        scheduled_backup(settings=settings, today=date(2026, 12, day))
    kept = sorted(p.name for p in folder.iterdir())
    assert kept == ["gatekeeper-2026-12-02.tar.gz", "gatekeeper-2026-12-03.tar.gz"]
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in folder.iterdir())
    restored = tmp_path / "restored"
    assert main(["restore", str(folder / kept[-1]), "--home", str(restored)]) == 0
    # the worker's daily task writes today's
    huey = make_huey(settings, immediate=True)
    huey.gatekeeper_tasks.daily()
    today = f"gatekeeper-{date.today().isoformat()}.tar.gz"
    assert today in {p.name for p in folder.iterdir()}


def test_a_backup_taken_during_uploads_restores_consistent(instance, tmp_path, capsys):
    """Uploads go on while the backup runs: every photo row in the restored instance has its
    original (originals are stored before their row commits, and the database is copied
    first), and the audit chain verifies."""
    import threading

    from gatekeeper.services.photos.ingest import ingest_bytes
    from tests import imagegen

    stop = threading.Event()
    uploaded: list[int] = []

    def upload() -> None:
        n = 0
        while not stop.is_set() and n < 40:
            img = imagegen.row_of_faces([imagegen.load(imagegen.FIXTURES / "tom_cruise.jpg")
                                         .rotate(n)], height=200)[0]
            result = ingest_bytes(ctx=instance, data=imagegen.jpeg(img, imagegen.exif_bytes()),
                                  name=f"u{n}.jpg", event_name="During backup", actor_id=None)
            if result.photo_id:
                uploaded.append(result.photo_id)
            n += 1

    worker = threading.Thread(target=upload)
    worker.start()
    try:
        while len(uploaded) < 3:
            threading.Event().wait(0.05)
        archive = tmp_path / "during.tar.gz"
        assert main(["backup", "--out", str(archive), "--home",
                     str(instance.settings.home)]) == 0, capsys.readouterr().err
    finally:
        stop.set()
        worker.join(timeout=120)
    new_home = tmp_path / "restored"
    assert main(["restore", str(archive), "--home", str(new_home)]) == 0, capsys.readouterr().err
    restored = Context(Settings(home=new_home), faces=instance.faces)
    try:
        kept = originals(restored)  # reads every row's original: none may be missing
        assert len(kept) >= 2 + 3
        assert check_audit(ctx=restored).problem is None
    finally:
        restored.close()
