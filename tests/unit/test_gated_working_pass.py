"""The working pass looks only where YuNet sees something face-like (EngineOptions.gate_floor):
YuNet is decoded as OpenCV decodes it, the gated pass covers the same faces as the pass over
the whole photo on far fewer pixels, and a face the smaller pass is unsure of is looked at
again at the working scale."""

from __future__ import annotations

import json
from dataclasses import astuple, replace
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from bench.composites import composite, load_crops
from bench.label_detection import TRUTH, size_of
from gatekeeper.adapters.yunet import YuNet
from tests.oracles import uncovered_faces

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


@pytest.fixture(scope="module")
def yunet() -> YuNet:
    return YuNet()


def test_yunet_marks_the_portrait_face_where_centerface_finds_it(yunet, face_engine):
    img = np.asarray(Image.open(FIXTURES / "tom_cruise.jpg").convert("RGB"))
    [face] = face_engine.detector.detect(img, 0.5)
    cells = yunet.candidates(img, 0.5, max_size=10_000)
    best = cells[np.argmax(cells[:, 3])]
    x, y, size, score = best.tolist()
    assert score > 0.8
    assert face.x0 < x < face.x1 and face.y0 < y < face.y1
    assert 0.7 < size / max(face.x1 - face.x0, face.y1 - face.y0) < 1.6
    # the size limit drops the cells of boxes larger than asked for, and only those
    assert not len(yunet.candidates(img, 0.5, max_size=size / 2))
    assert len(yunet.candidates(img, 0.5, max_size=size * 1.01)) >= 1


