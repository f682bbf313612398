"""Object storage behind one small interface: a local folder (default) or S3 via boto3.

Keys are neutral paths ("originals/ab/<sha256>", "online/sports-day-2026-0001.jpg"); they never
carry a person's name. `delete` removes every trace of a key, including all object versions.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, cast

from gatekeeper.adapters.filemodes import (
    PRIVATE_DIR_MODE,
    PRIVATE_FILE_MODE,
    make_dirs,
)
from gatekeeper.config import Settings
from gatekeeper.domain.vocabulary import Channel, StoreBackend
from gatekeeper.errors import NotFound, StoreUnavailable

if TYPE_CHECKING:  # the stubs only (types-boto3-s3); boto3 itself loads only on S3 instances
    from types_boto3_s3.client import S3Client
    from types_boto3_s3.literals import BucketLocationConstraintType
    from types_boto3_s3.type_defs import ObjectIdentifierTypeDef


class ObjectStore(Protocol):
    """What the services need of a store."""

    def put(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> None:
        """Write `data` durably under `key` (replacing it)."""

    def get(self, key: str) -> bytes:
        """Return the bytes under `key`, or raise NotFound."""

    def size(self, key: str) -> int:
        """The object's length in bytes, or raise NotFound."""

    def get_range(self, key: str, start: int, end: int) -> bytes:
        """Bytes `start` to `end` (inclusive, clipped to the object's end) of `key`, or raise
        NotFound: a video player seeking in a preview needs a slice, not the whole file."""

    def exists(self, key: str) -> bool: ...

    def delete(self, key: str) -> None:
        """Remove `key` and every version of it; a missing key is not an error."""

    def keys(self, prefix: str = "") -> Iterator[str]: ...

    def locate(self, key: str) -> str:
        """A path or URI a person can use to find the object."""


def _check_key(key: str) -> str:
    parts = key.split("/")
    if not key or key.startswith("/") or any(p in ("", ".", "..") for p in parts):
        raise ValueError(f"invalid storage key: {key!r}")
    return key


class LocalStore:
    """A folder on disk; writes are atomic (temp file, fsync, rename).

    Files get `file_mode` and the folders the store creates (and its root) get `dir_mode`, set
    explicitly whatever the umask: private by default (0600/0700); public stores are built with
    world-readable modes (0644/0755) so a web server running as another user can serve them.
    """

    def __init__(
        self, root: Path, file_mode: int = PRIVATE_FILE_MODE, dir_mode: int = PRIVATE_DIR_MODE
    ) -> None:
        self.root = Path(root)
        self.file_mode = file_mode
        self.dir_mode = dir_mode
        self.root.mkdir(parents=True, exist_ok=True)  # ancestors outside the store: umask
        os.chmod(self.root, dir_mode)

    def _path(self, key: str) -> Path:
        return self.root / _check_key(key)

    def put(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> None:
        path = self._path(key)
        make_dirs(path.parent, self.dir_mode)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".incoming-")  # created 0600
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fchmod(fh.fileno(), self.file_mode)
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def enforce_modes(self) -> int:
        """Give every folder and file already in the store this store's modes (for instances
        written by older versions); returns how many modes were changed."""
        changed = 0
        for path in [self.root, *self.root.rglob("*")]:
            if path.is_symlink():
                continue
            want = self.dir_mode if path.is_dir() else self.file_mode
            if path.stat().st_mode & 0o7777 != want:
                os.chmod(path, want)
                changed += 1
        return changed

    def get(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            raise NotFound(f"no stored object {key}") from None

    def size(self, key: str) -> int:
        try:
            return self._path(key).stat().st_size
        except FileNotFoundError:
            raise NotFound(f"no stored object {key}") from None

    def get_range(self, key: str, start: int, end: int) -> bytes:
        try:
            with self._path(key).open("rb") as fh:
                fh.seek(start)
                return fh.read(max(0, end - start + 1))
        except FileNotFoundError:
            raise NotFound(f"no stored object {key}") from None

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def keys(self, prefix: str = "") -> Iterator[str]:
        folder = prefix.rpartition("/")[0]  # walk only the prefix's folder, not every original
        start = self.root / folder if folder else self.root
        if not start.is_dir():
            return
        for path in sorted(start.rglob("*")):
            if path.is_file() and not path.name.startswith(".incoming-"):
                key = path.relative_to(self.root).as_posix()
                if key.startswith(prefix):
                    yield key

    def locate(self, key: str) -> str:
        return str(self._path(key))


class S3Store:
    """One bucket (optionally under a prefix); deletes every version and delete marker."""

    def __init__(self, client: S3Client, bucket: str, prefix: str = "", encrypt: bool = False) -> None:
        self.client = client
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self.encrypt = encrypt

    def _key(self, key: str) -> str:
        return self.prefix + _check_key(key)

    def put(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> None:
        if self.encrypt:
            self.client.put_object(Bucket=self.bucket, Key=self._key(key), Body=data,
                                   ContentType=content_type, ServerSideEncryption="AES256")
        else:
            self.client.put_object(Bucket=self.bucket, Key=self._key(key), Body=data,
                                   ContentType=content_type)

    def get(self, key: str) -> bytes:
        try:
            return self.client.get_object(Bucket=self.bucket, Key=self._key(key))["Body"].read()
        except self.client.exceptions.NoSuchKey:
            raise NotFound(f"no stored object {key}") from None

    def size(self, key: str) -> int:
        try:
            return self.client.head_object(Bucket=self.bucket, Key=self._key(key))["ContentLength"]
        except self.client.exceptions.ClientError as e:
            if e.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                raise NotFound(f"no stored object {key}") from None
            raise

    def get_range(self, key: str, start: int, end: int) -> bytes:
        try:
            return self.client.get_object(Bucket=self.bucket, Key=self._key(key),
                                          Range=f"bytes={start}-{end}")["Body"].read()
        except self.client.exceptions.NoSuchKey:
            raise NotFound(f"no stored object {key}") from None

    def exists(self, key: str) -> bool:
        resp = self.client.list_objects_v2(Bucket=self.bucket, Prefix=self._key(key), MaxKeys=1)
        return any(o["Key"] == self._key(key) for o in resp.get("Contents", []))

    def delete(self, key: str) -> None:
        full = self._key(key)
        paginator = self.client.get_paginator("list_object_versions")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=full):
            doomed: list[ObjectIdentifierTypeDef] = [
                {"Key": v["Key"], "VersionId": v["VersionId"]}
                for v in page.get("Versions", []) + page.get("DeleteMarkers", [])
                if v["Key"] == full
            ]
            if doomed:
                self.client.delete_objects(Bucket=self.bucket, Delete={"Objects": doomed})
        # Unversioned buckets report no versions: delete the plain object too.
        self.client.delete_object(Bucket=self.bucket, Key=full)

    def keys(self, prefix: str = "") -> Iterator[str]:
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=self.prefix + prefix):
            for obj in page.get("Contents", []):
                yield obj["Key"][len(self.prefix) :]

    def locate(self, key: str) -> str:
        return f"s3://{self.bucket}/{self._key(key)}"

    def ensure_bucket(self) -> bool:
        """Create the bucket when it does not exist (True), in the client's region; a bucket
        for originals gets every kind of public access blocked. False when it was there."""
        from botocore.exceptions import ClientError  # deferred with boto3 itself

        try:
            self.client.head_bucket(Bucket=self.bucket)
            return False
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") not in ("404", "NoSuchBucket", "NotFound"):
                raise
        region = self.client.meta.region_name
        if region in (None, "us-east-1"):  # the default region takes no location constraint
            self.client.create_bucket(Bucket=self.bucket)
        else:
            self.client.create_bucket(Bucket=self.bucket, CreateBucketConfiguration={
                "LocationConstraint": cast("BucketLocationConstraintType", region)})
        if self.encrypt:  # the private store: never public, whatever a policy says later
            self.client.put_public_access_block(Bucket=self.bucket, PublicAccessBlockConfiguration={
                "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True,
                "RestrictPublicBuckets": True})
        return True


