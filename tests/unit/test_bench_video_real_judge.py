"""The real-clip video bench's judge tells a face left as it was from the seam of two covers."""

import numpy as np

from bench.video_real import judge, source_crops


def _frames() -> tuple[list[np.ndarray], dict[int, list[tuple[tuple, int]]]]:
    rng = np.random.default_rng(7)
    source = rng.integers(0, 255, (120, 160, 3), dtype=np.uint8)
    return [source], {0: [((40, 30, 80, 70), 1)]}


def test_a_seam_between_two_covers_is_visible_by_pixels_but_not_as_in_the_source():
    frames, faces = _frames()
    out = frames[0].copy()
    for x in range(0, 160, 6):  # narrow solid covers of two colours meeting across the box
        out[:, x:x + 6] = (200, 40, 40) if x % 12 else (40, 40, 200)
    result = judge([out], faces, 0, source_crops(frames, faces))
    assert result["visible_pixels"] == 1
    assert result["visible_as_source"] == 0


def test_a_face_left_as_it_was_counts_as_in_the_source():
    frames, faces = _frames()
    result = judge([frames[0].copy()], faces, 0, source_crops(frames, faces))
    assert result["visible_pixels"] == 1
    assert result["visible_as_source"] == 1
    assert "visible_as_source" not in judge([frames[0]], faces, 0)
