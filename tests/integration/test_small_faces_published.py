"""Small faces through the real path: real face crops pasted at 10-40 px into a generated event
photo with a registered camera's EXIF are ingested, scanned, approved and published for
display (full size) by the services, and every pasted face is hidden in the published file:
its pixels are one flat fill, and dlib's vector of it no longer matches the face's."""

from __future__ import annotations

import io
import json
from datetime import date
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from bench.composites import composite, load_crops
from bench.label_detection import TRUTH
from gatekeeper.domain.vocabulary import Channel
from gatekeeper.services.photos.publish import publish_one
from gatekeeper.services.photos.review import approve
from gatekeeper.services.photos.scan import scan_photo
from tests import imagegen
from tests.integration.helpers import ingest

pytestmark = pytest.mark.slow


def _dlib_vector(engine, img: Image.Image, box) -> np.ndarray:
    """dlib's 128-d vector of whatever lies in `box` (top, right, bottom, left)."""
    dlib = engine._dlib
    arr = np.asarray(img.convert("RGB"))
    top, right, bottom, left = (int(round(v)) for v in box)
    shape = engine._shape(arr, dlib.rectangle(left, top, right, bottom))
    return np.asarray(engine._encoder.compute_face_descriptor(arr, shape, 0))


def test_pasted_small_faces_are_hidden_in_the_published_file(ctx, school, faces_dir):
    crops = load_crops(faces_dir, json.loads(TRUTH.read_text())["crops"][1::2])
    sizes = [10, 11, 12, 14, 16, 18, 20, 24, 28, 32, 36, 40] * 2
    img, pasted = composite(2400, 1600, crops, sizes, seed=31)
    data = imagegen.jpeg(img, imagegen.exif_bytes())
    photo_id = ingest(ctx, school["office1"], data, name="sports.jpg").photo_id
    assert photo_id is not None
    assert scan_photo(ctx=ctx, photo_id=photo_id) == "awaiting_review"
    approve(ctx=ctx, photo_id=photo_id, channels=[Channel.DISPLAY], user=school["editor1"])
    result = publish_one(ctx=ctx, photo_id=photo_id, channel=Channel.DISPLAY, on=date.today())
    assert result.location, result.refused
    published = Image.open(io.BytesIO(Path(result.location).read_bytes())).convert("RGB")
    assert published.size == img.size  # display files are published at up to 4096 px
    original = Image.open(io.BytesIO(data)).convert("RGB")
    after, before = (np.asarray(i, dtype=np.float64) for i in (published, original))
    visible = []
    for p in pasted:
        top, right, bottom, left = p.box
        # the middle of the face: the cover is an ellipse around the head, so the corners of
        # the face's box may lie outside it
        dx, dy = (right - left) * 0.2, (bottom - top) * 0.2
        ys = slice(int(top + dy), max(int(top + dy) + 1, int(bottom - dy)))
        xs = slice(int(left + dx), max(int(left + dx) + 1, int(right - dx)))
        flat = after[ys, xs].reshape(-1, 3).std(axis=0).max() < 4  # one fill, through JPEG
        textured = before[ys, xs].reshape(-1, 3).std(axis=0).max() >= 4
        if textured and not flat:
            visible.append([round(v) for v in p.box])
        elif max(bottom - top, right - left) >= 20:  # dlib's vectors mean something there
            distance = np.linalg.norm(_dlib_vector(ctx.faces, published, p.box)
                                      - _dlib_vector(ctx.faces, original, p.box))
            if distance < 0.6:
                visible.append([round(v) for v in p.box])
    assert visible == []
