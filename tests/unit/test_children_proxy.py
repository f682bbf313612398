"""The children's proxy (bench/children_proxy.py): its split is fixed (the held-back part cannot
drift into the tuning part), the age-gap strain lengthens the lower face and leaves the top, and
a sibling is the enrolled child's head with another face blended in."""

from __future__ import annotations

import numpy as np

from bench.age_strain import grown
from bench.children_proxy import Head, part_of, sibling


def test_the_people_split_is_the_documented_one():
    assert [part_of(n) for n in ("angelina_jolie", "deepface_person_3", "barack_obama",
                                 "john_lennon")] == ["tuning", "tuning", "held_back", "held_back"]


def _marked(h: int = 200, w: int = 200) -> np.ndarray:
    img = np.zeros((h, w, 3), np.uint8)
    img[30:34, 98:102] = 255  # a mark above the centre (forehead)
    img[150:154, 98:102] = 255  # a mark below it (chin)
    return img


def _row_of_mark(img: np.ndarray, rows: slice) -> float:
    ys = np.nonzero(img[rows, 90:110, 0] > 100)[0]
    return float(ys.mean()) + rows.start


def test_the_strain_moves_the_chin_down_and_leaves_the_forehead():
    img = _marked()
    assert np.array_equal(grown(img, (100.0, 100.0), 80.0, 0.0), img)
    older = grown(img, (100.0, 100.0), 80.0, 0.1)
    assert abs(_row_of_mark(older, slice(0, 60)) - 31.5) < 1.5
    assert _row_of_mark(older, slice(120, 200)) > 151.5 + 8  # about 2k of 50 px below the centre


def test_a_sibling_keeps_the_enrolled_head_and_blends_the_other_face():
    marks = np.array([[80, 90], [120, 90], [100, 110], [85, 130], [115, 130]], np.float64)
    a = Head(np.full((200, 200, 3), 200, np.uint8), (60.0, 60.0, 140.0, 150.0), marks)
    b = Head(np.full((200, 200, 3), 40, np.uint8), (60.0, 60.0, 140.0, 150.0), marks)
    assert np.array_equal(sibling(a, b, 1.0).pixels, a.pixels)
    mixed = sibling(a, b, 0.4).pixels.astype(float)
    assert abs(mixed[105, 100, 0] - (0.4 * 200 + 0.6 * 40)) < 3  # the face: 40 % A
    assert mixed[5, 5, 0] == 200  # hair, clothes, background: A's
