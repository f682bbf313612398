"""What the editor sees of a video besides its middle frame: a thumbnail of each track's best
frame (the covered preview to play is `previews`, rendered by a worker).

For the roles that may see the unredacted image (`require_image_access`), as the review image
of a photo is; cached in memory (`memo`).
"""

from __future__ import annotations

import io

from PIL import Image

from consent_db.models import Face, Photo
from gatekeeper.adapters.video import still
from gatekeeper.domain.redact import head_region
from gatekeeper.errors import InvalidInput, NotFound
from gatekeeper.services.accounts.access import require_image_access
from gatekeeper.services.accounts.users import Actor
from gatekeeper.services.context import Context
from gatekeeper.services.records import original_key_of
from gatekeeper.services.video.memo import Memo

THUMB_SIDE = 160
_thumbs = Memo(16 * 1024 * 1024)


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
        require_image_access(viewer, photo.uploaded_by_id, unseen=f"no face {face_id}")
        key = _video(photo)
        frame, (top, right, bottom, left) = best_frame(face)
        # what the crop is cut from: an erasure or purge rewrites the original under a new
        # key and a new revision (the upload's sha256 stays), in whichever process it ran
        state = (key, photo.revision, frame, top, right, bottom, left)
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
