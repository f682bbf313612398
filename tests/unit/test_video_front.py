"""A shown face in front of tracks lost behind it (services/video/front.py): the consented
pupil walking past a crowd is not covered by the covers of the faces he hides, and only there."""

from __future__ import annotations

import numpy as np
import pytest

from gatekeeper.domain.vocabulary import CoverMode
from gatekeeper.services.video.front import seen_around
from gatekeeper.services.video.publish import covered_frames

W, H, STEP, PAD = 320, 240, 5, 12
PUPIL = (80, 170, 180, 90)  # top, right, bottom, left: 80 x 100 px
BEHIND = (100, 190, 160, 130)  # a crowd face's box, mostly where the pupil's face is
BESIDE = (100, 300, 160, 240)  # ... and where it stood before he came in front of it
# found beside him, lost (behind him) until frame 15: coasting from there to behind him
LOST = [(0, BESIDE), (15, BEHIND)]
SEEN = [(f, BEHIND) for f in (0, 5, 10, 15)]  # found on every sample: beside him, not behind


def _texture(seed: int, h: int, w: int) -> np.ndarray:
    cells = np.random.default_rng(seed).integers(0, 255, size=(h // 10, w // 10, 3),
                                                 dtype=np.uint8)
    return np.kron(cells, np.ones((10, 10, 1), dtype=np.uint8))


def _clip(n: int = 16, stranger_on: int | None = None, half: bool = False,
          patch_on: int | None = None) -> list[np.ndarray]:
    """The pupil's face standing still on a grey wall; on `stranger_on` someone else's face is
    where his was (someone stepped in front of him between two samples), or over its left half."""
    frames = []
    for i in range(n):
        frame = np.full((H, W, 3), 128, np.uint8)
        top, right, bottom, left = PUPIL
        frame[top:bottom, left:right] = _texture(1, bottom - top, right - left)
        if i == stranger_on:
            across = (right - left) // 2 if half else right - left
            frame[top:bottom, left:left + across] = _texture(9, bottom - top, across)
        if i == patch_on:  # a small face in front of his cheek
            frame[120:150, 120:150] = _texture(5, 30, 30)
        frames.append(frame)
    return frames


def _render(frames, behind, shown=True, pupil=None, tracked=None):
    pupil = pupil or [(f, PUPIL) for f in range(0, len(frames), STEP)]
    return list(covered_frames(iter(frames), [behind], [], PAD, CoverMode.SOLID,
                               shown=[pupil] if shown else None, step=STEP, tracked=tracked))


def _core(frame: np.ndarray) -> np.ndarray:
    top, right, bottom, left = PUPIL
    return frame[top + 10:bottom - 10, left + 14:right - 14]


def test_a_track_lost_behind_a_shown_face_does_not_cover_it():
    frames = _clip()
    out = _render(frames, LOST)  # lost for two samples (behind him)
    for i in range(1, 15):
        assert np.array_equal(_core(out[i]), _core(frames[i])), i
        # the lost face's cover still stands beside him, where it may be seen
        assert (out[i][105:155, 172:185] == out[i][105, 175]).all(), i
    assert not np.array_equal(_core(_render(frames, LOST, shown=False)[7]), _core(frames[7]))


def test_a_track_seen_around_the_frame_covers_the_shown_face_as_ever():
    """Found on the samples both sides, the crowd face is beside him, not behind: its cover is
    drawn over whatever of his box it reaches."""
    frames = _clip()
    out = _render(frames, SEEN)
    assert not np.array_equal(_core(out[7]), _core(frames[7]))
    assert seen_around([(5, BEHIND), (10, BEHIND)], 7, STEP)
    assert not seen_around([(0, BEHIND), (15, BEHIND)], 7, STEP)


@pytest.mark.parametrize("half", [False, True], ids=["whole", "half"])
def test_where_his_face_is_not_found_on_the_pixels_nothing_is_uncovered(half):
    """Someone stepped in front of him (or half in front) between two samples: the pixels where
    his sightings put him are not (all) his face, so the covers of the faces lost there stay."""
    frames = _clip(stranger_on=7, half=half)
    out = _render(frames, LOST)
    assert not np.array_equal(_core(out[7]), _core(frames[7]))
    assert np.array_equal(_core(out[6]), _core(frames[6]))


def test_a_sample_where_his_track_was_handed_another_face_uncovers_nothing():
    """The detector found "him" on sample 5, but the box is someone else's face (a track can be
    handed another child's box): it does not look as he did on his last sighting, so the covers
    of the faces lost there stay; and the first sighting, which anchors the chain, keeps them."""
    frames = _clip(stranger_on=5)
    out = _render(frames, LOST)
    assert not np.array_equal(_core(out[5]), _core(frames[5]))
    assert np.array_equal(_core(out[4]), _core(frames[4]))  # before it: him, left


def test_a_small_face_in_front_of_him_stays_covered_where_the_rest_of_him_is_left():
    frames = _clip(patch_on=7)
    out = _render(frames, LOST)
    patch = out[7][122:148, 122:148].reshape(-1, 3).astype(float)
    assert patch.std(axis=0).max() < 3  # covered: one flat colour
    assert np.array_equal(out[7][95:115, 140:155], frames[7][95:115, 140:155])  # him, left


def test_rows_off_the_samples_and_faces_without_tracks_are_never_behind_him():
    """A row that a measured speed added (frame 1) is no sighting of his; a face without frames
    is where its box is on every frame, not lost: both keep their covers on him."""
    frames = _clip()
    off_sample = _render(frames, LOST, pupil=[(0, PUPIL), (1, PUPIL)])
    assert not np.array_equal(_core(off_sample[7]), _core(frames[7]))
    untracked = _render(frames, LOST, tracked=[False])
    assert not np.array_equal(_core(untracked[7]), _core(frames[7]))
    assert np.array_equal(_core(_render(frames, LOST)[7]), _core(frames[7]))  # tracked: left


def test_a_face_partly_in_front_of_him_from_the_start_is_never_taken_for_his():
    """A child stands still half in front of his face's corner, found on the first sample and
    the last and missed between: no sample shows his core clear of other faces, so nothing of
    it is ever left uncovered (her mouth and chin would be: they do not change)."""
    frames = _clip()
    for f in frames:
        f[90:140, 100:130] = _texture(7, 50, 30)  # her lower face over his top-left corner
    corner = (90, 130, 140, 100)
    out = _render(frames, [(0, corner), (15, corner)])
    for i in range(16):
        assert out[i][92:138, 104:128].reshape(-1, 3).std(axis=0).max() < 3, i


def test_a_face_moving_into_his_corner_after_a_clear_sample_stays_covered():
    """Clear of others on sample 0 (what he is matched against), then a child steps half in
    front of his corner and stands there, missed by the detector: her pixels were never his,
    so they stay covered on every frame, however long she stands still."""
    frames = _clip(n=40)
    for f in frames[23:]:
        f[90:140, 100:130] = _texture(7, 50, 30)
    corner = (90, 130, 140, 100)
    out = _render(frames, LOST + [(25, corner), (35, corner)])  # missed from 26 to 34
    assert np.array_equal(_core(out[7]), _core(frames[7]))  # before she came: him, left
    for i in range(23, 40):
        assert out[i][92:138, 104:128].reshape(-1, 3).std(axis=0).max() < 3, i


def test_a_face_cut_by_the_picture_edge_anchors_nothing():
    """His box on a sample where the edge cuts him is only the part in the picture: no chain is
    anchored there (his box would not say where his face is), so nothing is left uncovered
    until a sample finds him whole."""
    from gatekeeper.services.video.front import FrontFaces

    frames = _clip()
    at_edge = (80, 80, 180, 0)
    front = FrontFaces([[(0, at_edge), (5, at_edge), (10, PUPIL), (15, PUPIL)]], STEP)
    kept = [bool(front.cores(i, frames[i])) for i in range(16)]
    assert kept[:11] == [False] * 11  # anchored on sample 10, which itself leaves nothing
    assert all(kept[11:])
