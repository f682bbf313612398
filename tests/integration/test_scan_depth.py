"""The scan searches for faces at the online copy's size; a copy published larger (display,
print) is written only after the deeper search has covered what it must (issue 28). Real face
crops pasted into generated scenes, the real engine, the services' own path."""

from __future__ import annotations

import io
import json
from datetime import date
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from sqlalchemy import select

from bench.composites import composite, load_crops
from bench.label_detection import TRUTH
from consent_db.models import AuditEvent, Photo, PhotoStatus
from gatekeeper.domain.policy import PhotoDecision
from gatekeeper.domain.vocabulary import Channel
from gatekeeper.errors import InvalidState
from gatekeeper.services.photos.depth import SCAN_MARGIN
from gatekeeper.services.photos.publish import publish_one, write_copy
from gatekeeper.services.photos.review import approve
from gatekeeper.services.photos.scan import scan_photo
from tests import imagegen
from tests.integration.helpers import context_like, ingest

pytestmark = pytest.mark.slow


def _deeper_searches(ctx, photo_id: int) -> list[dict]:
    with ctx.uow() as uow:
        return [e.details for e in uow.session.scalars(select(AuditEvent).where(
            AuditEvent.action == "photo.searched_deeper", AuditEvent.entity_id == photo_id))]


def _scan_side(ctx, photo_id: int) -> int | None:
    with ctx.uow() as uow:
        photo = uow.session.get(Photo, photo_id)
        assert photo is not None
        return photo.scan_side


def _visible(published: Image.Image, original: Image.Image, boxes) -> list:
    """The boxes whose middle is not one flat fill in `published` (though textured before)."""
    after, before = (np.asarray(i, dtype=np.float64) for i in (published, original))
    out = []
    for top, right, bottom, left in boxes:
        dx, dy = (right - left) * 0.2, (bottom - top) * 0.2
        ys = slice(int(top + dy), max(int(top + dy) + 1, int(bottom - dy)))
        xs = slice(int(left + dx), max(int(left + dx) + 1, int(right - dx)))
        flat = after[ys, xs].reshape(-1, 3).std(axis=0).max() < 4
        if before[ys, xs].reshape(-1, 3).std(axis=0).max() >= 4 and not flat:
            out.append([round(v) for v in (top, right, bottom, left)])
    return out


def _plain_photo(ctx, school, width: int = 2600, height: int = 1700) -> int:
    """A faceless photo larger than the online copy, scanned."""
    img = Image.new("RGB", (width, height), (120, 140, 160))
    photo_id = ingest(ctx, school["office1"], imagegen.jpeg(img, imagegen.exif_bytes()),
                      name="wall.jpg").photo_id
    assert photo_id is not None
    assert scan_photo(ctx=ctx, photo_id=photo_id) == "awaiting_review"
    return photo_id


def test_display_copy_waits_for_the_deeper_search_which_covers_its_small_faces(
        ctx, school, faces_dir):
    """Faces of 10-12 px at display size are 6-7 px online: the scan (for the online copy, with
    its margin) need not find them, the display copy must hide them. Online is published
    without the deeper search."""
    crops = load_crops(faces_dir, json.loads(TRUTH.read_text())["crops"][1::2])
    sizes = [10, 10, 11, 11, 12, 12, 14, 16, 24, 40] * 2
    img, pasted = composite(3600, 2400, crops, sizes, seed=41)
    data = imagegen.jpeg(img, imagegen.exif_bytes())
    photo_id = ingest(ctx, school["office1"], data, name="sports.jpg").photo_id
    assert photo_id is not None
    assert scan_photo(ctx=ctx, photo_id=photo_id) == "awaiting_review"
    assert _scan_side(ctx, photo_id) == round(ctx.settings.publish_max_side * SCAN_MARGIN) == 2560
    approve(ctx=ctx, photo_id=photo_id, channels=[Channel.ONLINE, Channel.DISPLAY],
            user=school["editor1"])
    online = publish_one(ctx=ctx, photo_id=photo_id, channel=Channel.ONLINE, on=date.today())
    assert online.location, online.refused
    assert _deeper_searches(ctx, photo_id) == []
    display = publish_one(ctx=ctx, photo_id=photo_id, channel=Channel.DISPLAY, on=date.today())
    assert display.location, display.refused
    [searched] = _deeper_searches(ctx, photo_id)
    assert searched["side"] == 4096
    assert _scan_side(ctx, photo_id) == 4096
    published = Image.open(io.BytesIO(Path(display.location).read_bytes())).convert("RGB")
    assert published.size == img.size
    original = Image.open(io.BytesIO(data)).convert("RGB")
    assert _visible(published, original, [p.box for p in pasted]) == []


def test_a_copy_larger_than_the_search_is_never_written(ctx, school):
    """Fail closed: whoever asks for a display copy before the deeper search gets a refusal,
    and nothing reaches the public store."""
    photo_id = _plain_photo(ctx, school)
    before = list(Path(ctx.settings.public_dir).rglob("*.*"))
    with ctx.uow() as uow, pytest.raises(InvalidState, match="deeper search"):
        photo = uow.session.get(Photo, photo_id)
        write_copy(ctx, uow.session, photo, Channel.DISPLAY, PhotoDecision(None, {}), None, None)
    assert list(Path(ctx.settings.public_dir).rglob("*.*")) == before


def test_display_at_the_online_size_needs_no_deeper_search(ctx, school):
    """A school that publishes display and print at the online size: the scan already covers
    every channel."""
    same = context_like(ctx, publish_max_side_other=ctx.settings.publish_max_side)
    photo_id = _plain_photo(same, school)
    approve(ctx=same, photo_id=photo_id, channels=[Channel.DISPLAY], user=school["editor1"])
    result = publish_one(ctx=same, photo_id=photo_id, channel=Channel.DISPLAY, on=date.today())
    assert result.location, result.refused
    assert _deeper_searches(same, photo_id) == []


def test_a_rescan_keeps_the_depth_of_the_channels_approved(ctx, school):
    """A photo approved for display and scanned again is searched for display at once: a
    rescan never leaves a larger channel's faces unsearched."""
    photo_id = _plain_photo(ctx, school)
    approve(ctx=ctx, photo_id=photo_id, channels=[Channel.DISPLAY], user=school["editor1"])
    with ctx.uow() as uow:
        photo = uow.session.get(Photo, photo_id)
        assert photo is not None
        photo.status = PhotoStatus.RECEIVED.value
        uow.commit()
    assert scan_photo(ctx=ctx, photo_id=photo_id) == "awaiting_review"
    assert _scan_side(ctx, photo_id) == 4096
