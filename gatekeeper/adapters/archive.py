"""Backup archives: a gzip'd tar whose last member, MANIFEST.sha256, lists every other
member's SHA-256 and size. Reading checks every byte against the manifest before anything is
used, and refuses members that could land outside the target folder (absolute paths, `..`,
links, devices), so a damaged or doctored file is refused whole instead of half restored.

Each file is hashed as it is written into the archive, from one open handle: a store file
replaced meanwhile (stores replace files whole) is archived as one version, an append-only log
as the bytes it had when its size was taken, and the manifest always matches the archive.
"""

from __future__ import annotations

import hashlib
import io
import os
import tarfile
import time
import zlib
from collections.abc import Iterable
from pathlib import Path, PurePosixPath
from typing import IO

from gatekeeper.adapters.filemodes import PRIVATE_FILE_MODE

MANIFEST = "MANIFEST.sha256"
CHUNK = 1 << 20


class DamagedArchive(Exception):
    """The archive cannot be read whole or does not match its manifest."""


class _Hashing:
    """A file object that hashes what is read through it."""

    def __init__(self, raw: IO[bytes]) -> None:
        self.raw, self.digest = raw, hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        block = self.raw.read(size)
        self.digest.update(block)
        return block


def _regular(name: str, size: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = size, PRIVATE_FILE_MODE, int(time.time())
    return info


def write_archive(target: Path, members: Iterable[tuple[str, Path]]) -> int:
    """Write (name in archive, file on disk) pairs to `target`, created 0600, the manifest last;
    the number of files. A file deleted before its turn is left out (it was being deleted)."""
    lines = []
    target.touch(mode=PRIVATE_FILE_MODE, exist_ok=False)
    target.chmod(PRIVATE_FILE_MODE)
    with tarfile.open(target, "w:gz", compresslevel=3) as tar:
        for name, path in sorted(members):
            try:
                fh = path.open("rb")
            except FileNotFoundError:
                continue
            with fh:
                size = os.fstat(fh.fileno()).st_size
                reader = _Hashing(fh)
                tar.addfile(_regular(name, size), reader)
            lines.append(f"{reader.digest.hexdigest()}  {size}  {name}\n")
        manifest = "".join(lines).encode()
        tar.addfile(_regular(MANIFEST, len(manifest)), io.BytesIO(manifest))
    return len(lines)


def _safe_name(name: str) -> PurePosixPath:
    path = PurePosixPath(name)
    if path.is_absolute() or not path.parts or ".." in path.parts or "\\" in name:
        raise DamagedArchive(f"refusing a member outside the archive's folder: {name!r}")
    return path


def _parse_manifest(data: bytes) -> dict[str, tuple[str, int]]:
    expected: dict[str, tuple[str, int]] = {}
    for line in data.decode("utf-8").splitlines():
        digest, size, name = line.split("  ", 2)
        expected[name] = (digest, int(size))
    return expected


def extract_archive(source: Path, target: Path) -> int:
    """Check and unpack `source` into the empty folder `target`; the number of files. Raises
    DamagedArchive (the caller removes `target`) when a byte or a member does not match the
    manifest, or the archive cannot be read to its end."""
    found: dict[str, tuple[str, int]] = {}
    manifest: bytes | None = None
    try:
        with tarfile.open(source, "r:gz") as tar:
            for member in tar:
                relative = _safe_name(member.name)
                if manifest is not None or not member.isfile() or member.name in found:
                    raise DamagedArchive(f"unexpected member {member.name!r}")
                handle = tar.extractfile(member)
                assert handle is not None
                if member.name == MANIFEST:
                    manifest = handle.read()
                    continue
                out = target / relative
                out.parent.mkdir(parents=True, exist_ok=True)
                digest = hashlib.sha256()
                with out.open("wb") as fh:
                    while block := handle.read(CHUNK):
                        digest.update(block)
                        fh.write(block)
                found[member.name] = (digest.hexdigest(), member.size)
        if manifest is None:
            raise DamagedArchive(f"not a Gatekeeper backup, or cut short: no {MANIFEST} at its end")
        expected = _parse_manifest(manifest)
    except (tarfile.TarError, EOFError, OSError, zlib.error, UnicodeDecodeError,
            ValueError) as exc:
        raise DamagedArchive(f"cannot be read whole ({type(exc).__name__}: {exc})") from None
    for name, listed in expected.items():
        if name not in found:
            raise DamagedArchive(f"{name}: in the manifest but not in the archive")
        if found[name] != listed:
            raise DamagedArchive(f"{name}: checksum does not match the manifest")
    if set(found) - set(expected):
        raise DamagedArchive(f"{sorted(set(found) - set(expected))[0]}: not in the manifest")
    return len(found)