def test_yunet_in_tiles_sees_what_it_sees_whole(yunet):
    """A large array runs in tiles sharing 128 px: every strong cell of the whole array is
    found again by some tile, within half of YuNet's finest cell (8 px): a tile's context
    shifts the predicted centres by a pixel or two."""
    canvas = Image.new("RGB", (2400, 700), (120, 130, 140))
    portrait = Image.open(FIXTURES / "tom_cruise.jpg").convert("RGB").resize((120, 170))
    for x in range(40, 2300, 230):  # across the tile edges too
        canvas.paste(portrait, (x, 60 + (x // 230) * 40))
    arr = np.asarray(canvas)
    whole = yunet._once(arr, 0.6, 300)
    tiled = yunet.candidates(arr, 0.6, 300, tile=1024, overlap=128)
    assert len(whole) >= 10
    for x, y, *_ in whole:
        assert np.hypot(tiled[:, 0] - x, tiled[:, 1] - y).min() < 4.0


@pytest.mark.slow
def test_gated_working_pass_covers_the_faces_of_the_whole_pass_on_fewer_pixels(
        face_engine, faces_dir, monkeypatch):
    """Real faces of 10-60 px pasted into a 3600x2400 scene: covered with the working pass
    run over the whole photo and with it gated by YuNet, which feeds CenterFace under 60 % of
    the pixels in that pass."""
    crops = load_crops(faces_dir, json.loads(TRUTH.read_text())["crops"][::2])
    sizes = [10, 11, 12, 13, 14, 16, 18, 20, 24, 28, 32, 40, 50, 60] * 2
    img, pasted = composite(3600, 2400, crops, sizes, seed=5)
    faces = [p.box for p in pasted]
    fed: dict[str, int] = {"whole": 0, "gated": 0}
    detect, detect_windows = face_engine.detector.detect, face_engine.detector.detect_windows

    def whole(rgb, *args, **kwargs):
        if kwargs.get("hints") is not None:  # the working pass leaves hints
            fed["whole"] += rgb.shape[0] * rgb.shape[1]
        return detect(rgb, *args, **kwargs)

    def gated(rgb, wins, *args, **kwargs):
        fed["gated"] += sum((x1 - x0) * (y1 - y0) for x0, y0, x1, y1 in wins)
        return detect_windows(rgb, wins, *args, **kwargs)

    monkeypatch.setattr(face_engine.detector, "detect", whole)
    monkeypatch.setattr(face_engine.detector, "detect_windows", gated)
    assert face_engine.options.gate_floor > 0  # on by default
    for options in (replace(face_engine.options, gate_floor=0), face_engine.options):
        monkeypatch.setattr(face_engine, "options", options)
        found = face_engine.find_faces(img, look_sideways=False, encode=False)
        assert uncovered_faces(img, found, faces) == []
    assert fed["whole"] > 0 and 0 < fed["gated"] < 0.6 * fed["whole"]


@pytest.mark.slow
def test_a_face_the_smaller_pass_is_unsure_of_is_looked_at_again(face_engine, faces_dir,
                                                                  monkeypatch):
    """A half-hidden face of 82 px in a 1500 px group photo: YuNet gives it only box cells
    larger than the gate's small faces, and the smaller pass scores it 0.24, a weak box. The
    working pass looks again around that box and finds it (0.43 there); without that look it
    would be published. (The photo is a crowd, which the engine searches whole anyway: here
    the windows are forced.)"""
    rel = "groups/ultra-light-face-detector__imgs_img8.jpeg"
    img = Image.open(faces_dir / rel).convert("RGB")
    face = [876.0, 1457.0, 958.0, 1379.0]  # top, right, bottom, left (bench/labels)
    assert face in json.loads(TRUTH.read_text())["photos"][rel]["faces"]
    windowed = replace(face_engine.options, gate_max_share=float("inf"))
    monkeypatch.setattr(face_engine, "options", windowed)
    found = face_engine.find_faces(img, look_sideways=False, encode=False)
    assert uncovered_faces(img, found, [face]) == []
    monkeypatch.setattr(face_engine, "options", replace(windowed, gate_weak_floor=1.0))
    found = face_engine.find_faces(img, look_sideways=False, encode=False)
    assert uncovered_faces(img, found, [face]) == [[round(v) for v in face]]



@pytest.mark.slow
def test_in_a_crowd_marked_everywhere_the_whole_copy_is_searched(face_engine, faces_dir,
                                                                 monkeypatch):
    """A crowd of 327 faces: YuNet marks it nearly everywhere, and windows around the marks
    would overlap into more pixels than the photo. The working pass then runs over the whole
    working copy (in tiles) instead, and every labelled face of 10 px or more is covered."""
    rel = "groups/ultra-light-face-detector__imgs_17.jpg"
    img = Image.open(faces_dir / rel).convert("RGB")
    faces = [f for f in json.loads(TRUTH.read_text())["photos"][rel]["faces"]
             if size_of(f) >= 10]
    calls = {"whole": 0, "windows": 0}
    detect, detect_windows = face_engine.detector.detect, face_engine.detector.detect_windows

    def whole(rgb, *args, **kwargs):
        calls["whole"] += kwargs.get("hints") is not None  # the working pass leaves hints
        return detect(rgb, *args, **kwargs)

    def windows(rgb, wins, *args, **kwargs):
        calls["windows"] += 1
        return detect_windows(rgb, wins, *args, **kwargs)

    monkeypatch.setattr(face_engine.detector, "detect", whole)
    monkeypatch.setattr(face_engine.detector, "detect_windows", windows)
    found = face_engine.find_faces(img, look_sideways=False, encode=False)
    assert calls == {"whole": 1, "windows": 0}
    assert uncovered_faces(img, found, faces) == []
    # The engine says so (gate_crowded); a video's next samples then search the whole copy
    # without asking YuNet (ask_gate=False), and find the same faces.
    assert face_engine.gate_crowded
    asked = {"yunet": 0}
    candidates = face_engine._yunet.candidates

    def marks(*args, **kwargs):
        asked["yunet"] += 1
        return candidates(*args, **kwargs)

    monkeypatch.setattr(face_engine._yunet, "candidates", marks)
    again = face_engine.find_faces(img, look_sideways=False, encode=False, ask_gate=False)
    assert asked == {"yunet": 0} and calls == {"whole": 2, "windows": 0}
    assert not face_engine.gate_crowded  # not asked
    assert sorted(astuple(f.box) for f in again) == sorted(astuple(f.box) for f in found)
    # The second look's sifting kept most windows of this crowd (sift_kept); without it every
    # window is looked at, and every labelled face is still covered.
    assert face_engine.sift_kept is not None and face_engine.sift_kept > 0.5
    unsifted = face_engine.find_faces(img, look_sideways=False, encode=False, ask_gate=False,
                                      sift=False)
    assert face_engine.sift_kept is None
    assert uncovered_faces(img, unsifted, faces) == []


@pytest.mark.parametrize("face_px", [60, 90, 130])
def test_mid_size_faces_are_encoded_as_without_the_gate(face_engine, monkeypatch, face_px):
    """A face of 60-130 px in a 1600x1200 photo is 78-170 px at the working scale, which the
    gate leaves to the smaller pass (31-68 px there) and a second look at the working scale.
    What identification starts from stays as it was without the gate: nearly the same box and
    a dlib vector within 0.1 (one person's photos lie 0.3-0.5 apart)."""
    portrait = Image.open(FIXTURES / "tom_cruise.jpg").convert("RGB")
    [face] = face_engine.find_faces(portrait, look_sideways=False, encode=False)
    k = face_px / face.box.width
    small = portrait.resize((round(portrait.width * k), round(portrait.height * k)),
                            Image.Resampling.LANCZOS)
    canvas = Image.new("RGB", (1600, 1200), (90, 110, 130))
    canvas.paste(small, (700, 400))

    defaults = face_engine.options
    assert defaults.gate_floor > 0

    def found(**options):
        monkeypatch.setattr(face_engine, "options", replace(defaults, **options))
        [one] = [f for f in face_engine.find_faces(canvas, look_sideways=False)
                 if f.encoding is not None]
        return one

    whole, gated = found(gate_floor=0), found()
    assert abs(gated.box.left - whole.box.left) <= 3 and abs(gated.box.width - whole.box.width) <= 4
    assert np.linalg.norm(gated.encoding - whole.encoding) < 0.1
