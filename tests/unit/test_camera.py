"""EXIF camera facts (exifread) and provenance against registered serials."""

from __future__ import annotations

from datetime import datetime

from PIL import Image

from gatekeeper.domain.camera import (
    CameraInfo,
    Provenance,
    judge_provenance,
    normalise_serial,
    read_camera_info,
)
from tests import imagegen


def test_reads_make_model_serial_and_time():
    data = imagegen.jpeg(Image.new("RGB", (32, 32)), imagegen.exif_bytes(
        make="Canon", model="EOS 250D", serial="0123456789", taken=datetime(2026, 7, 10, 9, 5)))
    info = read_camera_info(data)
    assert (info.make, info.model, info.serial) == ("Canon", "EOS 250D", "0123456789")
    assert info.taken_at == datetime(2026, 7, 10, 9, 5)


def test_no_exif_means_no_camera_data():
    info = read_camera_info(imagegen.jpeg(Image.new("RGB", (32, 32))))
    assert info == CameraInfo(None, None, None, None)
    assert judge_provenance(info, {"123"}) is Provenance.NO_CAMERA_DATA


def test_provenance_verdicts():
    registered = {normalise_serial("0123456789")}
    school = CameraInfo("Canon", "EOS", "123456789 ", None)  # padding and spaces do not matter
    phone = CameraInfo("Apple", "iPhone", "XYZ", None)
    no_serial = CameraInfo("Apple", "iPhone", None, None)
    assert judge_provenance(school, registered) is Provenance.SCHOOL_DEVICE
    assert judge_provenance(phone, registered) is Provenance.UNREGISTERED_DEVICE
    assert judge_provenance(no_serial, registered) is Provenance.UNREGISTERED_DEVICE


def test_garbage_does_not_crash_the_reader():
    assert read_camera_info(b"\xff\xd8\xff\xe1\x00\x10Exif\x00\x00garbage").serial is None
