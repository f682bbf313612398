"""Images for the reviewer's screen: the upright original, downscaled (never published)."""

from __future__ import annotations

import io

from PIL import Image

from gatekeeper.domain.images import decode
from gatekeeper.errors import NotFound
from gatekeeper.services.access import require_image_access
from gatekeeper.services.context import Context
from gatekeeper.services.records import get_photo
from gatekeeper.services.users import Actor


def review_image(*, ctx: Context, photo_id: int, viewer: Actor, max_side: int = 1600) -> bytes:
    """The upright photo as JPEG for the editor's screen (face boxes are drawn over it in SVG)."""
    with ctx.uow() as uow:
        photo = get_photo(uow.session, photo_id)
        require_image_access(viewer, photo.uploaded_by_id)
        key = photo.original_key
    if key is None:
        raise NotFound(f"photo {photo_id} has no stored image (purged)")
    img = decode(ctx.stores.private.get(key), ctx.settings.max_image_pixels,
                 long_side=max_side).pixels
    img.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=85)
    return buf.getvalue()
