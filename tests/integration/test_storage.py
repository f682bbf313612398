"""Both object stores through the same interface; S3 over real HTTP to a local moto server."""

from __future__ import annotations

import pytest

from gatekeeper.adapters.storage import LocalStore, S3Store
from gatekeeper.errors import NotFound


@pytest.fixture(params=["local", "s3"])
def store(request, tmp_path):
    if request.param == "local":
        return LocalStore(tmp_path / "store")
    client = request.getfixturevalue("s3_client")
    bucket = f"b{abs(hash(tmp_path)) % 10**8}"
    client.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-2"})
    client.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    return S3Store(client, bucket, prefix="online", encrypt=True)


def test_put_get_exists_keys_delete(store):
    store.put("a/one.jpg", b"1")
    store.put("a/one.jpg", b"11")
    store.put("b/two.jpg", b"2")
    assert store.get("a/one.jpg") == b"11"
    assert store.exists("a/one.jpg") and not store.exists("a/none.jpg")
    assert sorted(store.keys()) == ["a/one.jpg", "b/two.jpg"]
    store.delete("a/one.jpg")
    store.delete("a/one.jpg")  # missing is fine
    assert not store.exists("a/one.jpg")
    with pytest.raises(NotFound):
        store.get("a/one.jpg")


def test_size_and_byte_ranges(store):
    body = bytes(range(256)) * 4
    store.put("v/preview.mp4", body)
    assert store.size("v/preview.mp4") == 1024
    assert store.get_range("v/preview.mp4", 0, 9) == body[:10]
    assert store.get_range("v/preview.mp4", 1000, 5000) == body[1000:]  # clipped at the end
    for read in (lambda: store.size("v/none.mp4"), lambda: store.get_range("v/none.mp4", 0, 1)):
        with pytest.raises(NotFound):
            read()


@pytest.mark.parametrize("key", ["../escape", "/abs", "a//b", ""])
def test_bad_keys_are_refused(store, key):
    with pytest.raises(ValueError):
        store.put(key, b"x")


def test_s3_delete_removes_every_version_and_marker(s3_client):
    s3_client.create_bucket(Bucket="versions",
                            CreateBucketConfiguration={"LocationConstraint": "eu-west-2"})
    s3_client.put_bucket_versioning(Bucket="versions",
                                    VersioningConfiguration={"Status": "Enabled"})
    store = S3Store(s3_client, "versions")
    for i in range(3):
        store.put("photo.jpg", f"v{i}".encode())
    s3_client.delete_object(Bucket="versions", Key="photo.jpg")  # leaves a delete marker
    store.put("photo.jpg", b"v3")
    store.put("photo.jpg.keep", b"other")
    store.delete("photo.jpg")
    listing = s3_client.list_object_versions(Bucket="versions")
    left = [v["Key"] for v in listing.get("Versions", []) + listing.get("DeleteMarkers", [])]
    assert left == ["photo.jpg.keep"]


def test_s3_private_store_requests_encryption(s3_client):
    s3_client.create_bucket(Bucket="private",
                            CreateBucketConfiguration={"LocationConstraint": "eu-west-2"})
    S3Store(s3_client, "private", encrypt=True).put("originals/ab/cd", b"x")
    head = s3_client.head_object(Bucket="private", Key="originals/ab/cd")
    assert head["ServerSideEncryption"] == "AES256"
