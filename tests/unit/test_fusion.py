"""The fused rule: both models must pick the same person with margins; fails closed otherwise."""

from __future__ import annotations

import numpy as np

from gatekeeper.fusion import FusionRule, Gallery, identify_fused

RULE = FusionRule()


def unit(seed: int) -> np.ndarray:
    v = np.random.default_rng(seed).normal(size=128)
    return v / np.linalg.norm(v)


def near(v: np.ndarray, distance: float, seed: int = 99) -> np.ndarray:
    """A point at Euclidean `distance` from v (v unit: cosine 1 - d^2/2 once renormalised)."""
    d = np.random.default_rng(seed).normal(size=128)
    d -= d @ v * v
    return v + distance * d / np.linalg.norm(d)


def unit_near(v: np.ndarray, cosine: float, seed: int = 99) -> np.ndarray:
    """A unit vector with the given cosine similarity to unit vector v."""
    d = np.random.default_rng(seed).normal(size=128)
    d -= d @ v * v
    d /= np.linalg.norm(d)
    return cosine * v + np.sqrt(1 - cosine**2) * d


def gallery(dlib_rows, sface_rows, ids) -> Gallery:
    return Gallery(np.stack(dlib_rows), np.stack(sface_rows).astype(np.float32), np.array(ids))


def people_ab():
    """Two enrolled people, A (id 1) and B (id 2), one template each in both models."""
    da, db, sa, sb = unit(1), unit(2), unit(11), unit(12)
    return (da, db, sa, sb), gallery([da, db], [sa, sb], [1, 2])


def one(g, dlib_vec, sface_vec, width=120.0, rule=RULE):
    [m] = identify_fused(dlib_vec[None], np.asarray(sface_vec, np.float32)[None],
                         np.array([width]), g, rule)
    return m


def test_identified_when_both_models_agree_with_margins():
    (da, _db, sa, _sb), g = people_ab()
    m = one(g, near(da, 0.4), unit_near(sa, 0.7))
    assert m.person_id == 1 and m.distance <= 0.4 + 1e-9 and 1 in m.near_person_ids


def test_models_disagreeing_on_the_person_is_unknown():
    (da, _db, _sa, sb), g = people_ab()
    m = one(g, near(da, 0.3), unit_near(sb, 0.8))  # dlib says A, SFace says B
    assert m.person_id is None
    assert {1, 2} <= m.near_person_ids  # both stay candidates for safeguarding blocks


def test_sface_below_threshold_is_unknown_even_with_a_confident_dlib():
    (da, _db, sa, _sb), g = people_ab()
    m = one(g, near(da, 0.2), unit_near(sa, RULE.sface_threshold - 0.05))
    assert m.person_id is None


def test_dlib_beyond_tolerance_is_unknown_even_with_a_confident_sface():
    (da, _db, sa, _sb), g = people_ab()
    m = one(g, near(da, RULE.dlib_tolerance + 0.05), unit_near(sa, 0.9))
    assert m.person_id is None


def test_sface_margin_over_a_look_alike_is_kept():
    da, db, sa = unit(1), unit(2), unit(11)
    twin = unit_near(sa, 0.95, seed=5)  # B looks like A to SFace
    g = gallery([da, db], [sa, twin], [1, 2])
    m = one(g, near(da, 0.3), unit_near(sa, 0.8, seed=7))
    assert m.person_id is None


def test_dlib_margin_over_a_look_alike_is_kept():
    da, sa, sb = unit(1), unit(11), unit(12)
    twin = near(da, 0.03, seed=3)
    g = gallery([da, twin], [sa, sb], [1, 2])
    m = one(g, near(da, 0.3), unit_near(sa, 0.8))
    assert m.person_id is None


def test_small_faces_need_larger_margins():
    da, db, sa = unit(1), unit(2), unit(11)
    rival = unit_near(sa, 0.5, seed=5)
    g = gallery([da, db], [sa, rival], [1, 2])
    probe_s = unit_near(sa, 0.6, seed=9)
    gap = float(probe_s @ sa - probe_s @ rival)
    rule = FusionRule(sface_margin=gap / 1.2, small_face_factor=1.5)  # gap clears 1x, not 1.5x
    assert one(g, near(da, 0.3), probe_s, width=120, rule=rule).person_id == 1
    assert one(g, near(da, 0.3), probe_s, width=rule.small_face_px - 1, rule=rule).person_id is None


def test_same_person_twice_in_a_photo_is_ambiguous():
    (da, _db, sa, _sb), g = people_ab()
    dl = np.stack([near(da, 0.3, seed=1), near(da, 0.3, seed=2)])
    sf = np.stack([unit_near(sa, 0.8, seed=1), unit_near(sa, 0.8, seed=2)]).astype(np.float32)
    matches = identify_fused(dl, sf, np.array([120.0, 120.0]), g, RULE)
    assert [m.person_id for m in matches] == [None, None]


def test_several_templates_any_one_can_match():
    da, db, sa, sb = unit(1), unit(2), unit(11), unit(12)
    older_d, older_s = unit(3), unit(13)  # an older template of A, far from today's face
    g = gallery([older_d, da, db], [older_s, sa, sb], [1, 1, 2])
    assert one(g, near(da, 0.35), unit_near(sa, 0.7)).person_id == 1


def test_legacy_person_without_sface_templates_uses_the_dlib_setting():
    da, db, sb = unit(1), unit(2), unit(12)
    nan = np.full(128, np.nan)
    g = gallery([da, db], [nan, sb], [1, 2])
    sface_probe = unit(40)
    # within the legacy setting: identified by dlib alone, as before fusion
    assert one(g, near(da, 0.3), sface_probe).person_id == 1
    # beyond legacy tolerance (but within the fused one): not identified
    assert one(g, near(da, (RULE.legacy_tolerance + RULE.dlib_tolerance) / 2), sface_probe).person_id is None


def test_face_without_sface_vector_is_not_identified_against_fused_people():
    (da, _db, _sa, _sb), g = people_ab()
    assert one(g, near(da, 0.2), np.full(128, np.nan)).person_id is None


def test_empty_gallery_and_no_faces():
    (da, _db, sa, _sb), g = people_ab()
    assert identify_fused(np.zeros((0, 128)), np.zeros((0, 128)), np.zeros(0), g, RULE) == []
    [m] = identify_fused(da[None], sa[None], np.array([100.0]), Gallery.empty(), RULE)
    assert m.person_id is None
