"""Template provenance rules: age bands from year groups, staleness, the per-person cap."""

from __future__ import annotations

from datetime import datetime

import pytest

from gatekeeper.domain.templates import Kept, age_band, is_stale, over_cap


@pytest.mark.parametrize(("kind", "year_group", "band"), [
    ("pupil", "Reception", "Reception"), ("pupil", "R", "Reception"), ("pupil", "Year R", "Reception"),
    ("pupil", "Nursery", "Nursery"), ("pupil", "Year 1", "Y1-Y2"), ("pupil", "Y2", "Y1-Y2"),
    ("pupil", "Yr 4", "Y3-Y4"), ("pupil", "Year 5", "Y5-Y6"), ("pupil", "6", "Y5-Y6"),
    ("pupil", "Year 7", "Y7-Y9"), ("pupil", "Y9", "Y7-Y9"), ("pupil", "Year 10", "Y10-Y11"),
    ("pupil", "year11", "Y10-Y11"), ("pupil", "Year 12", "Y12-Y13"), ("pupil", "Y13", "Y12-Y13"),
    ("pupil", "Year 14", None), ("pupil", "Class Oak", None), ("pupil", None, None),
    ("staff", "Year 5", "staff"), ("governor", None, "adult"),
])
def test_age_band_of_year_groups(kind, year_group, band):
    assert age_band(kind, year_group) == band


def test_stale_means_made_before_the_current_academic_year():
    assert is_stale("2025/26", "2026/27") and is_stale(None, "2026/27")
    assert not is_stale("2026/27", "2026/27")


def test_the_cap_drops_oldest_confirmed_templates_first():
    day = [datetime(2026, 1, d) for d in range(1, 13)]
    kept = ([Kept(i, "reference", day[i]) for i in range(6)]
            + [Kept(10 + i, "confirmed", day[6 + i]) for i in range(6)])
    assert over_cap(kept, cap=10) == [10, 11]
    assert over_cap(kept, cap=5) == [10, 11, 12, 13, 14, 15, 0]
    assert over_cap(kept[:3], cap=10) == []
