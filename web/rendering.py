"""Images for the browser: the upright original (downscaled) and the exact publication preview."""

from __future__ import annotations

import io

from PIL import Image

from gatekeeper.images import decode
from gatekeeper.policy import decide
from gatekeeper.services.facts import face_facts, person_facts
from gatekeeper.services.publish import render
from gatekeeper.services.review import check_channel, get_photo


def review_image(ctx, photo_id: int, max_side: int = 1600) -> bytes:
    """The upright photo as JPEG for the editor's screen (face boxes are drawn over it in SVG)."""
    with ctx.uow() as uow:
        photo = get_photo(uow.session, photo_id)
        key = photo.original_key
    if key is None:
        from gatekeeper.errors import NotFound

        raise NotFound(f"photo {photo_id} has no stored image (purged)")
    img = decode(ctx.stores.private.get(key), ctx.settings.max_image_pixels,
                 long_side=max_side).pixels
    img.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=85)
    return buf.getvalue()


def preview(ctx, photo_id: int, channel: str) -> bytes:
    """Exactly the bytes `publish` would write today for this channel."""
    check_channel(channel)
    with ctx.uow() as uow:
        photo = get_photo(uow.session, photo_id)
        decision = decide(face_facts(photo), person_facts(uow.session, photo), channel,
                          ctx.today(), ctx.year_start)
        if decision.blocked:
            from gatekeeper.errors import InvalidState

            raise InvalidState(f"photo {photo_id} is blocked: {decision.blocked_reason}")
        return render(ctx=ctx, photo=photo, decision=decision, channel=channel,
                      data=ctx.stores.private.get(photo.original_key))
