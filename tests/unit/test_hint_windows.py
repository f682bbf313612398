"""Second-look windows (gatekeeper.adapters.smallfaces.windows): every hint's neighbourhood is
searched, rows of a crowd share their windows, and scattered hints are not merged into empty
space."""

from __future__ import annotations

from gatekeeper.adapters.smallfaces import windows


def _covers(wins, x, y, margin) -> bool:
    return any(x0 <= x - margin and x + margin <= x1 and y0 <= y - margin and y + margin <= y1
               for x0, y0, x1, y1 in wins)


def _area(wins) -> int:
    return sum((x1 - x0) * (y1 - y0) for x0, y0, x1, y1 in wins)


def test_a_block_of_hints_becomes_one_window_with_every_neighbourhood_inside():
    pts = [(100 + 20 * i + 5, 100 + 20 * j + 5) for i in range(6) for j in range(5)]
    wins = windows(pts, 1000, 1000, cell=20, margin=10)
    assert len(wins) == 1
    assert all(_covers(wins, x, y, 5) for x, y in pts)
    rows = 5 * (6 * 20 + 20) * (20 + 20)  # one window per grid row, as before joining
    assert _area(wins) < rows


def test_rows_far_apart_or_unlike_stay_separate():
    pts = [(105, 105), (505, 505), (105, 125)] + [(105 + 20 * i, 145) for i in range(30)]
    wins = windows(pts, 1000, 1000, cell=20, margin=10)
    assert all(_covers(wins, x, y, 5) for x, y in pts)
    # a single cell does not take in a long run below it: that would search empty space
    assert _area(wins) <= 40 * 40 * 3 + (30 * 20 + 20) * 40
    assert len(wins) >= 3


def test_joined_windows_respect_the_longest_side():
    pts = [(105, 105 + 20 * j) for j in range(40)]  # a column of hints
    wins = windows(pts, 1000, 1000, cell=20, margin=10, max_side=200)
    assert all(max(x1 - x0, y1 - y0) <= 200 for x0, y0, x1, y1 in wins)
    assert all(_covers(wins, x, y, 5) for x, y in pts)
    assert len(wins) < 40
