"""Identification fails closed: tolerance AND margin, several templates per person."""

from __future__ import annotations

import numpy as np

from gatekeeper.domain.matching import identify


def unit(seed: int) -> np.ndarray:
    v = np.random.default_rng(seed).normal(size=128)
    return v / np.linalg.norm(v)


def near(v: np.ndarray, distance: float, seed: int = 99) -> np.ndarray:
    d = np.random.default_rng(seed).normal(size=128)
    d -= d @ v * v
    return v + distance * d / np.linalg.norm(d)


def test_identified_with_margin_over_other_people():
    a, b = unit(1), unit(2)
    templates = np.stack([a, near(a, 0.1, 5), b])
    ids = np.array([7, 7, 8])
    [m] = identify(near(a, 0.3)[None], templates, ids, tolerance=0.5, margin=0.08)
    assert m.person_id == 7 and m.distance <= 0.3 + 1e-9 and m.margin > 0.08


def test_beyond_tolerance_is_unknown():
    a = unit(1)
    [m] = identify(near(a, 0.55)[None], a[None], np.array([1]), tolerance=0.5, margin=0.08)
    assert m.person_id is None and m.distance > 0.5


def test_ambiguous_between_two_people_is_unknown():
    a = unit(1)
    twin = near(a, 0.05, seed=3)
    [m] = identify(near(a, 0.3)[None], np.stack([a, twin]), np.array([1, 2]), 0.5, 0.08)
    assert m.person_id is None
    assert m.near_person_ids == {1, 2}


def test_same_person_twice_in_a_photo_is_unknown_both_times():
    a = unit(1)
    faces = np.stack([near(a, 0.2, 4), near(a, 0.25, 5)])
    ms = identify(faces, a[None], np.array([1]), 0.5, 0.08)
    assert [m.person_id for m in ms] == [None, None]


def test_no_templates_means_unknown():
    assert identify(unit(1)[None], np.zeros((0, 128)), np.zeros(0, dtype=int), 0.5, 0.08)[0].person_id is None
