"""How a video's scan spends its time (issue 25's speed target): which of a track's best frames
are encoded, and when the YuNet gate is asked. A fake engine stands in for the networks and a
fake identification for the gallery, so each rule is seen alone."""

from __future__ import annotations

from contextlib import contextmanager
from types import SimpleNamespace

import numpy as np
import pytest
from PIL import Image

from gatekeeper.adapters.engine.found import Box, FaceQuality, FoundFace
from gatekeeper.adapters.video import encode
from gatekeeper.domain.fusion import Gallery
from gatekeeper.domain.matching import Match
from gatekeeper.services.video import scan

W, H, FPS, FRAMES = 320, 180, 25, 60  # 12 samples at 5 a second
# Three still faces, one track each: a stranger far from everyone, one unsure (little headroom
# but nobody near), and one near an enrolled person.
# Each its own width: a face encoded on a crop (a later pass) is told apart by its size.
FACES = {"far": Box(10, 80, 70, 20), "unsure": Box(10, 182, 70, 120), "near": Box(10, 304, 70, 240)}
MATCHES = {"far": Match(None, 0.9, 0.05, frozenset(), headroom=4.0),
           "unsure": Match(None, 0.7, 0.05, frozenset(), headroom=1.0),
           "near": Match(None, 0.55, 0.05, frozenset({7}), headroom=-0.5)}


class FakeEngine:
    """Finds the three faces on every frame (scores rising with the frame, so each track's
    best frames are its last ones); counts the faces encoded per track and the gate's asks."""

    def __init__(self, crowded: bool = False, kept: float | None = None) -> None:
        self.crowded, self.kept = crowded, kept
        self.gate_crowded = False
        self.sift_kept: float | None = None
        self.asked: list[bool] = []
        self.sifts: list[bool] = []
        self.encoded: dict[str, int] = dict.fromkeys(FACES, 0)
        self.calls = 0

    def find_faces(self, img: Image.Image, look_sideways: bool, encode: bool = True,
                   publish_side: int | None = None, *, ask_gate: bool = True,
                   sift: bool = True) -> list[FoundFace]:
        self.asked.append(ask_gate)
        self.sifts.append(sift)
        self.gate_crowded = ask_gate and self.crowded
        self.sift_kept = self.kept if sift else None
        self.calls += 1
        return [FoundFace(box=box, score=0.5 + 0.01 * self.calls, rotation=0,
                          quality=FaceQuality.OK, landmarks=())
                for box in FACES.values()]

    def encode_found(self, img: Image.Image, faces: list[FoundFace]) -> None:
        for f in faces:
            name = next(n for n, b in FACES.items()
                        if (b.width, b.height) == (f.box.width, f.box.height))
            self.encoded[name] += 1
            f.encoding = np.zeros(128)


@pytest.fixture
def run(monkeypatch):
    """find_tracks over a still clip with the fake engine; returns the engine."""
    data = encode([np.zeros((H, W, 3), np.uint8)] * FRAMES, W, H, FPS, max_side=0)

    def fake_identify(faces, gallery, settings):
        return [MATCHES[next(n for n, b in FACES.items() if b == f.box)] for f in faces]

    monkeypatch.setattr(scan, "identify_faces", fake_identify)
    monkeypatch.setattr(scan, "get_photo",
                        lambda session, photo_id: SimpleNamespace(
                            width=W, height=H, fps=FPS, frame_count=FRAMES,
                            duration_s=FRAMES / FPS))

    def go(engine: FakeEngine, flagged: bool = False) -> FakeEngine:
        """`flagged`: someone in the gallery carries a safeguarding flag."""
        @contextmanager
        def uow():
            yield SimpleNamespace(session=SimpleNamespace(
                scalar=lambda query: 7 if flagged else None), commit=lambda: None)

        ctx = SimpleNamespace(faces=engine, uow=uow, settings=SimpleNamespace(
            video_scan_fps=5.0, scan_stuck_after_s=3600))
        gallery = Gallery(np.zeros((1, 128)), np.zeros((1, 128), np.float32), np.array([7]))
        rows = scan.find_tracks(ctx=ctx, photo_id=1, data=data, gallery=gallery)
        assert len(rows) == len(FACES)
        return engine

    return go


def test_a_track_far_from_everyone_is_settled_by_its_best_frame(run):
    """A crowd's stranger whose best frame leaves FAR_SD of headroom costs one encoding, not
    FIRST_LOOK; a track with less headroom gets its first look, and one that raised somebody
    (here near a person) all BEST_FRAMES, as before."""
    engine = run(FakeEngine())
    assert engine.encoded == {"far": 1, "unsure": scan.FIRST_LOOK, "near": scan.BEST_FRAMES}


def test_with_a_safeguarding_flag_enrolled_no_track_is_settled_by_one_frame(run):
    """Anyone near a flagged person blocks the video: then every track gets its first look."""
    engine = run(FakeEngine(), flagged=True)
    assert engine.encoded == {"far": scan.FIRST_LOOK, "unsure": scan.FIRST_LOOK,
                              "near": scan.BEST_FRAMES}


def test_the_far_rule_leaves_room_over_what_one_track_varies():
    """The headroom asked for (2.5 SDs) is twice the largest drop measured from a track's best
    frame to its next two on the tuning clip (1.23 SDs over 70 strangers' tracks)."""
    assert scan.FAR_SD >= 2 * 1.23


def test_in_a_crowd_the_gate_is_asked_again_only_every_few_samples(run):
    """Where the gate found a crowd (the whole frame searched anyway), the next samples are
    searched whole without asking it; it is asked again every GATE_RETRY samples."""
    crowd = run(FakeEngine(crowded=True)).asked
    assert crowd == [i % scan.GATE_RETRY == 0 for i in range(len(crowd))]
    assert run(FakeEngine(crowded=False)).asked == [True] * len(crowd)