class Stores:
    """The private store (originals) and one public store per channel."""

    def __init__(self, private: ObjectStore, public: dict[Channel, ObjectStore]) -> None:
        self.private = private
        self.public = public


def ensure_buckets(stores: Stores) -> list[str]:
    """Create the S3 buckets the stores need and do not find; the names created. Raises
    StoreUnavailable naming every bucket that is missing and could not be created (or could
    not be checked), so `gatekeeper init` fails at once instead of at the first upload."""
    buckets: dict[str, S3Store] = {}
    for store in (stores.private, *stores.public.values()):
        if isinstance(store, S3Store):
            buckets.setdefault(store.bucket, store)
    if not buckets:
        return []
    from botocore.exceptions import BotoCoreError, ClientError  # deferred: S3 instances only

    created, failed = [], []
    for name, store in buckets.items():
        try:
            if store.ensure_bucket():
                created.append(name)
        except ClientError as exc:
            error = exc.response.get("Error", {})
            failed.append(f"{name} ({error.get('Code') or 'refused'}: {error.get('Message', '')})"
                          .replace(": )", ")"))
        except BotoCoreError as exc:
            failed.append(f"{name} ({exc})")
    if failed:
        raise StoreUnavailable("S3 bucket(s) missing and not created: " + "; ".join(failed)
                               + ". Create them, or give Gatekeeper's credentials "
                               "s3:CreateBucket, then run `gatekeeper init` again")
    return created


def build_stores(settings: Settings) -> Stores:
    """Stores for the configured backend."""
    if settings.store_backend is StoreBackend.S3:
        import boto3  # deferred: only S3 instances pay for loading it (0.25 s a process)

        client = boto3.client(
            "s3", endpoint_url=settings.s3_endpoint_url, region_name=settings.s3_region
        )
        s3_public: dict[Channel, ObjectStore] = {
            c: S3Store(client, settings.s3_public_bucket, prefix=c.value) for c in Channel}
        return Stores(S3Store(client, settings.s3_private_bucket, encrypt=True), s3_public)
    file_mode, dir_mode = settings.public_file_mode, settings.public_dir_mode
    settings.public_dir.mkdir(parents=True, exist_ok=True)
    os.chmod(settings.public_dir, dir_mode)  # a web server must get through to the channels
    public: dict[Channel, ObjectStore] = {
        c: LocalStore(settings.public_dir / c.value, file_mode, dir_mode) for c in Channel}
    private = LocalStore(settings.private_dir, PRIVATE_FILE_MODE, PRIVATE_DIR_MODE)
    return Stores(private, public)
