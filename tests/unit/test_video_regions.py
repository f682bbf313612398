"""The head covered for a video track: grown by the face's own margins around its (spread)
box, not by the spread box's size, so a moving crowd face's cover does not swallow the consented
pupil beside it (found by bench/video.py); square corners only where it meets the frame's edge."""

from __future__ import annotations

from gatekeeper.domain.redact import head_region
from gatekeeper.domain.tracks import cover_box
from gatekeeper.services.video.publish import track_region


def box(x: int, y: int = 300, size: int = 60) -> tuple[int, int, int, int]:
    return (y, x + size, y + size, x)


def test_a_moving_track_is_grown_by_its_face_margins_only():
    s = [(0, box(400)), (5, box(500))]  # 20 px a frame
    region, rounded = track_region(s, 2, pad=4, w=1280, h=720)
    spread = cover_box(s, 2, pad=4)
    assert spread is not None
    top, right, bottom, left = spread
    assert (region.x0, region.x1) == (int(left - 21), int(right + 21 + 1))  # 0.35 x 60
    assert (region.y0, region.y1) == (int(top - 36), int(bottom + 15 + 1))  # 0.6 and 0.25 x 60
    old = head_region(*spread, 1280, 720)  # grown by the spread's own size: far wider
    assert old.x1 - old.x0 > region.x1 - region.x0 + 40
    assert rounded
    # on a sighting the head is exactly a photo's head
    assert track_region(s, 0, pad=4, w=1280, h=720) == (head_region(*box(400), 1280, 720), True)


def test_square_corners_where_the_head_meets_the_edge():
    s = [(0, box(5)), (5, box(10))]
    region, rounded = track_region(s, 0, pad=4, w=1280, h=720)
    assert region.x0 == 0 and not rounded
    assert track_region(s, 20, pad=4, w=1280, h=720) is None
