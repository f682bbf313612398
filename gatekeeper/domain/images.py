"""Decoding untrusted image bytes: recognised by content, size-limited, fully loaded, upright RGB.

Pillow's decompression-bomb guard is turned into a hard error and truncated files are refused
(LOAD_TRUNCATED_IMAGES is forced off here: face_recognition switches it on at import).
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageCms, ImageFile, ImageOps, UnidentifiedImageError

from gatekeeper.errors import InvalidImage, NotAnImage

try:  # HEIC/HEIF support registers itself with Pillow.
    import pillow_heif

    pillow_heif.register_heif_opener()
except ImportError:  # pragma: no cover - declared dependency
    pillow_heif = None  # type: ignore[assignment]  # the module, or None without it

ACCEPTED_FORMATS = ("JPEG", "PNG", "WEBP", "HEIF", "TIFF")
_SRGB = ImageCms.createProfile("sRGB")


@dataclass(frozen=True)
class DecodedImage:
    """An upright 8-bit RGB image plus what the decoder learnt about the file."""

    pixels: Image.Image
    format: str
    orientation_tag: int | None  # EXIF orientation as found; None when the file has none



def open_checked(data: bytes, max_pixels: int) -> Image.Image:
    """Open bytes as an accepted image format, refusing bombs, before any pixel is decoded."""
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    Image.MAX_IMAGE_PIXELS = max_pixels
    if not data:
        raise InvalidImage("empty file")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data), formats=ACCEPTED_FORMATS)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise InvalidImage(f"image too large (over {max_pixels:,} pixels): refused") from None
    except UnidentifiedImageError:
        raise NotAnImage("not a JPEG, PNG, WebP, HEIC or TIFF image") from None
    except Exception as exc:  # Pillow raises many kinds on hostile headers
        raise InvalidImage(f"unreadable image header ({type(exc).__name__})") from None
    width, height = img.size
    if width * height > max_pixels:
        raise InvalidImage(f"image too large ({width}x{height} pixels): refused")
    if width < 1 or height < 1:
        raise InvalidImage("image has no pixels")
    return img


def decode(data: bytes, max_pixels: int, long_side: int | None = None) -> DecodedImage:
    """Fully decode `data` into upright sRGB RGB pixels, or raise InvalidImage with a reason.

    With `long_side` (the largest size the caller will use), a JPEG may be decoded at a reduced
    DCT scale (1/2, 1/4, 1/8) while its long side stays at least 90 % of `long_side`: a 4000 px
    photo published at most 2048 px wide decodes straight to 2000 px, with no resampling."""
    img = open_checked(data, max_pixels)
    if long_side and img.format == "JPEG" and max(img.size) * 0.5 >= 0.9 * long_side:
        w, h = img.size
        ratio = 0.9 * long_side / max(w, h)
        img.draft("RGB", (max(1, int(w * ratio + 0.999)), max(1, int(h * ratio + 0.999))))
    fmt = img.format or "UNKNOWN"
    try:
        tag = img.getexif().get(0x0112)
        orientation = int(tag) if tag else None
    except Exception:
        orientation = None
    try:
        img.load()
        if getattr(img, "n_frames", 1) > 1:
            img.seek(0)
        upright = ImageOps.exif_transpose(img)
        rgb = to_srgb(upright)
    except (OSError, SyntaxError, ValueError) as exc:
        raise InvalidImage(f"corrupt or truncated {fmt} image ({exc})") from None
    return DecodedImage(pixels=rgb, format=fmt, orientation_tag=orientation)


def to_srgb(img: Image.Image) -> Image.Image:
    """8-bit RGB in sRGB: colour-managed when the file has an ICC profile; alpha flattened on white."""
    icc = img.info.get("icc_profile")  # read first: the conversions below drop `info`
    if img.mode in ("I;16", "I;16B", "I;16L", "I"):
        arr = np.asarray(img, dtype=np.float64)
        peak = 65535.0 if arr.max() > 255 else 255.0
        img = Image.fromarray(np.clip(arr * (255.0 / peak), 0, 255).astype(np.uint8), "L")
    if img.mode == "P" or img.mode == "PA":
        img = img.convert("RGBA")
    if img.mode in ("RGBA", "LA"):
        img = img.convert("RGBA")
        flat = Image.new("RGB", img.size, (255, 255, 255))
        flat.paste(img, mask=img.getchannel("A"))
        img = flat
    if img.mode != "RGB":
        img = img.convert("RGB")
    if icc:
        try:
            src = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            converted = ImageCms.profileToProfile(img, src, _SRGB, outputMode="RGB")
            if converted is not None:
                img = converted
        except (ImageCms.PyCMSError, OSError):
            pass  # an unreadable profile: keep the pixels as they are
    img.info.clear()
    return img