def test_where_the_sifting_keeps_most_windows_it_is_skipped_for_a_few_samples(run):
    """A sifting that kept SIFT_KEEPS of the second look's windows or more costs more than the
    looks it saves: the next samples look at every window, and sift again every GATE_RETRY."""
    crowd = run(FakeEngine(kept=scan.SIFT_KEEPS)).sifts
    assert crowd == [i % scan.GATE_RETRY == 0 for i in range(len(crowd))]
    assert run(FakeEngine(kept=scan.SIFT_KEEPS - 0.1)).sifts == [True] * len(crowd)
    assert run(FakeEngine(kept=None)).sifts == [True] * len(crowd)


def test_a_frame_is_identified_with_its_faces_encoded_by_earlier_passes(monkeypatch):
    """Two faces of one frame encoded in different passes are still identified together: a
    person twice in one frame is ambiguous whichever pass encoded which face."""
    from gatekeeper.domain.matching import one_face_each

    data = encode([np.zeros((H, W, 3), np.uint8)] * 5, W, H, FPS, max_side=0)
    seen: list[int] = []

    def named_twice(faces, gallery, settings):  # both faces look like person 7
        seen.append(len(faces))
        return one_face_each([Match(7, 0.4, 0.3, frozenset({7}), headroom=-3.0)] * len(faces))

    monkeypatch.setattr(scan, "identify_faces", named_twice)
    found = {(0, k): FoundFace(box=box, score=0.9, rotation=0, quality=FaceQuality.OK,
                               landmarks=()) for k, box in enumerate(FACES.values())}
    ctx = SimpleNamespace(faces=FakeEngine(), settings=None)
    gallery = Gallery(np.zeros((1, 128)), np.zeros((1, 128), np.float32), np.array([7]))
    first = scan._identify(ctx, data, W, H, found, {(0, 0)}, gallery, lambda: None,
                           scan._Crops(W, H, set()))
    assert first[(0, 0)].person_id == 7  # alone in its pass: named
    second = scan._identify(ctx, data, W, H, found, {(0, 1)}, gallery, lambda: None,
                            scan._Crops(W, H, set()))
    assert seen == [1, 2]  # the second pass saw the first face again
    assert second[(0, 0)].person_id is None and second[(0, 1)].person_id is None


def test_a_track_is_named_from_its_sharp_frames_before_its_soft_ones():
    """Its best frames: sharp before soft (held to a stricter margin) whatever their size, and
    never one too blurred, small or turned to be encoded."""
    def face(quality, width):
        return FoundFace(box=Box(0, width, width, 0), score=0.9, rotation=0, quality=quality,
                         landmarks=())

    found = {(0, 0): face(FaceQuality.SOFT, 200), (5, 0): face(FaceQuality.OK, 60),
             (10, 0): face(FaceQuality.TOO_BLURRED, 300), (15, 0): face(FaceQuality.OK, 80)}
    track = SimpleNamespace(sightings=[(f, None, 0) for f in (0, 5, 10, 15)])
    assert scan._best_keys(track, found) == [(15, 0), (5, 0), (0, 0)]


def test_a_fast_face_found_once_is_covered_where_its_measured_speed_takes_it(monkeypatch):
    """The detector finds a running face on one sample only (blurred on the others): its speed
    measured from the next frame's pixels goes with the track, so publishing covers it along
    its path for its pad, not only where it stood (gone from there two frames later)."""
    from gatekeeper.domain.tracks import cover_box

    rng = np.random.default_rng(3)
    face = np.kron(rng.integers(0, 255, size=(8, 6, 3), dtype=np.uint8),
                   np.ones((8, 8, 1), dtype=np.uint8))  # 64 x 48, coarse texture
    frames = []
    for i in range(FRAMES):
        frame = np.full((H, W, 3), 90, np.uint8)
        x = 10 + 12 * i  # 12 px a frame to the right
        if x + 48 <= W:
            frame[60:124, x:x + 48] = face
        frames.append(frame)
    data = encode(frames, W, H, FPS, max_side=0, crf=12)
    seen = Box(60, 58, 124, 10)  # (top, right, bottom, left): where it is on frame 0

    class OnceEngine(FakeEngine):
        def find_faces(self, img, look_sideways, encode=True, publish_side=None, *,
                       ask_gate=True, sift=True):
            self.calls += 1
            return [FoundFace(box=seen, score=0.9, rotation=0, quality=FaceQuality.OK,
                              landmarks=())] if self.calls == 1 else []

    monkeypatch.setattr(scan, "get_photo",
                        lambda session, photo_id: SimpleNamespace(
                            width=W, height=H, fps=FPS, frame_count=FRAMES,
                            duration_s=FRAMES / FPS))

    @contextmanager
    def uow():
        yield SimpleNamespace(session=None, commit=lambda: None)

    ctx = SimpleNamespace(faces=OnceEngine(), uow=uow, settings=SimpleNamespace(
        video_scan_fps=5.0, scan_stuck_after_s=3600))
    empty = Gallery(np.zeros((0, 128)), np.zeros((0, 128), np.float32), np.array([], int))
    [row] = scan.find_tracks(ctx=ctx, photo_id=1, data=data, gallery=empty)
    sightings = [(r[0], tuple(r[1:5])) for r in row.frames]
    assert [f for f, _ in sightings] == [0, 1]
    pad = scan.pad_frames(scan.sample_step(FPS, 5.0))
    for frame in range(pad + 1):
        box = cover_box(sightings, frame, pad)
        x = 10 + 12 * frame
        assert box is not None and box[3] <= x + 4 and box[1] >= x + 48 - 4, frame
