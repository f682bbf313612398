"""Finding 15: a WebP from a registered camera must be judged by its EXIF (make, model, body
serial, capture time), not held as "no camera data"."""

from __future__ import annotations

import io
from datetime import datetime

from PIL import Image

from gatekeeper.domain.camera import Provenance, judge_provenance, normalise_serial, read_camera_info
from tests import imagegen

TAKEN = datetime(2026, 7, 10, 9, 5)


def _webp(exif: bytes | None = None, lossless: bool = False) -> bytes:
    buf = io.BytesIO()
    kwargs = {"exif": exif} if exif else {}
    Image.new("RGB", (48, 32), (120, 80, 40)).save(buf, "WEBP", lossless=lossless, **kwargs)
    return buf.getvalue()


def _with_exif_prefix(data: bytes) -> bytes:
    """The same WebP with its EXIF chunk written as some tools do: "Exif\\0\\0" + TIFF."""
    out, pos = [], 12
    while pos + 8 <= len(data):
        fourcc, size = data[pos : pos + 4], int.from_bytes(data[pos + 4 : pos + 8], "little")
        body = data[pos + 8 : pos + 8 + size]
        if fourcc == b"EXIF":
            body = b"Exif\x00\x00" + body
        out.append(fourcc + len(body).to_bytes(4, "little") + body + (b"\x00" if len(body) & 1 else b""))
        pos += 8 + size + (size & 1)
    chunks = b"WEBP" + b"".join(out)
    return b"RIFF" + len(chunks).to_bytes(4, "little") + chunks


def _exif() -> bytes:
    return imagegen.exif_bytes(make="Canon", model="EOS 250D", serial="0123456789", taken=TAKEN)


def test_webp_exif_gives_make_model_serial_and_time():
    for data in (_webp(_exif()), _webp(_exif(), lossless=True), _with_exif_prefix(_webp(_exif()))):
        info = read_camera_info(data)
        assert (info.make, info.model, info.serial) == ("Canon", "EOS 250D", "0123456789")
        assert info.taken_at == TAKEN


def test_webp_from_a_registered_camera_is_a_school_device():
    info = read_camera_info(_webp(_exif()))
    assert judge_provenance(info, {normalise_serial("0123456789")}) is Provenance.SCHOOL_DEVICE
    assert judge_provenance(info, {normalise_serial("999")}) is Provenance.UNREGISTERED_DEVICE


def test_webp_without_exif_or_broken_is_no_camera_data():
    assert judge_provenance(read_camera_info(_webp()), set()) is Provenance.NO_CAMERA_DATA
    broken = _webp(_exif())
    for data in (broken[:40], broken[:12] + b"EXIF\xff\xff\xff\xffMM", b"RIFF\x00\x00\x00\x00WEBP"):
        assert read_camera_info(data).serial is None
