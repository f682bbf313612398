"""Images for the reviewer's screen: the upright original at a bounded size, made once (at
upload) and served from the private store, so viewing a photo never decodes an 80-megapixel
original in the web process. Never published."""

from __future__ import annotations

import io
import threading

from PIL import Image

from gatekeeper.domain.images import decode
from gatekeeper.errors import NotFound
from gatekeeper.services.accounts.access import require_image_access
from gatekeeper.services.accounts.users import Actor
from gatekeeper.services.context import Context
from gatekeeper.services.records import get_photo, original_key_of

REVIEW_SIDE = 1600
_decode_one_at_a_time = threading.BoundedSemaphore(1)  # the fallback's memory stays bounded


def review_key(sha256: str) -> str:
    return f"reviews/{sha256[:2]}/{sha256}.jpg"


def review_rendition(img: Image.Image, max_side: int = REVIEW_SIDE) -> bytes:
    """A JPEG of the upright pixels, long side at most `max_side` (a copy: `img` is kept)."""
    small = img.copy()
    small.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    buf = io.BytesIO()
    small.convert("RGB").save(buf, "JPEG", quality=85)
    return buf.getvalue()


def review_image(*, ctx: Context, photo_id: int, viewer: Actor, max_side: int = REVIEW_SIDE) -> bytes:
    """The photo for the editor's screen (face boxes are drawn over it in SVG)."""
    with ctx.uow() as uow:
        photo = get_photo(uow.session, photo_id)
        require_image_access(viewer, photo.uploaded_by_id, unseen=f"no photo {photo_id}")
        sha, key = photo.sha256, original_key_of(photo)
    try:
        data = ctx.stores.private.get(review_key(sha))
    except NotFound:  # made before review renditions existed, or lost: make it once
        with _decode_one_at_a_time:
            img = decode(ctx.stores.private.get(key), ctx.settings.max_image_pixels,
                         long_side=REVIEW_SIDE).pixels
            data = review_rendition(img)
        ctx.stores.private.put(review_key(sha), data, "image/jpeg")
    if max_side >= REVIEW_SIDE:
        return data
    with Image.open(io.BytesIO(data)) as img:
        return review_rendition(img, max_side)
