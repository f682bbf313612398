"""Tracks: linking over gaps and fast motion, covering padded in time and space, naming by votes."""

from __future__ import annotations

from gatekeeper.domain.matching import Match
from gatekeeper.domain.tracks import ambiguous_pairs, cover_box, iou, link, vote


def box(x: int, y: int = 100, size: int = 60) -> tuple[int, int, int, int]:
    return (y, x + size, y + size, x)  # top, right, bottom, left


def test_two_faces_make_two_tracks_and_a_lost_face_stays_one_track():
    frames = [(f, [box(10 + 5 * f), box(500 - 5 * f, y=250)]) for f in range(0, 30, 3)]
    frames[4] = (12, [box(500 - 5 * 12, y=250)])  # the first face missed on one sample...
    frames[5] = (15, [box(500 - 5 * 15, y=250)])  # ...and on the next
    tracks = link(frames, max_gap=9)
    assert len(tracks) == 2
    first = next(t for t in tracks if t.sightings[0][1] == box(10))
    assert [f for f, _, _ in first.sightings] == [0, 3, 6, 9, 18, 21, 24, 27]
    # covered on every frame of the gap, the box there between its neighbours
    for frame in range(9, 19):
        b = cover_box([(f, b) for f, b, _ in first.sightings], frame, pad=2)
        assert b is not None and b[3] <= 10 + 5 * frame and b[1] >= 10 + 5 * frame + 60


def test_a_gap_longer_than_max_gap_starts_a_new_track():
    frames = [(0, [box(10)]), (3, [box(12)]), (30, [box(14)])]
    assert len(link(frames, max_gap=9)) == 2


