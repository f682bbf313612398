"""Backup archives: a gzip'd tar whose first member, MANIFEST.sha256, lists every other
member's SHA-256 and size. Reading checks every byte against the manifest before anything is
used, and refuses members that could land outside the target folder (absolute paths, `..`,
links, devices), so a damaged or doctored file is refused whole instead of half restored.
"""

from __future__ import annotations

import hashlib
import io
import tarfile
import zlib
from collections.abc import Iterable
from pathlib import Path, PurePosixPath

from gatekeeper.adapters.filemodes import PRIVATE_FILE_MODE

MANIFEST = "MANIFEST.sha256"
CHUNK = 1 << 20


class DamagedArchive(Exception):
    """The archive cannot be read whole or does not match its manifest."""


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(CHUNK):
            digest.update(block)
    return digest.hexdigest()


def write_archive(target: Path, members: Iterable[tuple[str, Path]]) -> int:
    """Write (name in archive, file on disk) pairs to `target`, created 0600, manifest first;
    the number of files."""
    entries = sorted(members)
    manifest = "".join(f"{_sha256(path)}  {path.stat().st_size}  {name}\n"
                       for name, path in entries).encode()
    target.touch(mode=PRIVATE_FILE_MODE, exist_ok=False)
    target.chmod(PRIVATE_FILE_MODE)
    with tarfile.open(target, "w:gz", compresslevel=3) as tar:
        info = tarfile.TarInfo(MANIFEST)
        info.size, info.mode = len(manifest), PRIVATE_FILE_MODE
        tar.addfile(info, io.BytesIO(manifest))
        for name, path in entries:
            info = tar.gettarinfo(str(path), arcname=name)
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            with path.open("rb") as fh:
                tar.addfile(info, fh)
    return len(entries)


def _safe_name(name: str) -> PurePosixPath:
    path = PurePosixPath(name)
    if path.is_absolute() or not path.parts or ".." in path.parts or "\\" in name:
        raise DamagedArchive(f"refusing a member outside the archive's folder: {name!r}")
    return path


def _read_manifest(tar: tarfile.TarFile) -> tuple[tarfile.TarInfo, dict[str, tuple[str, int]]]:
    first = tar.next()
    if first is None or first.name != MANIFEST or not first.isfile():
        raise DamagedArchive(f"not a Gatekeeper backup: {MANIFEST} is not its first member")
    handle = tar.extractfile(first)
    assert handle is not None
    expected: dict[str, tuple[str, int]] = {}
    for line in handle.read().decode("utf-8").splitlines():
        digest, size, name = line.split("  ", 2)
        expected[name] = (digest, int(size))
    return first, expected


def extract_archive(source: Path, target: Path) -> int:
    """Check and unpack `source` into the empty folder `target`; the number of files. Raises
    DamagedArchive (after unpacking nothing usable: the caller removes `target`) when a byte
    or a member does not match the manifest."""
    try:
        with tarfile.open(source, "r:gz") as tar:
            first, expected = _read_manifest(tar)
            seen: set[str] = set()
            for member in tar:
                if member is first:  # the manifest, read above
                    continue
                relative = _safe_name(member.name)
                if member.isdir():
                    continue
                if not member.isfile() or member.name not in expected or member.name in seen:
                    raise DamagedArchive(f"unexpected member {member.name!r}")
                seen.add(member.name)
                out = target / relative
                out.parent.mkdir(parents=True, exist_ok=True)
                digest = hashlib.sha256()
                handle = tar.extractfile(member)
                assert handle is not None
                with out.open("wb") as fh:
                    while block := handle.read(CHUNK):
                        digest.update(block)
                        fh.write(block)
                if (digest.hexdigest(), member.size) != expected[member.name]:
                    raise DamagedArchive(f"{member.name}: checksum does not match the manifest")
    except (tarfile.TarError, EOFError, OSError, zlib.error, UnicodeDecodeError,
            ValueError) as exc:
        raise DamagedArchive(f"cannot be read whole ({type(exc).__name__}: {exc})") from None
    missing = sorted(set(expected) - seen)
    if missing:
        raise DamagedArchive(f"{len(missing)} file(s) of the manifest are missing, e.g. "
                             f"{missing[0]}")
    return len(seen)
