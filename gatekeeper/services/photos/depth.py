"""How deep a photo's face search goes (issue 28).

The scan searches for every face that will be min_published_face_px (10 px) in the copy the
online channel publishes (2048 px), not in the larger display and print copies (4096 px): on
event photos that halves the scan. Only a photo approved for a channel published larger gets
the deeper search, run by the publisher before that copy is written (`deepen`), and the copy
is never written before it (`require_searched_for`, checked by publish.write_copy): fail
closed. The faces the deeper search adds are unknown (covered); anyone they are near who
carries a safeguarding flag blocks the photo, as after a scan. A school that publishes display
and print at the online size never needs the deeper search.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from consent_db import audit
from consent_db.models import Face, Photo, PhotoStatus
from gatekeeper.config import Settings
from gatekeeper.domain.images import decode
from gatekeeper.domain.policy import blocked_reason
from gatekeeper.domain.vocabulary import Channel, RotationMode
from gatekeeper.errors import InvalidState
from gatekeeper.services import rechecks
from gatekeeper.services.consent.gallery import identify_faces, load_gallery
from gatekeeper.services.context import Context
from gatekeeper.services.facts import face_facts, person_facts
from gatekeeper.services.records import get_photo, original_key_of

if TYPE_CHECKING:
    from gatekeeper.adapters.faces import FoundFace

log = logging.getLogger(__name__)


def channel_side(settings: Settings, channel: Channel) -> int:
    """The long side a channel publishes at (0: full size)."""
    return settings.channel_rule(channel).max_side


# The scan searches a quarter deeper than the online copy needs: at the 10 px floor the
# detector's recall is not 1, and on the held-back event scenes a face of 10.7 px in the
# online copy was missed when searching for exactly 2048 px (118 of 118 found at 2560 px, for
# 20 % more engine time). Faces of 8 px and more in the online copy are searched for.
SCAN_MARGIN = 1.25


def side_for_scan(settings: Settings, photo: Photo) -> int:
    """The side a scan searches for: the online channel's with a margin, or the largest
    channel the photo is already approved for or live on (a rescan must not undo a deeper
    search)."""
    channels = {a.channel for a in photo.approvals} | {
        p.channel for p in photo.publications if p.taken_down_at is None}
    online = round(settings.publish_max_side * SCAN_MARGIN) if settings.publish_max_side else 0
    sides = [online] + [channel_side(settings, Channel(c)) for c in channels]
    return 0 if 0 in sides else max(sides)


def searched_for(photo: Photo, side: int) -> bool:
    """Whether the photo's faces were searched for copies of long side `side` (0: full size):
    its own search was for that side or more, or its whole photo is no larger than that."""
    if photo.media == "video" or photo.scan_side is None or photo.scan_side == 0:
        return True
    return max(photo.width, photo.height) <= photo.scan_side or 0 < side <= photo.scan_side


def require_searched_for(settings: Settings, photo: Photo, channel: Channel) -> None:
    """Refuse to write a copy larger than the photo's faces were searched for."""
    side = channel_side(settings, channel)
    if not searched_for(photo, side):
        raise InvalidState(
            f"photo {photo.id} was searched for faces only for copies of up to "
            f"{photo.scan_side} px: the deeper search must run before a {channel.value} copy")


def search_photo(ctx: Context, data: bytes, *, encode: bool, side: int) -> list[FoundFace]:
    """Every face of a stored photo that will be 10 px in a copy of long side `side` (0: full
    size), turned as the school's rotation setting says; the scan's and the deeper search's."""
    decoded = decode(data, ctx.settings.max_image_pixels)
    mode = ctx.settings.detect_rotations
    sideways = mode is RotationMode.ALWAYS or (
        mode is RotationMode.UNTAGGED and decoded.orientation_tag is None)
    return ctx.faces.find_faces(decoded.pixels, look_sideways=sideways, encode=encode,
                                publish_side=side)


def deepen(*, ctx: Context, photo_id: int, channel: Channel) -> bool:
    """Run the deeper search of a photo approved for `channel` when that channel publishes
    larger than the photo was searched for; add the faces it finds to the photo's (unknown:
    covered) and decide again. Returns whether a deeper search ran."""
    side = channel_side(ctx.settings, channel)
    with ctx.uow() as uow:
        photo = get_photo(uow.session, photo_id)
        if (searched_for(photo, side) or photo.status != PhotoStatus.AWAITING_REVIEW
                or not any(a.channel == channel for a in photo.approvals)):
            return False
        data = ctx.stores.private.get(original_key_of(photo))
        gallery = load_gallery(uow.session)
    found = search_photo(ctx, data, encode=len(gallery) > 0, side=side)
    with ctx.uow() as uow:
        photo = get_photo(uow.session, photo_id)
        if searched_for(photo, side):
            return False  # another worker's deeper search came first
        new = [f for f in found if not any(_same_face(f, old) for old in photo.faces)]
        usable = [f for f in new if f.encoding is not None]
        near = {id(f): ({m.person_id} | set(m.near_person_ids)) - {None}
                for f, m in zip(usable, identify_faces(usable, gallery, ctx.settings), strict=True)}
        photo.faces.extend(Face(
            top=f.box.top, right=f.box.right, bottom=f.box.bottom, left=f.box.left,
            score=f.score, rotation=f.rotation, quality=f.quality.value, person_id=None,
            near_person_ids=sorted(int(p) for p in near.get(id(f), set()) if p is not None),
            decided_by="auto") for f in new)
        photo.scan_side = side
        if new:
            photo.revision += 1  # live copies are made again, covering the new faces too
        uow.flush()
        reason = blocked_reason(face_facts(photo), person_facts(uow.session, photo))
        if reason is not None:
            photo.status, photo.status_reason = PhotoStatus.BLOCKED.value, reason
            photo.approvals.clear()
            rechecks.mark(uow.session, [photo.id], "blocked by the deeper search")
        audit.record(uow.session, "photo.searched_deeper", "photo", photo.id, None, side=side,
                     faces_added=len(new), status=photo.status)
        uow.commit()
    if reason is not None:
        ctx.jobs.reconcile([photo_id])
    return True


def _same_face(found: FoundFace, old: Face) -> bool:
    """A face of the deeper search that the scan already has: either box's centre inside the
    other (the boxes of one face differ a little between the two searches)."""
    b = found.box

    def inside(x: float, y: float, left: int, top: int, right: int, bottom: int) -> bool:
        return left <= x <= right and top <= y <= bottom

    return (inside((b.left + b.right) / 2, (b.top + b.bottom) / 2,
                   old.left, old.top, old.right, old.bottom)
            or inside((old.left + old.right) / 2, (old.top + old.bottom) / 2,
                      b.left, b.top, b.right, b.bottom))
