"""A consistent copy of a live SQLite database, taken with SQLite's online backup API.

Copying the file (and its -wal) while the service writes can give a copy that never existed;
the backup API copies pages under SQLite's own locks, restarting when a writer changes a page
already copied, so the copy is the database as of one commit.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path


def copy_sqlite(source: Path, target: Path) -> None:
    """Copy the database at `source` into a new file `target` (which must not exist)."""
    if target.exists():
        raise FileExistsError(target)
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=30)
    try:
        dst = sqlite3.connect(target)
        try:
            src.backup(dst, pages=1024)
            dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal
        finally:
            dst.close()
    finally:
        src.close()
