"""Nothing identifying leaves the building: a dirty-file corpus, planted with exiftool in every
input format, goes through the real publishing path; exiftool then finds no metadata in the
output and no planted string survives in its bytes."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from datetime import date
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageCms

from gatekeeper.domain.vocabulary import Channel
from gatekeeper.services.photos.devices import add_device
from gatekeeper.services.photos.ingest import ingest_bytes
from gatekeeper.services.photos.publish import publish_one
from gatekeeper.services.photos.review import approve, release
from gatekeeper.services.photos.scan import scan_photo
from tests import imagegen
from tests.integration.helpers import users
from tests.oracles import exiftool_tags

PLANTED = [b"Amara", b"Okafor", b"0123456789", b"EOS 250D", b"Canon", b"SecretNote"]
ALLOWED_GROUPS = {"ExifTool", "System", "File", "JFIF", "Composite", "SourceFile"}
FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp", "HEIF": "heic", "TIFF": "tif"}


def base_image(fmt: str, path: Path) -> None:
    """A real face on a noisy background, with an sRGB ICC profile where the format takes one."""
    face = imagegen.load(imagegen.FIXTURES / "tom_cruise.jpg").resize((280, 396))
    canvas, _ = imagegen.row_of_faces([face], height=396)
    kwargs = {}
    if fmt in ("JPEG", "PNG", "WEBP", "TIFF"):
        kwargs["icc_profile"] = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    if fmt == "PNG":
        canvas = canvas.convert("RGBA")
    canvas.save(path, fmt, **kwargs)


def plant(path: Path, fmt: str, tmp: Path) -> None:
    if shutil.which("exiftool") is None:
        pytest.skip("exiftool not installed (Debian libimage-exiftool-perl)")
    args = ["exiftool", "-q", "-q", "-overwrite_original",
            "-Artist=Amara Okafor", "-Make=Canon", "-Model=EOS 250D", "-SerialNumber=0123456789",
            "-BodySerialNumber=0123456789", "-ImageDescription=Amara Okafor SecretNote",
            "-GPSLatitude=51.5074", "-GPSLatitudeRef=N", "-GPSLongitude=0.1278",
            "-GPSLongitudeRef=W", "-XMP-dc:Creator=Amara Okafor",
            "-XMP-dc:Description=SecretNote", "-XMP-mwg-rs:RegionName=Amara Okafor",
            "-XMP-mwg-rs:RegionType=Face", "-XMP-MP:RegionPersonDisplayName=Amara Okafor",
            "-Comment=SecretNote Amara"]
    if fmt in ("JPEG", "TIFF"):
        args += ["-IPTC:By-line=Amara Okafor", "-IPTC:Caption-Abstract=SecretNote",
                 "-IPTC:Keywords=Okafor"]
    if fmt == "JPEG":
        thumb = tmp / "thumb.jpg"
        Image.new("RGB", (160, 120), (200, 10, 10)).save(thumb, "JPEG", comment=b"Amara thumb")
        args += [f"-ThumbnailImage<={thumb}", "-Photoshop:CopyrightFlag=True"]
    if fmt == "PNG":
        args += ["-PNG:Author=Amara Okafor", "-PNG:Comment=SecretNote"]
    subprocess.run(args + [str(path)], check=True, capture_output=True)
    if fmt == "JPEG":  # a multi-megabyte "preview" after the end marker, as MPF files carry
        rng = np.random.default_rng(0)
        big = Image.fromarray(rng.integers(0, 255, (1500, 2000, 3), dtype=np.uint8))
        buf = io.BytesIO()
        big.save(buf, "JPEG", quality=95, comment=b"Amara Okafor preview")
        path.write_bytes(path.read_bytes() + buf.getvalue() + b"SecretNote trailing")


@pytest.fixture
def dirty(tmp_path) -> dict[str, bytes]:
    out = {}
    for fmt, ext in FORMATS.items():
        path = tmp_path / f"dirty.{ext}"
        base_image(fmt, path)
        plant(path, fmt, tmp_path)
        planted = {k.split(":", 1)[0] for k in exiftool_tags(path) if ":" in k}
        assert {"IFD0", "ExifIFD", "GPS", "XMP-dc", "XMP-mwg-rs"} <= planted, planted
        out[fmt] = path.read_bytes()
    return out


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_published_file_has_no_metadata(ctx, dirty, fmt, tmp_path):
    u = users(ctx)
    add_device(ctx=ctx, make="Canon", model="EOS 250D", serial="0123456789")
    result = ingest_bytes(ctx=ctx, data=dirty[fmt], name=f"Amara Okafor.{FORMATS[fmt]}",
                          event_name="Sports Day", actor_id=u["office1"].id)
    assert result.photo_id, result.reason
    if result.outcome.value == "held":
        release(ctx=ctx, photo_id=result.photo_id, user=u["dpo1"])
    assert scan_photo(ctx=ctx, photo_id=result.photo_id) == "awaiting_review"
    approve(ctx=ctx, photo_id=result.photo_id, channels=[Channel.ONLINE], user=u["editor1"])
    published = publish_one(ctx=ctx, photo_id=result.photo_id, channel=Channel.ONLINE, on=date.today())
    assert published.location, published.refused
    path = Path(published.location)
    assert re.fullmatch(r"sports-day-0001-[0-9a-f]{10}\.jpg", path.name), path.name
    data = path.read_bytes()
    for needle in PLANTED:
        assert needle not in data, needle
    tags = exiftool_tags(path)
    groups = {k.split(":", 1)[0] for k in tags if ":" in k}
    assert groups <= ALLOWED_GROUPS, sorted(groups - ALLOWED_GROUPS)
    assert not any("Thumbnail" in k or "ICC" in k or "XMP" in k for k in tags)
    img = Image.open(path)
    assert img.format == "JPEG" and "icc_profile" not in img.info and "exif" not in img.info
