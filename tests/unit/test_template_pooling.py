"""Several templates per person: a person with three or more is scored, as the candidate, by the
mean of their two best templates, while rivals keep their nearest. One wrong template then no
longer carries another child's faces, and the rule never identifies a face the nearest-template
rule would not."""

from __future__ import annotations

import numpy as np

from gatekeeper.domain.fusion import FusionRule, Gallery, identify_fused
from tests.unit.test_fusion import cos_near, near, one, unit

POOLED, NEAREST = FusionRule(), FusionRule(pool=1)


def _person_a_with_a_wrong_template() -> Gallery:
    """A (id 1): three templates of their own and one made from B's face; C (id 3): one."""
    dlib = [near(unit(1), 0.25, seed=k) for k in range(3)] + [unit(2), unit(3)]
    sface = [cos_near(unit(11), 0.8, seed=k) for k in range(3)] + [unit(12), unit(13)]
    return Gallery(np.stack(dlib), np.stack(sface).astype(np.float32), np.array([1, 1, 1, 1, 3]))


def test_one_wrong_template_no_longer_shows_the_other_childs_faces():
    g = _person_a_with_a_wrong_template()
    b_face = (near(unit(2), 0.2, seed=50), cos_near(unit(12), 0.8, seed=50))
    assert one(g, *b_face, rule=NEAREST).person_id == 1  # the nearest rule shows B as A
    assert one(g, *b_face, rule=POOLED).person_id is None  # covered
    a_face = (near(unit(1), 0.2, seed=60), cos_near(unit(11), 0.8, seed=60))
    assert one(g, *a_face, rule=POOLED).person_id == 1  # A is still recognised


def test_people_with_fewer_templates_are_scored_as_before():
    g = _person_a_with_a_wrong_template()
    c_face = (near(unit(3), 0.3, seed=70), cos_near(unit(13), 0.7, seed=70))
    assert one(g, *c_face, rule=POOLED) == one(g, *c_face, rule=NEAREST)
    assert one(g, *c_face, rule=POOLED).person_id == 3


def test_pooled_never_identifies_what_nearest_would_not():
    rng = np.random.default_rng(5)
    for trial in range(150):
        n_people = int(rng.integers(2, 5))
        dlib, sface, ids = [], [], []
        for p in range(n_people):
            for k in range(int(rng.integers(1, 6))):
                seed = 1000 * trial + 10 * p + k
                dlib.append(near(unit(100 + p), float(rng.uniform(0.1, 0.6)), seed=seed))
                sface.append(cos_near(unit(200 + p), float(rng.uniform(0.3, 0.9)), seed=seed))
                ids.append(p)
        g = Gallery(np.stack(dlib), np.stack(sface).astype(np.float32), np.array(ids))
        faces = [near(unit(100 + int(rng.integers(n_people))), float(rng.uniform(0.1, 0.7)),
                      seed=trial + 7) for _ in range(3)]
        vectors = [cos_near(unit(200 + int(rng.integers(n_people))), float(rng.uniform(0.2, 0.9)),
                            seed=trial + 8) for _ in range(3)]
        args = (np.stack(faces), np.stack(vectors).astype(np.float32), np.full(3, 90.0), g)
        for pooled, nearest in zip(identify_fused(*args, POOLED), identify_fused(*args, NEAREST),
                                   strict=True):
            assert pooled.person_id is None or pooled.person_id == nearest.person_id
