"""The int8 CenterFace: same faces as the float network, and weak boxes confirmed in float."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from gatekeeper.adapters.detector import CenterFace, Detection
from tests import imagegen


@pytest.fixture(scope="module")
def quantized() -> CenterFace:
    return CenterFace(quantized=True)


def scene() -> np.ndarray:
    """Three real faces of 60-200 px on a plain background."""
    canvas = Image.new("RGB", (900, 500), (110, 130, 150))
    tom = imagegen.load(imagegen.FIXTURES / "tom_cruise.jpg")
    eileen = imagegen.load(imagegen.FIXTURES / "eileen_collins.png").crop((120, 20, 330, 230))
    for img, side, x in ((tom, 260, 20), (eileen, 140, 380), (tom, 80, 650)):
        canvas.paste(img.resize((side, round(side * img.height / img.width))), (x, 60))
    return np.asarray(canvas)


def centres(dets: list[Detection]) -> list[tuple[float, float]]:
    return sorted(((d.x0 + d.x1) / 2, (d.y0 + d.y1) / 2) for d in dets)


def test_int8_finds_the_faces_the_float_network_finds(quantized):
    assert quantized._exact is not None
    rgb = scene()
    exact = quantized._detect_once(rgb, 0.35, session=quantized._exact)
    fast = quantized.detect(rgb, 0.25, sure=0.35)
    assert len(exact) == 3
    for cx, cy in centres(exact):
        assert any(d.x0 <= cx <= d.x1 and d.y0 <= cy <= d.y1 for d in fast)


def test_a_weak_large_box_takes_the_float_networks_score(quantized):
    detector = quantized
    rgb = scene()
    face = max(detector._detect_once(rgb, 0.35, session=detector._exact),
               key=lambda d: d.x1 - d.x0)
    weak = Detection(face.x0, face.y0, face.x1, face.y1, 0.15, face.landmarks)
    [confirmed] = detector._confirmed(rgb, [weak], threshold=0.25, sure=0.35)
    assert confirmed.score >= 0.35  # the float network is sure of it on the crop
    assert abs(confirmed.x0 - face.x0) < 10 and abs(confirmed.y1 - face.y1) < 10


def test_a_weak_large_box_on_no_face_is_dropped(quantized):
    detector = quantized
    rgb = scene()
    empty = Detection(20, 380, 120, 480, 0.15, ((0.0, 0.0),) * 5)  # plain background
    assert detector._confirmed(rgb, [empty], threshold=0.25, sure=0.35) == []


def test_small_weak_boxes_are_left_to_the_second_look(quantized):
    detector = quantized
    rgb = scene()
    small = Detection(20, 380, 40, 400, 0.3, ((0.0, 0.0),) * 5)  # above threshold, under sure
    tiny = Detection(60, 380, 75, 395, 0.15, ((0.0, 0.0),) * 5)  # under threshold
    assert detector._confirmed(rgb, [small, tiny], threshold=0.25, sure=0.35) == [small]