def test_fast_motion_links_by_centre_distance():
    # 50 px a sample on a 60 px face: IoU 0.09, but the centres are close
    frames = [(f, [box(10 + 50 * (f // 3))]) for f in range(0, 15, 3)]
    assert iou(box(10), box(60)) < 0.2
    assert len(link(frames, max_gap=6)) == 1


def test_cover_box_padding_and_interpolation_grow_the_box():
    s = [(10, box(100)), (16, box(160))]  # 10 px a frame to the right
    before = cover_box(s, 7, pad=3)  # within the pad: stopped there, or come on at its speed
    assert before is not None and before[3] <= 70 and before[1] >= 160
    assert cover_box(s, 6, pad=3) is None
    after = cover_box(s, 19, pad=3)
    assert after is not None and after[3] <= 160 and after[1] >= 190 + 60
    assert cover_box(s, 20, pad=3) is None
    mid = cover_box(s, 13, pad=3)
    assert mid is not None
    # the face may be anywhere between: the box reaches both neighbours' halfway points
    assert mid[3] <= 130 - 30 and mid[1] >= 190 + 30
    assert cover_box([(10, box(100))], 12, pad=3) == box(100)  # seen once: held where it was


def test_a_track_that_ends_at_the_edge_is_held_until_its_motion_takes_it_out():
    """A face rising out through the top edge is lost by the detector while half of it is still
    in the picture: it stays covered past the pad, until its motion has taken it wholly out."""
    size = (640, 360)
    s = [(0, box(300, y=40)), (5, box(300, y=10))]  # 6 px a frame upwards, at the top edge
    held = cover_box(s, 12, pad=3, hold=30, size=size)
    assert held is not None and held[0] <= 10 - 6 * 7 and held[2] >= 70
    assert cover_box(s, 12, pad=3) is None  # no frame size: the plain pad
    # its box is wholly above the frame from frame 17 on (10 + 60 - 6 * 12 < 0)
    assert cover_box(s, 16, pad=3, hold=30, size=size) is not None
    assert cover_box(s, 17, pad=3, hold=30, size=size) is None
    # a face standing still at the side edge: held for the whole hold, and no longer
    still = [(20, box(0)), (25, box(0))]
    assert cover_box(still, 25 + 3 + 30, pad=3, hold=30, size=size) == box(0)
    assert cover_box(still, 25 + 3 + 31, pad=3, hold=30, size=size) is None
    # it came in there too: held before its first sighting
    assert cover_box(still, 20 - 3 - 30, pad=3, hold=30, size=size) == box(0)


def test_a_track_that_ends_inside_the_picture_gets_the_plain_pad():
    size = (640, 360)
    s = [(0, box(300, y=150)), (5, box(300, y=150))]
    assert cover_box(s, 8, pad=3, hold=30, size=size) == box(300, y=150)
    assert cover_box(s, 9, pad=3, hold=30, size=size) is None


def test_a_face_lost_longer_than_max_gap_is_found_again_where_its_motion_puts_it():
    """A walker smeared by a camera shake for 5 samples: the track coasts on its speed."""
    walk = [(f, [box(500 - 12 * f)]) for f in (0, 3, 6, 21, 24, 27)]
    [track] = link(walk, max_gap=9)
    assert [f for f, _, _ in track.sightings] == [0, 3, 6, 21, 24, 27]
    still = [(0, [box(500)]), (3, [box(500)]), (21, [box(300)])]  # not where it was heading
    assert len(link(still, max_gap=9)) == 2


def test_a_fast_face_seen_once_links_to_its_next_sighting_far_away():
    # 150 px a sample on a 75 px face (a dash, motion-blurred): two widths between centres
    dash = [(12, [box(160, size=75)]), (15, [box(310, size=75)]), (18, [box(460, size=75)])]
    [track] = link(dash, max_gap=9)
    assert len(track.sightings) == 3
    two = [(0, [box(100), box(400)]), (3, [box(110), box(390)])]  # two faces keep their own
    tracks = link(two, max_gap=9)
    assert sorted(t.sightings[0][1][3] for t in tracks) == [100, 400]
    assert all(abs(t.sightings[0][1][3] - t.sightings[1][1][3]) == 10 for t in tracks)


def test_a_dash_over_a_crowd_face_it_hides_stays_one_track_of_its_own():
    """A fast face crossing a crowd hides the crowd face it passes over and is found where that
    face was: the crowd face's track takes the sighting (it overlaps where it stood), and the
    dash must still be followed from sighting to sighting, or nothing covers it between them."""
    crowd = box(510, size=90)
    dash_path = {f: 20 + 48 * (f - 5) for f in range(5, 30, 5)}  # 2.7 widths a sample
    dash_path[15] = 510  # found exactly where the crowd face it hides stood
    frames = []
    for f in range(0, 30, 5):
        boxes = [crowd] if f != 15 else []  # hidden by the dash at 15
        frames.append((f, boxes + ([box(dash_path[f], size=90)] if f in dash_path else [])))
    tracks = link(frames, max_gap=15)
    assert any({f: b[3] for f, b, _ in t.sightings} == dash_path for t in tracks)
    [still] = [t for t in tracks if t.sightings[0][1] == crowd]
    assert [f for f, _, _ in still.sightings] == [0, 5, 10, 15, 20, 25]


def test_a_fast_face_seen_once_follows_its_measured_speed_past_faces_it_hides():
    """A running child is found now and then: once on its own, then over crowd faces it hides,
    whose tracks take those sightings (they overlap where the crowd faces stood). Seen once, its
    speed is unknown from sightings; measured from the next frame's pixels, its track is looked
    for where it went and wins those sightings, so it is covered between them."""
    size = 110
    crowd = [box(500, size=size), box(740, size=size)]
    dash = {35: 253, 40: 493, 45: 733, 50: 973}  # 48 px a frame: 2.2 widths a sample
    frames = []
    for f in range(20, 60, 5):
        boxes = [c for c in crowd if not (f in dash and abs(c[3] - dash[f]) < size)]
        if f in dash:
            boxes.append(box(dash[f], size=size))
        frames.append((f, boxes))
    dash_key = (35, len(frames[3][1]) - 1)

    def dash_track(tracks):
        return [t for t in tracks if t.sightings[0][0] == 35]

    blind = link(frames, max_gap=15)  # speed unknown: the crowd faces' tracks take its boxes
    [alone] = dash_track(blind)
    assert [f for f, _, _ in alone.sightings] == [35]
    [track] = dash_track(link(frames, max_gap=15, speeds={dash_key: (48.0, 0.0)}))
    assert {f: b[3] for f, b, _ in track.sightings} == dash
    sightings = [(f, b) for f, b, _ in track.sightings]
    for frame in range(35, 51):  # covered on every frame between, wherever it was
        b = cover_box(sightings, frame, pad=12)
        x = 253 + 48 * (frame - 35)
        assert b is not None and b[3] <= x and b[1] >= x + size


def test_a_wrong_measured_speed_splits_no_track_and_sightings_outrank_it():
    """A speed measured wrongly (a face matched on a like neighbour) still lets the next box
    join as for a track seen once; from two sightings on, their own speed is the one used."""
    frames = [(0, [box(100)]), (5, [box(150)]), (10, [box(200)])]  # 10 px a frame
    [track] = link(frames, max_gap=15, speeds={(0, 0): (-40.0, 0.0)})
    assert [f for f, _, _ in track.sightings] == [0, 5, 10]
    assert track.speed == (-40.0, 0.0) and track.motion() == (10.0, 0.0)
    [unknown] = link(frames[:1], max_gap=15)
    assert unknown.speed is None and not unknown.moving and unknown.motion() == (0.0, 0.0)


def m(pid: int | None, near: tuple[int, ...] = ()) -> Match:
    return Match(pid, 0.3 if pid else None, 0.2 if pid else None, frozenset(near))


def test_vote_names_only_a_clear_majority_without_rivals():
    assert vote([m(1), m(1), m(None)], [m(1)] * 3).person_id == 1
    assert vote([m(1), m(None), m(None)], [m(1)]).person_id is None  # not enough votes
    assert vote([m(1), m(1), m(2)], [m(1)]).person_id is None  # a rival: ambiguous
    assert vote([m(1)], [m(1)]).person_id == 1  # its only usable frame
    assert vote([], [m(None)]).person_id is None


def test_vote_keeps_everyone_near_any_frame():
    name = vote([m(1), m(1)], [m(1), m(None, near=(7,)), m(2)])
    assert name.person_id is None or name.person_id == 1
    assert {1, 2, 7} <= name.near_person_ids


def test_the_same_person_in_two_tracks_at_once_is_ambiguous():
    assert ambiguous_pairs([(0, 10, 1), (5, 20, 1), (0, 20, 2)]) == {0, 1}
    assert ambiguous_pairs([(0, 10, 1), (11, 20, 1)]) == set()  # one after the other
