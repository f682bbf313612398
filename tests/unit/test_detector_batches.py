"""The detector's batched looks at many small windows: sifting (`scores_over`) asks only whether
a window holds anything over a score, and must answer exactly what decoding the same windows
(`detect_many`) would find something in."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from gatekeeper.adapters.detector import CenterFace
from tests import imagegen


@pytest.fixture(scope="module")
def detector() -> CenterFace:
    return CenterFace()


def windows() -> list[np.ndarray]:
    """Windows of many sizes as the second look cuts them: a real face shrunk to 6-40 px on
    plain and noisy backgrounds, and windows of texture or nothing at all."""
    rng = np.random.default_rng(3)
    tom = imagegen.load(imagegen.FIXTURES / "tom_cruise.jpg")
    out = []
    for side in (6, 9, 12, 16, 24, 40):
        for w, h in ((52, 52), (90, 52), (64, 130)):
            canvas = Image.fromarray(rng.integers(60, 200, (h, w, 3), dtype=np.uint8))
            face = tom.resize((side, round(side * tom.height / tom.width)))
            canvas.paste(face, (int(rng.integers(0, max(1, w - side))), 4))
            out.append(np.asarray(canvas))
    out += [rng.integers(0, 255, (h, w, 3), dtype=np.uint8) for w, h in ((40, 40), (77, 33))]
    out.append(np.zeros((50, 50, 3), dtype=np.uint8))
    return out


@pytest.mark.parametrize("floor", [0.02, 0.1, 0.35])
def test_sifting_answers_what_decoding_finds(detector, floor):
    crops = windows()
    found = [bool(d) for d in detector.detect_many(crops, floor)]
    assert detector.scores_over(crops, floor) == found
    assert any(found) and not all(found)  # the windows tell the two answers apart
