"""Identifying a video's tracks takes up to three passes (the best frame of each track, then
more of the tracks that raised somebody). The first pass keeps the faces the later ones may
encode, cut from its frames, so a later pass decodes no frame again (each pass over a long video
decoded every frame up to the last it wanted); a face is encoded on its crop exactly as on its
frame, so every track gets the same name, distance and near list either way."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from consent_db.models import Face
from gatekeeper.adapters import video as video_adapter
from gatekeeper.services.photos.scan import scan_photo
from gatekeeper.services.video import scan as video_scan
from tests import videogen
from tests.integration.helpers import ingest, school

SQLITE = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def _tracks(ctx, photo_id: int) -> list[tuple]:
    with ctx.uow() as uow:
        return [(f.person_id, None if f.distance is None else round(f.distance, 5),
                 tuple(f.near_person_ids or []), f.quality, len(f.frames or []))
                for f in uow.session.scalars(select(Face).where(Face.photo_id == photo_id)
                                             .order_by(Face.id))]


@SQLITE
def test_later_identification_passes_use_the_first_passs_crops_and_name_alike(
        ctx, monkeypatch):
    u = school(ctx)  # TOM and EIL enrolled with online consent
    clip = videogen.clip(seconds=2.0, fps=15)
    passes: list[int] = []
    decode = video_adapter.pick_frames

    def counted(*args, **kwargs):
        passes.append(1)
        yield from decode(*args, **kwargs)

    identify = video_scan._identify
    per_pass: list[tuple[int, int]] = []  # (faces chosen, passes over the video it made)

    def counted_pass(ctx, data, width, height, found, chosen, *rest):
        before = len(passes)
        out = identify(ctx, data, width, height, found, chosen, *rest)
        per_pass.append((len(chosen), len(passes) - before))
        return out

    monkeypatch.setattr(video_scan, "pick_frames", counted)
    monkeypatch.setattr(video_scan, "_identify", counted_pass)
    monkeypatch.setattr(video_scan, "FAR_SD", 1e9)  # no track settled by one frame
    first = ingest(ctx, u["office1"], clip.data, name="a.mp4").photo_id
    assert scan_photo(ctx=ctx, photo_id=first) == "awaiting_review"
    with_crops = _tracks(ctx, first)
    assert {t[0] for t in with_crops} - {None}  # somebody was named
    # the first look's other frames were kept: the second pass decoded nothing
    assert per_pass[0][1] == 1 and per_pass[1][0] > 0 and per_pass[1][1] == 0

    per_pass.clear()
    monkeypatch.setattr(video_scan._Crops, "MAX_BYTES", 0)  # nothing kept: decoded again
    second = ingest(ctx, u["office1"], videogen.clip(seconds=2.0, fps=15, tags={
        **videogen.CAMERA_TAGS, "title": "again"}).data, name="b.mp4").photo_id
    assert scan_photo(ctx=ctx, photo_id=second) == "awaiting_review"
    assert _tracks(ctx, second) == with_crops
    assert per_pass[1][1] == 1
