"""File modes for what Gatekeeper writes to disk.

Private things (the database with its password hashes and face templates, the private store of
originals, the secret key) are readable by the service's own user only: files 0600, folders
0700. Published files are world-readable so that a web server running as another user can serve
them: files 0644, folders 0755 (configurable per store). Modes are set explicitly, whatever the
process umask.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

PRIVATE_FILE_MODE = 0o600
PRIVATE_DIR_MODE = 0o700
PUBLIC_FILE_MODE = 0o644
PUBLIC_DIR_MODE = 0o755

# SQLite's companions of a database file: rollback journal, write-ahead log, shared memory.
_SQLITE_SUFFIXES = ("", "-journal", "-wal", "-shm")


def sqlite_path(database: str | os.PathLike[str]) -> Path | None:
    """The file behind a SQLite URL ("sqlite:///path", "sqlite+pysqlite:///path") or a plain path;
    None for other databases and for in-memory SQLite."""
    text = os.fspath(database)
    if "://" not in text:
        return Path(text) if text and text != ":memory:" else None
    scheme, _, rest = text.partition("://")
    if scheme.split("+")[0] != "sqlite":
        return None
    path = rest[1:] if rest.startswith("/") else rest  # sqlite:///rel, sqlite:////abs
    path = path.split("?", 1)[0]
    if not path or path == ":memory:" or path.startswith("file::memory:"):
        return None
    return Path(path)


def secure_database_file(database: str | os.PathLike[str]) -> list[Path]:
    """chmod the SQLite database file and its -journal, -wal and -shm companions to 0600.

    Accepts a path or a database URL; anything that is not an SQLite file is left alone. Call it
    once the database exists (after creating or migrating it): SQLite creates later -wal and -shm
    files with the database file's own permissions. Returns the files it secured.
    """
    path = sqlite_path(database)
    if path is None:
        return []
    secured = []
    for suffix in _SQLITE_SUFFIXES:
        candidate = path.with_name(path.name + suffix)
        try:
            os.chmod(candidate, PRIVATE_FILE_MODE)
        except FileNotFoundError:
            continue
        secured.append(candidate)
    return secured


def make_dirs(path: Path, mode: int) -> None:
    """Create `path` and any missing parents, giving each folder it creates exactly `mode`."""
    missing = []
    current = Path(path)
    while not current.exists():
        missing.append(current)
        if current.parent == current:
            break
        current = current.parent
    for folder in reversed(missing):
        with contextlib.suppress(FileExistsError):
            folder.mkdir(mode=mode)
        os.chmod(folder, mode)


def write_private(path: Path, data: bytes | str) -> None:
    """Write a file only the service's user may read (0600), whatever the umask and whatever mode
    an earlier file of that name had: exports hold personal data (subject access, re-consent
    lists, links that open a child's consent). The mode is set before the first byte is written,
    so no other user can open the file in between."""
    payload = data.encode("utf-8") if isinstance(data, str) else data
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE_MODE)
    with os.fdopen(fd, "wb") as out:
        os.fchmod(fd, PRIVATE_FILE_MODE)
        out.write(payload)
