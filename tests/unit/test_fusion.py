"""The fused rule: both models must agree on the person, the calibrated fused score must clear
the threshold and beat every other person by the margin; fails closed otherwise."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from gatekeeper.domain.fusion import FusionRule, Gallery, identify_fused

RULE = FusionRule()


def unit(seed: int) -> np.ndarray:
    v = np.random.default_rng(seed).normal(size=128)
    return v / np.linalg.norm(v)


def near(v: np.ndarray, distance: float, seed: int = 99) -> np.ndarray:
    """A point at Euclidean `distance` from v (dlib's metric)."""
    d = np.random.default_rng(seed).normal(size=128)
    d -= d @ v * v
    return v + distance * d / np.linalg.norm(d)


def cos_near(v: np.ndarray, cosine: float, seed: int = 99) -> np.ndarray:
    """A unit vector with the given cosine similarity to unit vector v (SFace's metric)."""
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


def test_fused_score_is_the_mean_of_calibrated_scores():
    r = RULE
    assert r.fused(r.dlib_impostor_mean, r.sface_impostor_mean) == 0
    one_sd_each = r.fused(r.dlib_impostor_mean - r.dlib_impostor_sd,
                          r.sface_impostor_mean + r.sface_impostor_sd)
    assert np.isclose(one_sd_each, 1.0)


def test_identified_when_both_models_agree_and_fused_score_is_high():
    (da, _db, sa, _sb), g = people_ab()
    m = one(g, near(da, 0.4), cos_near(sa, 0.7))
    assert m.person_id == 1 and abs(m.distance - 0.4) < 1e-9 and 1 in m.near_person_ids


def test_strong_second_model_recognises_what_dlib_alone_would_cover():
    (da, _db, sa, _sb), g = people_ab()
    d = RULE.legacy_tolerance + 0.05  # beyond dlib-alone's tolerance
    assert one(g, near(da, d), cos_near(sa, 0.75)).person_id == 1


def test_weak_second_model_covers_what_dlib_alone_would_show():
    (da, _db, sa, _sb), g = people_ab()
    d = RULE.legacy_tolerance - 0.05  # dlib alone would identify
    assert one(g, near(da, d), cos_near(sa, 0.2)).person_id is None


def test_one_very_sure_model_cannot_carry_the_other():
    (da, _db, sa, _sb), g = people_ab()
    m = one(g, near(da, 0.75), cos_near(sa, 0.97))  # fused clears the threshold, dlib is unsure
    assert RULE.fused(0.75, 0.97) >= RULE.threshold and RULE.dlib_z(0.75) < RULE.min_each
    assert m.person_id is None


def test_models_disagreeing_on_the_person_is_unknown():
    (da, _db, _sa, sb), g = people_ab()
    m = one(g, near(da, 0.3), cos_near(sb, 0.8))  # dlib says A, SFace says B
    assert m.person_id is None
    assert {1, 2} <= m.near_person_ids  # both stay candidates for safeguarding blocks


def test_margin_over_a_look_alike_is_kept():
    da, sa = unit(1), unit(11)
    twin_d, twin_s = near(da, 0.1, seed=3), cos_near(sa, 0.9, seed=5)  # B looks like A to both
    g = gallery([da, twin_d], [sa, twin_s], [1, 2])
    m = one(g, near(da, 0.3), cos_near(sa, 0.8, seed=7))
    assert m.person_id is None


def test_legacy_look_alike_without_sface_template_still_blocks():
    da, sa = unit(1), unit(11)
    twin_d = near(da, 0.05, seed=3)
    g = gallery([da, twin_d], [sa, np.full(128, np.nan)], [1, 2])
    assert one(g, near(da, 0.3), cos_near(sa, 0.9)).person_id is None


def probe_beside_a_rival():
    """A gallery of person 1 and a close rival (2), a probe of person 1, and the rule whose
    margin the probe clears once but not 1.5 times."""
    da, sa = unit(1), unit(11)
    rival_d, rival_s = near(da, 0.35, seed=3), cos_near(sa, 0.6, seed=5)
    g = gallery([da, rival_d], [sa, rival_s], [1, 2])
    probe_d, probe_s = near(da, 0.3, seed=8), cos_near(sa, 0.8, seed=9)
    f = RULE.fused(np.linalg.norm(probe_d - np.stack([da, rival_d]), axis=1),
                   np.stack([sa, rival_s]) @ probe_s)
    gap = float(f[0] - f[1])
    assert gap > 0
    return g, probe_d, probe_s, replace(RULE, margin=gap / 1.2, small_face_factor=1.5)


def test_small_faces_need_larger_margins():
    g, probe_d, probe_s, rule = probe_beside_a_rival()
    assert one(g, probe_d, probe_s, width=120, rule=rule).person_id == 1
    assert one(g, probe_d, probe_s, width=rule.small_face_px - 1, rule=rule).person_id is None


def test_soft_faces_need_the_small_faces_margin():
    """A little blurred face (the engine's SOFT quality) is identified, but held to the margin
    of a small face: the same probe that clears the plain margin is covered when soft."""
    g, probe_d, probe_s, rule = probe_beside_a_rival()
    args = (probe_d[None], np.asarray(probe_s, np.float32)[None], np.array([120.0]), g, rule)
    [sharp] = identify_fused(*args, soft=np.array([False]))
    [soft] = identify_fused(*args, soft=np.array([True]))
    assert sharp.person_id == 1 and soft.person_id is None


def test_same_person_twice_in_a_photo_is_ambiguous():
    (da, _db, sa, _sb), g = people_ab()
    dl = np.stack([near(da, 0.3, seed=1), near(da, 0.3, seed=2)])
    sf = np.stack([cos_near(sa, 0.8, seed=1), cos_near(sa, 0.8, seed=2)]).astype(np.float32)
    matches = identify_fused(dl, sf, np.array([120.0, 120.0]), g, RULE)
    assert [m.person_id for m in matches] == [None, None]


def test_any_of_several_templates_can_match():
    da, db, sa, sb = unit(1), unit(2), unit(11), unit(12)
    older_d, older_s = unit(3), unit(13)  # an older template of A, far from today's face
    g = gallery([older_d, da, db], [older_s, sa, sb], [1, 1, 2])
    assert one(g, near(da, 0.35), cos_near(sa, 0.7)).person_id == 1


def test_legacy_person_without_sface_templates_uses_the_dlib_setting():
    da, db, sb = unit(1), unit(2), unit(12)
    g = gallery([da, db], [np.full(128, np.nan), sb], [1, 2])
    sface_probe = unit(40)
    assert one(g, near(da, RULE.legacy_tolerance - 0.1), sface_probe).person_id == 1
    assert one(g, near(da, RULE.legacy_tolerance + 0.03), sface_probe).person_id is None


def test_face_without_sface_vector_is_not_identified_against_fused_people():
    (da, _db, _sa, _sb), g = people_ab()
    assert one(g, near(da, 0.2), np.full(128, np.nan)).person_id is None


def test_empty_gallery_and_no_faces():
    (da, _db, sa, _sb), g = people_ab()
    assert identify_fused(np.zeros((0, 128)), np.zeros((0, 128)), np.zeros(0), g, RULE) == []
    [m] = identify_fused(da[None], sa[None], np.array([100.0]), Gallery.empty(), RULE)
    assert m.person_id is None


def test_a_child_needs_the_higher_bar_an_adult_does_not():
    """Issue 29: a pupil candidate must clear the child threshold and margin (siblings lie
    closer than adults); the same face against an adult's templates keeps the adult rule."""
    (da, db, sa, sb), _ = people_ab()
    # fused 4.35: above the adult threshold (4.25), under the child threshold (4.5)
    face_d = near(da, RULE.dlib_impostor_mean - 3.9 * RULE.dlib_impostor_sd)
    face_s = cos_near(sa, RULE.sface_impostor_mean + 4.8 * RULE.sface_impostor_sd)
    adults = gallery([da, db], [sa, sb], [1, 2])
    children = Gallery(adults.dlib, adults.sface, adults.person_ids, np.array([True, False]))
    assert RULE.threshold < 4.35 < RULE.child_threshold
    assert one(adults, face_d, face_s).person_id == 1
    assert one(children, face_d, face_s).person_id is None
    # clearly the child: identified
    sure_d = near(da, RULE.dlib_impostor_mean - 4.5 * RULE.dlib_impostor_sd)
    sure_s = cos_near(sa, RULE.sface_impostor_mean + 5.5 * RULE.sface_impostor_sd)
    assert one(children, sure_d, sure_s).person_id == 1
    # the rival's being a child does not change the adult candidate's bar
    rival_child = Gallery(adults.dlib, adults.sface, adults.person_ids, np.array([False, True]))
    assert one(rival_child, face_d, face_s).person_id == 1


def test_a_child_placed_by_one_reference_photo_alone_is_not_identified():
    """Issue 29: a face very like one of a child's two reference photos and unlike the other (a
    sibling blended into that very photo) must not be shown as the child; a face both photos
    place is; an adult with the same two templates keeps the rule without the requirement."""
    (da, db, sa, sb), _ = people_ab()
    da2, sa2 = near(da, 0.45, seed=5), cos_near(sa, 0.6, seed=5)  # A's second reference photo
    dlib_rows, sface_rows, ids = [da, da2, db], [sa, sa2, sb], [1, 1, 2]
    adults = gallery(dlib_rows, sface_rows, ids)
    children = Gallery(adults.dlib, adults.sface, adults.person_ids,
                       np.array([True, True, False]))
    # fused 4.9 at A's first photo; far from A's second (2.4 at most, as the proxy's sibling)
    face_d = near(da, RULE.dlib_impostor_mean - 4.6 * RULE.dlib_impostor_sd, seed=7)
    face_s = cos_near(sa, RULE.sface_impostor_mean + 5.2 * RULE.sface_impostor_sd, seed=7)
    second = RULE.fused(np.linalg.norm(face_d - da2), float(face_s @ sa2))
    assert second < RULE.child_second
    assert one(children, face_d, face_s).person_id is None
    assert one(children, face_d, face_s, rule=replace(RULE, child_second=None)).person_id == 1
    assert one(adults, face_d, face_s).person_id == 1
    # a face both reference photos place is the child
    mid_d = (da + da2) / 2
    mid_s = (sa + sa2) / np.linalg.norm(sa + sa2)
    assert RULE.fused(np.linalg.norm(mid_d - da2), float(mid_s @ sa2)) >= RULE.child_second
    assert one(children, mid_d, mid_s).person_id == 1
    # one template only: the threshold alone, as before
    single = Gallery(np.stack([da, db]), np.stack([sa, sb]).astype(np.float32), np.array([1, 2]),
                     np.array([True, False]))
    assert one(single, face_d, face_s).person_id == 1


def test_headroom_is_how_far_a_face_is_from_being_named_or_near():
    """Issue 25: a video's track whose best frame leaves enough headroom is settled by that
    frame alone, so the headroom must be the least room any rule leaves: dlib alone, SFace
    alone, or the fused score (in impostor SDs); at most zero wherever anybody is near."""
    (da, db, sa, sb), g = people_ab()
    named = one(g, near(da, 0.3, seed=8), cos_near(sa, 0.8, seed=9))
    assert named.person_id == 1 and named.headroom is not None and named.headroom < 0
    stranger = one(g, unit(50), unit(51))  # far from both in both models
    assert stranger.near_person_ids == frozenset() and stranger.headroom is not None
    assert stranger.headroom > 2.5
    # SFace alone close to B (z 4.4 >= 4.25): near, so no headroom, whatever dlib says
    s_near = one(g, unit(52), cos_near(sb, RULE.sface_impostor_mean
                                       + 4.4 * RULE.sface_impostor_sd, seed=3))
    assert s_near.near_person_ids == frozenset({2}) and s_near.headroom <= 0
    # dlib alone within the legacy tolerance of A: near, no headroom
    d_near = one(g, near(da, RULE.legacy_tolerance - 0.02), unit(53))
    assert 1 in d_near.near_person_ids and d_near.headroom <= 0
    # SFace 2 SDs under the near line, dlib far: 2 SDs of headroom
    two_under = one(g, unit(54), cos_near(sb, RULE.sface_impostor_mean
                                          + (RULE.threshold - 2) * RULE.sface_impostor_sd,
                                          seed=4))
    assert two_under.near_person_ids == frozenset()
    assert abs(two_under.headroom - 2.0) < 0.05
    # not part of a match's identity: equal matches compare equal whatever their headroom
    assert replace(stranger, headroom=0.0) == stranger
