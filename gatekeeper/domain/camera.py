"""Camera facts from EXIF (read with exifread, independently of the pixel decoder) and provenance.

exifread does not know the WebP container, so for WebP the EXIF chunk is taken out of the RIFF
container here (no pixels are decoded) and its TIFF body handed to exifread like any other; for
HEIC/HEIF the Exif item is taken out by pillow-heif, also without decoding pixels.
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

import exifread

try:  # declared dependency; HEIC uploads are decoded with it too (gatekeeper.domain.images)
    import pillow_heif
except ImportError:  # pragma: no cover
    pillow_heif = None  # type: ignore[assignment]  # the module, or None without it

logging.getLogger("exifread").setLevel(logging.ERROR)


class Provenance(StrEnum):
    """Where a photo came from, judged against the registered school devices."""

    SCHOOL_DEVICE = "school_device"
    UNREGISTERED_DEVICE = "unregistered_device"
    NO_CAMERA_DATA = "no_camera_data"


@dataclass(frozen=True)
class CameraInfo:
    make: str | None
    model: str | None
    serial: str | None
    taken_at: datetime | None


def _text(tags: dict[str, object], *names: str) -> str | None:
    for name in names:
        value = tags.get(name)
        if value is not None:
            text = str(value.printable if hasattr(value, "printable") else value)
            text = text.strip().strip("\x00").strip()
            if text and text not in ("0", "[]"):
                return text
    return None


def webp_exif(data: bytes) -> bytes | None:
    """The TIFF-format EXIF body of a WebP file (its RIFF "EXIF" chunk), or None when `data` is
    not WebP or carries no EXIF. Tolerates an "Exif\\0\\0" prefix, which some writers add."""
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        return None
    end = min(len(data), 8 + int.from_bytes(data[4:8], "little"))
    pos = 12
    while pos + 8 <= end:
        fourcc = data[pos : pos + 4]
        size = int.from_bytes(data[pos + 4 : pos + 8], "little")
        body = data[pos + 8 : min(end, pos + 8 + size)]
        if fourcc == b"EXIF":
            if body.startswith(b"Exif\x00\x00"):
                body = body[6:]
            return body if body[:4] in (b"II*\x00", b"MM\x00*") else None
        pos += 8 + size + (size & 1)  # chunks are padded to an even length
    return None


def heif_exif(data: bytes) -> bytes | None:
    """The TIFF-format EXIF body of a HEIC/HEIF file (its "Exif" item, read by pillow-heif
    without decoding pixels), or None when `data` is not HEIF or carries no EXIF."""
    if len(data) < 12 or data[4:8] != b"ftyp" or pillow_heif is None:
        return None
    try:
        body = pillow_heif.open_heif(io.BytesIO(data)).info.get("exif")
    except Exception:  # not a HEIF pillow-heif can read: no camera data then
        return None
    if not isinstance(body, bytes):
        return None
    if body.startswith(b"Exif\x00\x00"):
        body = body[6:]
    return body if body[:4] in (b"II*\x00", b"MM\x00*") else None


def read_camera_info(data: bytes) -> CameraInfo:
    """Make, model, body serial and capture time; None for whatever the file does not carry.
    Reads JPEG, TIFF and PNG EXIF through exifread, WebP through its EXIF chunk and HEIC/HEIF
    through its Exif item (exifread reads neither container reliably)."""
    exif_body = webp_exif(data) or heif_exif(data)
    if exif_body is not None:
        data = exif_body
    try:
        tags = exifread.process_file(io.BytesIO(data), details=False)
    except Exception:  # exifread fails on odd containers; no camera data then
        tags = {}
    taken_text = _text(tags, "EXIF DateTimeOriginal", "EXIF DateTimeDigitized", "Image DateTime")
    taken_at = None
    if taken_text:
        try:
            taken_at = datetime.strptime(taken_text[:19], "%Y:%m:%d %H:%M:%S")
        except ValueError:
            taken_at = None
    return CameraInfo(
        make=_text(tags, "Image Make"),
        model=_text(tags, "Image Model"),
        serial=_text(
            tags,
            "EXIF BodySerialNumber",
            "MakerNote SerialNumber",
            "MakerNote InternalSerialNumber",
            "Image CameraSerialNumber",
        ),
        taken_at=taken_at,
    )


def normalise_serial(serial: str) -> str:
    """Serials compare without case, spaces or leading zeros that some makers pad with."""
    return "".join(serial.split()).upper().lstrip("0") or "0"


def judge_provenance(info: CameraInfo, registered_serials: set[str]) -> Provenance:
    """School device when the body serial is registered; no data when the file has no camera tags."""
    if info.serial is None:
        if info.make is None and info.model is None:
            return Provenance.NO_CAMERA_DATA
        return Provenance.UNREGISTERED_DEVICE
    if normalise_serial(info.serial) in registered_serials:
        return Provenance.SCHOOL_DEVICE
    return Provenance.UNREGISTERED_DEVICE
