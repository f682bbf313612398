"""HEIC photos (iPhones, many school cameras) carry their camera facts in an Exif item: provenance
reads them as for JPEG, so a registered camera's HEIC is not held for want of camera data."""

from __future__ import annotations

import io
from datetime import datetime

import pytest
from PIL import Image

from gatekeeper.domain.camera import Provenance, judge_provenance, read_camera_info
from tests import imagegen

pillow_heif = pytest.importorskip("pillow_heif")
pillow_heif.register_heif_opener()


def heic(exif: bytes | None) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(buf, "HEIF", **({"exif": exif} if exif else {}))
    return buf.getvalue()


def test_heic_exif_is_read_as_for_jpeg():
    taken = datetime(2026, 3, 4, 10, 11, 12)
    exif = imagegen.exif_bytes(make="Apple", model="iPhone 15", serial="F17XK2", taken=taken)
    info = read_camera_info(heic(exif))
    assert info == read_camera_info(imagegen.jpeg(Image.new("RGB", (64, 48)), exif))
    assert (info.make, info.model, info.serial, info.taken_at) == ("Apple", "iPhone 15",
                                                                  "F17XK2", taken)
    assert judge_provenance(info, {"F17XK2"}) is Provenance.SCHOOL_DEVICE


def test_heic_without_exif_or_broken_has_no_camera_data():
    assert judge_provenance(read_camera_info(heic(None)), set()) is Provenance.NO_CAMERA_DATA
    broken = heic(imagegen.exif_bytes())[:40]
    assert read_camera_info(broken).make is None
