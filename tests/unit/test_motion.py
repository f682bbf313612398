"""A face's motion to the next frame, measured from the pixels (adapters/motion.py)."""

from __future__ import annotations

import numpy as np
import pytest

from gatekeeper.adapters.motion import face_motion


def frame_with(patch: np.ndarray, x: int, y: int, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    frame = rng.integers(100, 110, size=(360, 640), dtype=np.uint8)  # a near-flat wall
    frame[y:y + patch.shape[0], x:x + patch.shape[1]] = patch
    return frame


@pytest.mark.parametrize("dx,dy", [(0, 0), (7, -3), (48, 0), (-60, 20)])
def test_a_textured_face_is_found_where_it_went(dx: int, dy: int) -> None:
    face = np.random.default_rng(0).integers(0, 255, size=(80, 64), dtype=np.uint8)
    face = np.kron(face[::8, ::8], np.ones((8, 8), dtype=np.uint8))  # coarse, as a face is
    first, second = frame_with(face, 200, 100), frame_with(face, 200 + dx, 100 + dy, seed=2)
    moved = face_motion(first, second, (100, 264, 180, 200))
    assert moved is not None
    # measured at the face's working width (24 px): within one working pixel (64/24 px)
    assert abs(moved[0] - dx) <= 64 / 24 + 0.5 and abs(moved[1] - dy) <= 64 / 24 + 0.5


def test_no_speed_from_a_flat_patch_a_gone_face_or_a_sliver() -> None:
    wall = frame_with(np.full((80, 64), 105, dtype=np.uint8), 200, 100)
    assert face_motion(wall, wall, (100, 264, 180, 200)) is None  # nothing to match
    face = np.random.default_rng(0).integers(0, 255, size=(80, 64), dtype=np.uint8)
    first = frame_with(face, 200, 100)
    gone = frame_with(np.zeros((1, 1), dtype=np.uint8), 0, 0)  # the face left the window
    assert face_motion(first, gone, (100, 264, 180, 200)) is None
    assert face_motion(first, first, (100, 204, 180, 200)) is None  # 4 px wide: no face
    # a face cut by the frame's edge is matched on the part in the picture
    edge = frame_with(face, 0, 100)
    moved = face_motion(edge, np.roll(edge, 5, axis=1), (100, 64, 180, -10))
    assert moved is not None and abs(moved[0] - 5) <= 64 / 24 + 0.5 and abs(moved[1]) <= 1


def test_no_speed_from_a_row_of_like_faces() -> None:
    """A row of identical patches 60 px apart: the face could have gone to its neighbour's
    place as well as stayed put, so the pixels give no speed (a wrong one would send its track
    after the neighbour)."""
    face = np.random.default_rng(0).integers(0, 255, size=(48, 40), dtype=np.uint8)
    face = np.kron(face[::8, ::8], np.ones((8, 8), dtype=np.uint8))
    frame = frame_with(face, 100, 100)
    for x in (160, 220, 280):
        frame[100:148, x:x + 40] = face
    assert face_motion(frame, frame, (100, 260, 148, 220)) is None
    assert face_motion(frame_with(face, 100, 100), frame_with(face, 100, 100),
                       (100, 140, 148, 100)) is not None  # alone: it stayed put


def test_a_guess_off_the_picture_gives_no_speed_and_no_error() -> None:
    face = np.random.default_rng(0).integers(0, 255, size=(80, 64), dtype=np.uint8)
    frame = frame_with(face, 500, 200)
    box = (200, 564, 280, 500)
    assert face_motion(frame, frame, box, guess=(400, 0), reach=0.5) is None  # off the right
    assert face_motion(frame, frame, box, guess=(0, 300), reach=0.5) is None  # off the bottom
    assert face_motion(frame, frame, box, guess=(-600, 0), reach=0.5) is None  # off the left
