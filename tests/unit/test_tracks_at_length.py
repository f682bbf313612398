"""A long video's tracks: linking, covering and rendering ask only what can matter at each
moment (a ten-minute crowd clip holds thousands of tracks of thousands of sightings), and give
exactly what asking everything gave. The references below are the plain forms: every track,
every pair, every sighting."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from gatekeeper.domain import tracks as tracks_mod
from gatekeeper.domain.tracks import (
    Box4,
    Track,
    _distance,
    _fast,
    ambiguous_pairs,
    cover_box,
    iou,
    link,
    shifted,
)
from gatekeeper.domain.vocabulary import CoverMode
from gatekeeper.services.video import publish as publish_mod
from gatekeeper.services.video.front import seen_around
from gatekeeper.services.video.publish import covered_frames, nearest


def _link_plain(frames, *, max_gap, min_iou=0.2, reach=1.0, first_reach=3.0, coast=None,
                speeds=None):
    """link as it was: every track weighed against every box on every sample."""
    coast = 2 * max_gap if coast is None else coast
    out: list[Track] = []
    for frame, boxes in frames:
        pairs = []
        for ti, t in enumerate(out):
            gap = frame - t.last
            moving = t.moving
            if gap > (max(coast, max_gap) if moving else max_gap):
                continue
            dx, dy = t.motion()
            expected = shifted(t.sightings[-1][1], dx * gap, dy * gap)
            for bi, box in enumerate(boxes):
                overlap = iou(expected, box)
                far = _distance(expected, box)
                near = far is not None and far <= (reach if moving else first_reach)
                if not near and len(t.sightings) == 1:
                    own = _distance(t.sightings[0][1], box)
                    near = own is not None and own <= first_reach
                if (overlap >= min_iou or near) and (gap <= max_gap or overlap >= min_iou
                                                     or (far is not None and far <= reach)):
                    pairs.append((overlap, -(far if far is not None else 9.0), -gap, ti, bi))
        taken_t: set[int] = set()
        taken_b: set[int] = set()
        ranked = sorted(pairs, reverse=True)
        for *_, ti, bi in ranked:
            if ti in taken_t or bi in taken_b:
                continue
            out[ti].sightings.append((frame, boxes[bi], bi))
            taken_t.add(ti)
            taken_b.add(bi)
        shared: set[int] = set()
        for *_, ti, bi in ranked:
            if ti in taken_t or bi in shared or not _fast(out[ti], frame, reach):
                continue
            out[ti].sightings.append((frame, boxes[bi], bi))
            taken_t.add(ti)
            shared.add(bi)
        speed = speeds or {}
        out += [Track([(frame, box, bi)], speed.get((frame, bi)))
                for bi, box in enumerate(boxes) if bi not in taken_b]
    return out


def _cover_box_plain(sightings, frame, pad, *, hold=0, size=None):
    """cover_box as it was: the bracket found by walking every sighting."""
    if not sightings or frame <= sightings[0][0] or frame >= sightings[-1][0]:
        return cover_box(sightings, frame, pad, hold=hold, size=size)
    for (f0, b0), (f1, b1) in zip(sightings, sightings[1:], strict=False):
        if f0 <= frame <= f1:
            if frame == f0:
                return b0
            if frame == f1:
                return b1
            t = (frame - f0) / (f1 - f0)
            mid = [v0 + t * (v1 - v0) for v0, v1 in zip(b0, b1, strict=True)]
            grow = [abs(v1 - v0) / 2 for v0, v1 in zip(b0, b1, strict=True)]
            return (int(mid[0] - grow[0]), int(mid[1] + grow[1] + 1),
                    int(mid[2] + grow[2] + 1), int(mid[3] - grow[3]))
    raise AssertionError("frames ascending always meet a bracket")


def _seen_around_plain(sightings, index, step):
    for (f0, _), (f1, _) in zip(sightings, sightings[1:], strict=False):
        if f0 <= index <= f1 and f1 - f0 <= step:
            return True
    return any(f == index for f, _ in sightings)


def _ambiguous_plain(spans):
    out = set()
    for i, (a0, a1, pa) in enumerate(spans):
        for j, (b0, b1, pb) in enumerate(spans[i + 1:], i + 1):
            if pa is not None and pa == pb and a0 <= b1 and b0 <= a1:
                out |= {i, j}
    return out


@st.composite
def _box(draw, size=400) -> Box4:
    x, y = draw(st.integers(0, size)), draw(st.integers(0, size))
    w = draw(st.integers(1, 90))
    h = draw(st.integers(1, 90))
    return (y, x + w, y + h, x)


@st.composite
def _sightings(draw, size=400):
    frames = sorted(draw(st.lists(st.integers(0, 120), min_size=1, max_size=30)))
    return [(f, draw(_box(size))) for f in frames]  # a frame may come twice


@st.composite
def _samples(draw):
    """Sampled frames of a crowd: faces that drift, vanish and come back, and strangers."""
    step = draw(st.integers(1, 6))
    people = draw(st.lists(st.tuples(_box(), st.integers(-30, 30), st.integers(-30, 30)),
                           min_size=1, max_size=16))
    out = []
    for n in range(draw(st.integers(1, 14))):
        boxes = []
        for (top, right, bottom, left), dx, dy in people:
            if draw(st.integers(0, 4)) == 0:  # lost on this sample
                continue
            boxes.append(shifted((top, right, bottom, left), dx * n, dy * n))
        boxes += draw(st.lists(_box(), max_size=4))
        out.append((n * step, boxes))
    return out, step


@settings(max_examples=300, deadline=None)
@given(_samples(), st.sampled_from([0.0, 0.2, 0.5]), st.booleans())
def test_linking_weighs_only_boxes_in_reach_and_makes_the_same_tracks(samples, min_iou, speed):
    frames, step = samples
    speeds = ({(f, k): (float(k % 5 - 2) * 7, 3.0) for f, boxes in frames
               for k in range(len(boxes))} if speed else None)
    got = link(frames, max_gap=3 * step, min_iou=min_iou, speeds=speeds)
    want = _link_plain(frames, max_gap=3 * step, min_iou=min_iou, speeds=speeds)
    assert [(t.sightings, t.speed) for t in got] == [(t.sightings, t.speed) for t in want]


@settings(max_examples=300, deadline=None)
@given(_sightings(), st.integers(-20, 150), st.integers(0, 12), st.integers(0, 40))
def test_cover_box_finds_its_bracket_by_halving_as_by_walking(sightings, frame, pad, hold):
    size = (480, 480)
    assert cover_box(sightings, frame, pad, hold=hold, size=size) == _cover_box_plain(
        sightings, frame, pad, hold=hold, size=size)


@settings(max_examples=300, deadline=None)
@given(_sightings(), st.integers(-20, 150), st.integers(1, 12))
def test_seen_around_and_nearest_sighting_by_halving_as_by_walking(sightings, index, step):
    assert seen_around(sightings, index, step) == _seen_around_plain(sightings, index, step)
    assert nearest(sightings, index) == min(sightings, key=lambda s: abs(s[0] - index))[1]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 50), st.integers(0, 50),
                          st.one_of(st.none(), st.integers(1, 4))), max_size=25))
def test_ambiguity_weighs_only_tracks_named_alike(raw):
    spans = [(min(a, b), max(a, b), p) for a, b, p in raw]
    assert ambiguous_pairs(spans) == _ambiguous_plain(spans)


@settings(max_examples=60, deadline=None)
@given(st.lists(_sightings(size=140), min_size=1, max_size=12), st.integers(0, 12),
       st.integers(0, 30), st.integers(1, 6))
def test_a_render_draws_the_same_covers_asking_only_the_tracks_that_reach_each_frame(
        hidden, pad, hold, step):
    # a textured frame the size the tracks move in: every cover lands on it, some at its edge
    texture = (np.indices((160, 160)).sum(axis=0) % 7 * 30).astype(np.uint8)
    frames = [np.repeat(texture[..., None] + i % 5, 3, axis=2) for i in range(150)]
    shown = [[(f, (10, 30, 30, 10)) for f in range(0, 150, step)]]
    got = list(covered_frames(iter(frames), hidden, [], pad, CoverMode.SOLID, hold=hold,
                              shown=shown, step=step))
    plain = list(_covered_plain(iter(frames), hidden, pad, hold, shown, step))
    assert len(got) == len(plain) == len(frames)
    for a, b in zip(got, plain, strict=True):
        assert np.array_equal(a, b)


def _covered_plain(frames, hidden, pad, hold, shown, step):
    """covered_frames with every track asked on every frame (the reach filter taken away)."""
    everyone = publish_mod._Reaching

    class _All(everyone):
        def on(self, index):
            return list(range(len(hidden)))

    publish_mod._Reaching = _All
    try:
        yield from covered_frames(frames, hidden, [], pad, CoverMode.SOLID, hold=hold,
                                  shown=shown, step=step)
    finally:
        publish_mod._Reaching = everyone


def test_a_long_render_asks_each_frame_only_the_tracks_that_reach_it(monkeypatch):
    """Two hundred short tracks one after another over 2 000 frames: each frame asks about the
    few around it, not all of them (asking all was 400 000 questions for a minute and a half of
    video; a ten-minute crowd clip has thousands of tracks)."""
    hidden = [[(20 + 10 * k + s, (10, 40, 40, 10)) for s in range(0, 15, 5)]
              for k in range(200)]
    asked = []
    plain = tracks_mod.cover_box

    def counting(sightings, frame, pad, **kw):
        asked.append(frame)
        return plain(sightings, frame, pad, **kw)

    monkeypatch.setattr(publish_mod, "cover_box", counting)
    frames = (np.zeros((48, 48, 3), np.uint8) for _ in range(2_000))
    out = list(covered_frames(frames, hidden, [], 12, CoverMode.SOLID, hold=0, step=5))
    assert len(out) == 2_000
    # each track reaches 10 + 2 * 12 + 1 frames: 35 questions a track, 7 000 in all
    assert len(asked) <= 200 * 35
