"""Issue 26: `gatekeeper init` on S3 creates the buckets it does not find, or fails at once with
one line naming them (not at the first upload), against a local S3 server over real HTTP."""

from __future__ import annotations

import pytest

from gatekeeper.config import Settings
from gatekeeper.entrypoints.cli import main
from gatekeeper.services.accounts.instance import initialise


def s3_settings(tmp_path, endpoint: str, **changes) -> Settings:
    buckets = {"s3_private_bucket": "school-originals", "s3_public_bucket": "school-public"}
    return Settings(home=tmp_path / "home", store_backend="s3", s3_endpoint_url=endpoint,
                    **{**buckets, **changes})


def test_init_creates_missing_buckets_and_blocks_public_access_to_originals(tmp_path, s3_client,
                                                                          s3_endpoint):
    s3_client.create_bucket(Bucket="school-public",
                            CreateBucketConfiguration={"LocationConstraint": "eu-west-2"})
    settings = s3_settings(tmp_path, s3_endpoint)
    assert initialise(settings=settings, admin="admin").created
    names = {b["Name"] for b in s3_client.list_buckets()["Buckets"]}
    assert {"school-originals", "school-public"} <= names
    block = s3_client.get_public_access_block(Bucket="school-originals")
    assert all(block["PublicAccessBlockConfiguration"].values())
    assert s3_client.get_bucket_location(Bucket="school-originals")["LocationConstraint"] == \
        "eu-west-2"
    assert not initialise(settings=settings, admin="admin").created  # again: nothing to do


def test_init_fails_in_one_line_naming_the_buckets_it_cannot_create(tmp_path, monkeypatch,
                                                                   capsys):
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}"
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    monkeypatch.setenv("GATEKEEPER_STORE_BACKEND", "s3")
    monkeypatch.setenv("GATEKEEPER_S3_ENDPOINT_URL", dead)
    monkeypatch.setenv("GATEKEEPER_S3_PRIVATE_BUCKET", "school-originals")
    monkeypatch.setenv("GATEKEEPER_S3_PUBLIC_BUCKET", "school-public")
    assert main(["init", "--home", str(tmp_path / "home")]) == 3
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("gatekeeper: S3 bucket(s) missing")
    assert "school-originals" in err and "school-public" in err


def test_a_bucket_that_may_not_be_created_is_named_with_the_reason(tmp_path, s3_client,
                                                                  s3_endpoint):
    from botocore.exceptions import ClientError

    from gatekeeper.adapters.storage import build_stores, ensure_buckets
    from gatekeeper.errors import StoreUnavailable

    def refuse(**kwargs):
        raise ClientError({"Error": {"Code": "AccessDenied", "Message": "Access Denied"}},
                          "CreateBucket")

    stores = build_stores(s3_settings(tmp_path, s3_endpoint, s3_private_bucket="locked-originals",
                                      s3_public_bucket="locked-public"))
    stores.private.client.create_bucket = refuse  # type: ignore[attr-defined]  # one shared client
    with pytest.raises(StoreUnavailable) as refused:
        ensure_buckets(stores)
    assert "locked-originals (AccessDenied: Access Denied); locked-public (AccessDenied" in \
        str(refused.value)
