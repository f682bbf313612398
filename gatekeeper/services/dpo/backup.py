"""Backup and restore of an embedded instance (SQLite database, local stores) as one file.

The database is copied with SQLite's online backup API, so a backup may be taken while the
service runs; the private and public stores, the secret key, the audit anchors and the outbox
go in beside it, with a SHA-256 manifest (not the task queue: the sweep finds its work again
from the database). The file is 0600: it holds everything. Restoring
checks every byte before the new home is put in place and never writes over an instance.
PostgreSQL and S3 have their own tools (pg_dump, bucket versioning and replication).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from consent_db.snapshot import copy_sqlite
from gatekeeper.adapters.archive import DamagedArchive, extract_archive, write_archive
from gatekeeper.adapters.filemodes import (
    PRIVATE_DIR_MODE,
    PRIVATE_FILE_MODE,
    secure_database_file,
    sqlite_path,
)
from gatekeeper.adapters.storage import LocalStore
from gatekeeper.config import Settings
from gatekeeper.domain.vocabulary import StoreBackend
from gatekeeper.errors import InvalidInput, InvalidState

DATABASE = "gatekeeper.db"
FILES = ("secret_key", "audit-anchors.log")  # beside the database in the home
FOLDERS = ("private", "public", "outbox")


@dataclass(frozen=True)
class BackupResult:
    path: Path
    files: int


def _embedded_database(settings: Settings) -> Path:
    """The SQLite file of an embedded instance; refuses PostgreSQL and S3 with what to use."""
    if settings.store_backend is not StoreBackend.LOCAL:
        raise InvalidInput("backup covers local stores only: back up S3 buckets with their "
                           "versioning or replication")
    path = sqlite_path(settings.resolved_database_url)
    if path is None or path.resolve() != (settings.home / DATABASE).resolve():
        raise InvalidInput("backup covers the SQLite database in the home only: back up "
                           "PostgreSQL with pg_dump")
    return path


def backup(*, settings: Settings, out: Path) -> BackupResult:
    """Write the whole instance to `out` (0600, must not exist yet), the database as of one
    commit."""
    database = _embedded_database(settings)
    if out.exists():
        raise InvalidInput(f"{out}: already exists (a backup never writes over a file)")
    with tempfile.TemporaryDirectory(prefix=".backup-", dir=settings.home) as work:
        copy = Path(work) / DATABASE
        copy_sqlite(database, copy)
        members = [(DATABASE, copy)]
        members += [(name, settings.home / name) for name in FILES
                    if (settings.home / name).is_file()]
        for folder in FOLDERS:
            root = settings.home / folder
            if root.is_dir():
                members += [(path.relative_to(settings.home).as_posix(), path)
                            for path in sorted(root.rglob("*")) if path.is_file()]
        try:
            files = write_archive(out, members)
        except OSError as exc:
            out.unlink(missing_ok=True)
            raise InvalidInput(f"{out}: cannot write ({exc.strerror})") from None
    return BackupResult(out, files)


SCHEDULED_PREFIX = "gatekeeper-"
SCHEDULED_SUFFIX = ".tar.gz"


def scheduled_backup(*, settings: Settings, today: date) -> BackupResult | None:
    """The daily job's backup into `backup_dir` (one a day, named by the day), then only the
    newest `backup_keep` of them are kept; None when no backup folder is set."""
    folder = settings.backup_dir
    if folder is None:
        return None
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(PRIVATE_DIR_MODE)
    out = folder / f"{SCHEDULED_PREFIX}{today.isoformat()}{SCHEDULED_SUFFIX}"
    result = BackupResult(out, 0) if out.exists() else backup(settings=settings, out=out)
    ours = sorted(p for p in folder.glob(f"{SCHEDULED_PREFIX}*{SCHEDULED_SUFFIX}") if p.is_file())
    for old in ours[:-max(1, settings.backup_keep)]:
        old.unlink()
    return result


def restore(*, settings: Settings, archive: Path) -> BackupResult:
    """Unpack a backup into the home of `settings`, which must hold no instance. Every member
    is checked against the manifest in a folder beside the home first; a damaged file is
    refused and leaves nothing behind."""
    _embedded_database(settings)
    home = settings.home
    if home.exists() and (not home.is_dir() or any(home.iterdir())):
        raise InvalidState(f"{home} is not empty: restore into a new home (nothing was changed)")
    if not archive.is_file():
        raise InvalidInput(f"{archive}: no such file")
    home.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{home.name}-restore-", dir=home.parent))
    try:
        try:
            files = extract_archive(archive, staging)
        except DamagedArchive as exc:
            raise InvalidInput(f"{archive}: damaged backup, nothing restored: {exc}") from None
        if not (staging / DATABASE).is_file():
            raise InvalidInput(f"{archive}: not a Gatekeeper backup (no database); nothing "
                               "restored")
        _set_modes(staging, settings)
        if home.is_dir():
            home.rmdir()  # empty, checked above
        os.replace(staging, home)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    secure_database_file(home / DATABASE)
    home.chmod(0o711)
    return BackupResult(archive, files)


def _set_modes(root: Path, settings: Settings) -> None:
    """The modes of a fresh instance: private things 0600/0700, published files as configured."""
    for name in (DATABASE, *FILES):
        if (root / name).exists():
            (root / name).chmod(PRIVATE_FILE_MODE)
    for folder in ("private", "outbox"):
        for path in [root / folder, *(root / folder).rglob("*")] if (root / folder).exists() else []:
            path.chmod(PRIVATE_DIR_MODE if path.is_dir() else PRIVATE_FILE_MODE)
    if (root / "public").exists():
        LocalStore(root / "public", settings.public_file_mode, settings.public_dir_mode)\
            .enforce_modes()
        (root / "public").chmod(settings.public_dir_mode)
