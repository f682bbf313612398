"""Covers over a time span: the frames a span reaches, which rectangles apply on a frame,
when a timed cover hides a whole track, and where a track is on a given frame."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gatekeeper.domain.redact import Region
from gatekeeper.domain.spans import (
    TimedRegion,
    box_at,
    clock_seconds,
    frames_span_ms,
    holds_throughout,
    lifted_on,
    regions_on,
    span_frames,
)
from gatekeeper.errors import InvalidInput
from web.forms import span_from


def test_a_span_reaches_every_frame_on_screen_during_it():
    assert span_frames(2000, 4000, 25) == (50, 99)  # ends where frame 100 begins
    assert span_frames(2010, 4010, 25) == (50, 100)  # ends inside frame 100
    assert span_frames(500, 1200, 15) == (7, 17)
    assert span_frames(0, 10, 25) == (0, 0)
    assert span_frames(1000, 1000, 25) is None and span_frames(2000, 1000, 25) is None


@pytest.mark.parametrize("fps", [15, 25, 30000 / 1001, 59.94, 24000 / 1001])
def test_a_tracks_frames_as_a_span_reach_at_least_those_frames(fps):
    for first, last in ((0, 0), (7, 33), (1000, 1799), (12345, 12346)):
        lo, hi = span_frames(*frames_span_ms(first, last, fps), fps)
        assert lo <= first and hi >= last and lo >= first - 1 and hi <= last + 1


def test_timed_rectangles_apply_on_their_frames_only():
    always, timed = Region(0, 0, 5, 5), TimedRegion(1, 1, 9, 9, 10, 20)
    assert regions_on([always, timed], 9) == [always]
    assert regions_on([always, timed], 10) == [always, timed]
    assert regions_on([always, timed], 20) == [always, timed]
    assert regions_on([always, timed], 21) == [always]
    assert holds_throughout(always, 0, 10_000)
    assert holds_throughout(timed, 10, 20) and not holds_throughout(timed, 9, 20)
    assert not holds_throughout(timed, 12, 21)


def test_a_track_is_drawn_where_it_is_on_the_frame():
    seen = [(0, (10, 50, 50, 10)), (10, (20, 70, 60, 30))]
    assert box_at(seen, 0) == (10, 50, 50, 10)
    assert box_at(seen, 5) == (15, 60, 55, 20)
    assert box_at(seen, 10) == (20, 70, 60, 30)
    assert box_at(seen, 11) is None and box_at([], 0) is None
    assert box_at(seen[:1], 0) == (10, 50, 50, 10)


def test_time_fields_from_a_form():
    assert span_from("", "") is None
    assert span_from("0.5", "1.2") == (0.5, 1.2)
    assert span_from("1:05", "1:07.5") == (65.0, 67.5)
    for start, end in (("1", ""), ("soon", "2"), ("1:2:3", "4"), ("nan", "2"), ("1", "inf"),
                       (":5", "6")):
        with pytest.raises(InvalidInput):
            span_from(start, end)


@pytest.mark.parametrize(("text", "seconds"), [("12", 12.0), ("12.5", 12.5), ("1:05", 65.0),
                                               ("0:00.5", 0.5), (" 2:30 ", 150.0)])
def test_a_moment_is_seconds_or_minutes_and_seconds(text, seconds):
    assert clock_seconds(text) == seconds


@pytest.mark.parametrize("text", ["1:-5", "1:75", "-1:05", "1:2:3", "", ":", "nan", "inf", "a"])
def test_a_moment_that_is_no_time_is_refused_with_what_was_typed(text):
    with pytest.raises(InvalidInput):
        clock_seconds(text)


def test_the_sample_step_never_leaves_more_than_max_step_frames_unsearched():
    from gatekeeper.services.video.scan import MAX_STEP, sample_step

    assert sample_step(25, 5.0) == 5 and sample_step(60, 5.0) == 12
    assert sample_step(15360, 5.0) == MAX_STEP == sample_step(240, 5.0)


@settings(max_examples=200, deadline=None)
@given(st.booleans(), st.integers(0, 40), st.integers(0, 40), st.sets(st.integers(-5, 60)))
def test_a_cover_lifted_on_some_frames_holds_on_every_other_frame_it_reached(
        timed, a, b, spared):
    cover = TimedRegion(1, 2, 3, 4, min(a, b), max(a, b)) if timed else Region(1, 2, 3, 4)
    parts = lifted_on(cover, spared)
    for frame in [*range(70), 10**6]:  # frames count from 0; an untimed one never ends
        was = bool(regions_on([cover], frame))
        now = bool(regions_on(parts, frame))
        assert now == (was and frame not in spared), frame
        assert all((p.x0, p.y0, p.x1, p.y1) == (1, 2, 3, 4) for p in parts)


def test_a_moment_before_the_start_says_so():
    """New-user walk: a start of "-1" was refused as a span that does not run from a start to
    a later end; it is a time before the video starts."""
    with pytest.raises(InvalidInput, match="counted from the start of the video .* '-1'"):
        clock_seconds("-1")
