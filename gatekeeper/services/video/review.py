"""What the editor sees of a video besides its middle frame: a thumbnail of each track's best
frame, and a covered preview to play in the browser.

Both are for the roles that may see the unredacted image (`require_image_access`), as the
review image of a photo is. The preview is rendered by publishing's own `render_video` for the
channel's decision today, at a small size: what it shows is what publishing would show, and a
blocked channel gets none. Both are cached in memory (`memo`), the preview per decision state.
"""

from __future__ import annotations

import copy
import hashlib
import io
import json
import threading

from PIL import Image

from consent_db.models import Face, Photo, PhotoStatus
from gatekeeper.adapters.video import still
from gatekeeper.domain.policy import decide
from gatekeeper.domain.redact import head_region
from gatekeeper.domain.vocabulary import Channel
from gatekeeper.errors import InvalidInput, InvalidState, NotFound
from gatekeeper.services.accounts.access import require_image_access
from gatekeeper.services.accounts.users import Actor
from gatekeeper.services.context import Context
from gatekeeper.services.facts import face_facts, person_facts
from gatekeeper.services.records import get_photo, original_key_of
from gatekeeper.services.video.memo import Memo
from gatekeeper.services.video.publish import render_video

PREVIEW_SIDE = 640  # long side of the preview: quick to render, enough to judge the covers
THUMB_SIDE = 160
_previews = Memo(96 * 1024 * 1024)
_thumbs = Memo(16 * 1024 * 1024)
_stripes = [threading.Lock() for _ in range(8)]  # one preview of a video and channel at a time


def _video(photo: Photo) -> str:
    """The stored original of a video (not purged), or a clear refusal."""
    if photo.media != "video":
        raise InvalidInput(f"photo {photo.id} is a still photo, not a video")
    return original_key_of(photo)


def best_frame(face: Face) -> tuple[int, tuple[int, int, int, int]]:
    """The frame and box of the track's best sighting (the box its row keeps), else its middle
    sighting; a face without sightings is on the first frame."""
    box = (face.top, face.right, face.bottom, face.left)
    rows = [(int(r[0]), (int(r[1]), int(r[2]), int(r[3]), int(r[4]))) for r in face.frames or []]
    for frame, seen in rows:
        if seen == box:
            return frame, seen
    return rows[len(rows) // 2] if rows else (0, box)


def track_thumbnail(*, ctx: Context, face_id: int, viewer: Actor) -> bytes:
    """A JPEG of the track's head on its best frame, long side THUMB_SIDE."""
    with ctx.uow() as uow:
        face = uow.session.get(Face, face_id)
        if face is None:
            raise NotFound(f"no face {face_id}")
        photo = face.photo
        require_image_access(viewer, photo.uploaded_by_id)
        key = _video(photo)
        frame, (top, right, bottom, left) = best_frame(face)
        state = (photo.sha256, frame, top, right, bottom, left)
        width, height, fps = photo.width, photo.height, photo.fps or 25.0
    cached = _thumbs.get(("thumb", face_id), state)
    if cached is not None:
        return cached
    pixels = still(ctx.stores.private.get(key), (frame + 0.5) / fps, width, height)
    head = head_region(top, right, bottom, left, width, height)
    img = Image.fromarray(pixels).crop((head.x0, head.y0, head.x1, head.y1))
    img.thumbnail((THUMB_SIDE, THUMB_SIDE), Image.Resampling.LANCZOS)
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=85)
    _thumbs.put(("thumb", face_id), state, buf.getvalue())
    return buf.getvalue()


def _small(ctx: Context) -> Context:
    """The same context with every channel's long side at most PREVIEW_SIDE (a shallow copy:
    the engine and stores are shared, only the settings differ)."""
    s = ctx.settings
    small = copy.copy(ctx)
    small.settings = s.model_copy(update={
        "publish_max_side": min(s.publish_max_side or PREVIEW_SIDE, PREVIEW_SIDE),
        "publish_max_side_other": min(s.publish_max_side_other or PREVIEW_SIDE, PREVIEW_SIDE)})
    return small


def video_preview(*, ctx: Context, photo_id: int, channel: Channel, viewer: Actor) -> bytes:
    """The covered MP4 that publishing on `channel` today would write, at the preview's size.
    A player asks for several byte ranges at once: one renders, the others wait for its bytes."""
    with _stripes[hash((photo_id, channel.value)) % len(_stripes)]:
        return _preview(ctx=ctx, photo_id=photo_id, channel=channel, viewer=viewer)


def _preview(*, ctx: Context, photo_id: int, channel: Channel, viewer: Actor) -> bytes:
    with ctx.uow() as uow:
        photo = get_photo(uow.session, photo_id)
        require_image_access(viewer, photo.uploaded_by_id)
        key = _video(photo)
        if photo.status != PhotoStatus.AWAITING_REVIEW:
            raise InvalidState(f"video {photo_id} is {photo.status}: a preview is made once its "
                               "tracks are found, for a video that may be published")
        decision = decide(face_facts(photo), person_facts(uow.session, photo), channel,
                          ctx.today(), ctx.year_start)
        if decision.blocked:
            raise InvalidState(f"video {photo_id} is blocked on {channel}: nothing would be "
                               "published, so there is no preview")
        state = hashlib.sha256(json.dumps({
            "sha": photo.sha256, "revision": photo.revision, "side": PREVIEW_SIDE,
            "mode": ctx.settings.cover_mode.value,
            "faces": sorted((fid, v.value) for fid, v in decision.faces.items()),
            "covers": [(c.x0, c.y0, c.x1, c.y1, c.start_ms, c.end_ms)
                       for c in sorted(photo.covers, key=lambda c: c.id)],
        }, default=str).encode()).hexdigest()
        cached = _previews.get((photo_id, channel.value), state)
        if cached is not None:
            return cached
        out = render_video(ctx=_small(ctx), photo=photo, decision=decision,
                           data=ctx.stores.private.get(key), channel=channel)
    _previews.put((photo_id, channel.value), state, out)
    return out
