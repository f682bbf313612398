"""Small faces are found and covered: real faces pasted at 10-40 px into a large generated scene,
and a real crowd photo scaled down so its faces are 10-14 px, go through the scan
(FaceEngine.find_faces) and the publisher's covering (redact.cover); every face must end up
hidden. The old engine, which shrank large photos to 2048 px and never enlarged small ones,
missed most of them."""

from __future__ import annotations

import json
import random
from dataclasses import replace

import numpy as np
import pytest
from PIL import Image

from bench.composites import composite, load_crops, paste_face, scene
from bench.label_detection import TRUTH, size_of
from gatekeeper.adapters.detector import TILE, spread
from tests.oracles import uncovered_faces

pytestmark = pytest.mark.slow


def _truth() -> dict:
    return json.loads(TRUTH.read_text())


def test_faces_of_10_to_40_px_in_a_large_photo_are_covered(face_engine, faces_dir):
    """A 3600x2400 event photo: the size where faces of 30-40 px used to be missed."""
    crops = load_crops(faces_dir, _truth()["crops"][::3])
    sizes = [10, 11, 12, 13, 14, 16, 18, 20, 24, 28, 32, 36, 40] * 2
    img, pasted = composite(3600, 2400, crops, sizes, seed=7)
    found = face_engine.find_faces(img, look_sideways=False)
    faces = [p.box for p in pasted]
    assert len(faces) == len(sizes)
    assert uncovered_faces(img, found, faces) == []


@pytest.mark.parametrize("median_px", [12, 10.5])
def test_crowd_scaled_so_faces_are_10_to_14_px_is_covered(face_engine, faces_dir, median_px):
    """A real crowd photo (faces checked by hand in the bench labels) shrunk so that its faces
    are 10-14 px: small photos are enlarged for detection. At a median of 10.5 px one face
    scored only 0.18 in its enlarged window, under the old acceptance of 0.25."""
    rel = "groups/ultra-light-face-detector__imgs_img5.jpeg"
    entry = _truth()["photos"][rel]
    median = float(np.median([size_of(f) for f in entry["faces"]]))
    k = median_px / median
    src = Image.open(faces_dir / rel).convert("RGB")
    img = src.resize((round(src.width * k), round(src.height * k)), Image.Resampling.LANCZOS)
    faces = [[v * k for v in f] for f in entry["faces"] if size_of(f) * k >= 10]
    assert len(faces) >= 10 and max(size_of(f) for f in faces) <= 20
    found = face_engine.find_faces(img, look_sideways=True)
    assert uncovered_faces(img, found, faces) == []


def test_sifting_spends_the_enlarged_look_only_where_something_scores(face_engine, faces_dir,
                                                                       monkeypatch):
    """The enlarged second look goes only to windows where a first look at the working size
    scores something: the same pasted faces of 10-14 px are covered with and without sifting,
    and sifting runs the network on fewer pixels."""
    crops = load_crops(faces_dir, _truth()["crops"][1::3])
    sizes = [10, 11, 12, 13, 14] * 3
    img, pasted = composite(2000, 1400, crops, sizes, seed=11)
    faces = [p.box for p in pasted]
    spent: list[int] = []

    def counting(inner):
        def counted(windows, *args, **kwargs):
            spent[-1] += sum(w.shape[0] * w.shape[1] for w in windows)
            return inner(windows, *args, **kwargs)
        return counted

    for name in ("detect_many", "scores_over"):  # the enlarged look, and the sifting
        monkeypatch.setattr(face_engine.detector, name,
                            counting(getattr(face_engine.detector, name)))
    sifted = face_engine.options
    assert sifted.sift_face_px > 0  # on by default
    for options in (replace(sifted, sift_face_px=0), sifted):
        monkeypatch.setattr(face_engine, "options", options)
        spent.append(0)
        found = face_engine.find_faces(img, look_sideways=False)
        assert uncovered_faces(img, found, faces) == []
    without, with_sifting = spent
    assert with_sifting < 0.85 * without


def _across_tile_edges(face_engine, crops, size: float, seed: int):
    """A 3600x2400 scene with real faces `size` px long at the working pass's scale, placed
    across every inner tile edge of that pass, a few pixels further on in each row: from
    just before the shared strip to just after it."""
    width, height = 3600, 2400
    scale = face_engine._scales(width, height)[0]
    starts, _ = spread(round(width * scale), TILE, face_engine.options.tile_overlap)
    canvas = scene(width, height, random.Random(seed), [])
    rng = random.Random(seed)
    pasted, y = [], 20
    offsets = range(-int(size) - 8, 136, max(3, int(size) // 5))  # strips up to 128 px
    for offset in offsets:
        crop = rng.choice(crops)
        x0, y0, x1, y1 = crop.box
        k = size / scale / max(x1 - x0, y1 - y0)
        assert y + crop.image.height * k < height, "the scene holds every row"
        for start in starts[1:]:  # the face's left edge `offset` px past a tile's start
            pasted.append(paste_face(canvas, crop, size / scale,
                                     round((start + offset) / scale - x0 * k), y))
        y += round(crop.image.height * k) + 6
    return canvas, [p.box for p in pasted]


@pytest.mark.parametrize("size", [26, 60])
def test_faces_across_tile_edges_are_covered(face_engine, faces_dir, size):
    """The working pass runs in tiles that share a strip (`tile_overlap`); a face cut by one
    tile's edge must be found whole in its neighbour, or by the smaller pass. Faces of 26 px
    at that pass's scale (20 px in the photo) need the strip: with 64 px one of 152 was lost."""
    crops = load_crops(faces_dir, _truth()["crops"][::2])
    img, faces = _across_tile_edges(face_engine, crops, size, seed=size)
    assert len(faces) >= 60
    found = face_engine.find_faces(img, look_sideways=False, encode=False)
    assert uncovered_faces(img, found, faces) == []
