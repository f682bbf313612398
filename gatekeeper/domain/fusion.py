"""Identification with two embeddings (dlib and SFace) that fails closed.

Each model's score for a person is calibrated against unrelated faces: how many standard
deviations of the impostor distribution (pairs of different people) the face is from that
distribution's mean, dlib on its distance to the person's nearest template, SFace on its cosine
similarity to the person's most similar template. The fused score is their mean:

    fused(P) = ((dlib_mean - d(P)) / dlib_sd + (s(P) - sface_mean) / sface_sd) / 2

A face is identified as person B only when
  - both models, each on its own, rank B first (they agree on the person) and each is at least
    `min_each` impostor SDs sure of B,
  - fused(B) >= threshold, and
  - every other person's fused score is at least `margin` lower (the margin rule, in fused units).
Two independently trained networks rarely make the same mistake on the same face, so their
impostor tails are weakly correlated and the fused score separates people better than either
alone (bench/identification.py). Quality-aware: a face narrower than `small_face_px`, or soft (a
little blurred: the engine's FaceQuality.SOFT), must clear a margin `small_face_factor` times
larger; faces the engine gated as too small, too blurred or turned carry no encoding and are
never identified. A person matched by two faces of one photo is
ambiguous: both are covered.

Several templates per person (reference photos over the years, faces editors confirmed): a
person with at least `pool_from` templates of a model must also be close on average to their
`pool` best templates of that model, not only to one (the nearest). The face's candidate is still
chosen by the nearest templates, and every rival keeps their nearest template's score, so the
pooled rule only ever identifies fewer faces than the nearest-template rule; what it refuses is a
face that resembles a single template of the person and none of the others: above all a template
of the wrong person (an editor's confirmation later contradicted), which alone would otherwise
show every face of that other child as the person.

Children (pupils) are held to a higher bar: `child_threshold` and `child_margin` instead of
`threshold` and `margin` when the candidate is a child. Children's faces lie closer together than
adults', and a school holds siblings: on the children's proxy (bench/children_proxy.py, tuning
part) a sibling's face (an enrolled child's face blended with another's) was shown as the
enrolled child at threshold 4.0, and on the held-back part one was at 4.25; 4.5 with margin 1.25
was the setting with the most children recognised that kept a step of headroom. Adults (staff,
visitors) keep the rule measured on the shared adult photos.

A child with two or more templates of a model must also be placed by the second nearest of them:
the fused score at each model's second-nearest template must reach `child_second` (3.0). A face
that resembles one reference photo of the child and not the other is refused: on the proxy's
harsh level a sibling blended into one of the enrolled child's own reference photos (same hair,
same background) scored 4.65 against that photo and 2.40 against the other, and was shown as the
child under the threshold and margin alone. On the tuning parts of both levels every child
recognised without the requirement is still recognised from 2.0 up to 3.0 (3.25 loses one), and
the sibling is covered from 2.5: 3.0 keeps a step of headroom either side. With one template of
a model that model's nearest stands in for the second; with three or more the requirement stands
beside the pooled rule. Adults keep the rule without it.

Templates enrolled before the second model existed (no SFace vector): a person with none at all
is identified by dlib alone at the legacy setting (`legacy_tolerance`, `legacy_margin`), exactly
as before fusion; as a rival of someone else they are assumed to look to SFace as much like the
face as the most similar person does (the worst case), so only dlib can separate them.

Each match also says how far the face is from being named or near anybody (`Match.headroom`,
in impostor SDs: the least room dlib alone, SFace alone and the fused score leave under the
near line): a video settles a crowd's stranger by one frame when it is far.

Pure functions on numpy arrays: no database, no model, nothing logged.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from gatekeeper.domain.matching import UNKNOWN, Match, one_face_each


@dataclass(frozen=True)
class FusionRule:
    # Impostor statistics (different-person pairs) measured on the shared photos, probes at native
    # size and pasted at 45-160 px against native photos, 42 000 pairs: `make bench` re-measures
    # them (impostor_stats in bench/results/identification.json).
    dlib_impostor_mean: float = 0.86
    dlib_impostor_sd: float = 0.085
    sface_impostor_mean: float = 0.105
    sface_impostor_sd: float = 0.091
    threshold: float = 4.25
    margin: float = 1.0
    # Each model on its own must also be this sure (in its impostor SDs): one very sure model
    # cannot carry a face the other barely places (dlib <= 0.69, SFace >= 0.29 by default).
    min_each: float = 2.0
    small_face_px: int = 60
    small_face_factor: float = 1.5
    legacy_tolerance: float = 0.5
    legacy_margin: float = 0.08
    # A person with at least `pool_from` templates of a model is scored, as the candidate, by the
    # mean of their `pool` best ones (1: the nearest alone, as before).
    pool: int = 2
    pool_from: int = 3
    # A child candidate (a pupil) must clear these instead of `threshold` and `margin`.
    child_threshold: float = 4.5
    child_margin: float = 1.25
    # ... and, with two or more templates of a model, be placed by the second nearest of them
    # too: the fused score at each model's second-nearest template at least this (None: no
    # such requirement). See the module's doc.
    child_second: float | None = 3.0

    def dlib_z(self, dist: Any) -> Any:
        return (self.dlib_impostor_mean - dist) / self.dlib_impostor_sd

    def sface_z(self, sims: Any) -> Any:
        return (sims - self.sface_impostor_mean) / self.sface_impostor_sd

    def fused(self, dist: Any, sims: Any) -> Any:
        """Mean of the two models' certainty, in impostor standard deviations (arrays or floats)."""
        return (self.dlib_z(dist) + self.sface_z(sims)) / 2


@dataclass(frozen=True)
class Gallery:
    """Every template of every person: dlib rows (T, 128), SFace rows (T, 128) with NaN where a
    template has none, the person id of each row, and (optionally) whether its person is a child
    (None: nobody is)."""

    dlib: np.ndarray
    sface: np.ndarray
    person_ids: np.ndarray
    children: np.ndarray | None = None

    @classmethod
    def empty(cls) -> Gallery:
        return cls(np.zeros((0, 128)), np.zeros((0, 128), np.float32), np.zeros((0,), np.int64))

    def __len__(self) -> int:
        return len(self.person_ids)


def _per_person(scores: np.ndarray, ids: np.ndarray,
                reduce: np.ufunc) -> tuple[np.ndarray, np.ndarray]:
    """The people (sorted ids) and (faces, people) each person's best template score."""
    order = np.argsort(ids, kind="stable")
    people, starts = np.unique(ids[order], return_index=True)
    return people, reduce.reduceat(scores[:, order], starts, axis=1)


def _pooled(cost: np.ndarray, ids: np.ndarray, pool: int, pool_from: int) -> np.ndarray:
    """(faces, people in sorted id order): each person's mean cost over their `pool` lowest-cost
    templates when they have at least `pool_from` finite ones, else their lowest cost."""
    order = np.argsort(ids, kind="stable")
    people, starts, counts = np.unique(ids[order], return_index=True, return_counts=True)
    ordered = cost[:, order]
    out = np.minimum.reduceat(ordered, starts, axis=1)
    if pool <= 1:
        return out
    finite = np.isfinite(ordered).all(axis=0) if len(ordered) else np.zeros(len(ids), bool)
    for j in range(len(people)):
        cols = np.flatnonzero(finite[starts[j]:starts[j] + counts[j]]) + starts[j]
        if len(cols) >= max(pool_from, pool):
            out[:, j] = np.partition(ordered[:, cols], pool - 1, axis=1)[:, :pool].mean(axis=1)
    return out


def _second(cost: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """(faces, people in sorted id order): each person's second-lowest finite cost when they
    have two or more finite ones, else their lowest."""
    order = np.argsort(ids, kind="stable")
    people, starts, counts = np.unique(ids[order], return_index=True, return_counts=True)
    ordered = cost[:, order]
    out = np.minimum.reduceat(ordered, starts, axis=1)
    finite = np.isfinite(ordered).all(axis=0) if len(ordered) else np.zeros(len(ids), bool)
    for j in range(len(people)):
        cols = np.flatnonzero(finite[starts[j]:starts[j] + counts[j]]) + starts[j]
        if len(cols) >= 2:
            out[:, j] = np.partition(ordered[:, cols], 1, axis=1)[:, 1]
    return out


def _template_distances(encodings: np.ndarray, gallery: Gallery) -> np.ndarray:
    return np.asarray(np.linalg.norm(encodings[:, None, :] - gallery.dlib[None, :, :], axis=2))


def _template_similarities(vectors: np.ndarray, gallery: Gallery) -> np.ndarray:
    missing = np.isnan(gallery.sface).any(axis=1)
    sims = np.nan_to_num(vectors, nan=0.0) @ np.nan_to_num(gallery.sface, nan=0.0).T.astype(np.float64)
    sims[:, missing] = -np.inf
    return np.asarray(sims)


def person_distances(encodings: np.ndarray, gallery: Gallery) -> tuple[np.ndarray, np.ndarray]:
    """dlib: people and (faces, people) Euclidean distance to each person's nearest template."""
    return _per_person(_template_distances(encodings, gallery), gallery.person_ids, np.minimum)


def person_similarities(vectors: np.ndarray, gallery: Gallery) -> tuple[np.ndarray, np.ndarray]:
    """SFace: people and (faces, people) cosine similarity to each person's most similar template;
    -inf for a person without any SFace template. Rows are unit vectors."""
    return _per_person(_template_similarities(vectors, gallery), gallery.person_ids, np.maximum)


def _best_two(row: np.ndarray, larger_is_better: bool) -> tuple[int, float, float | None]:
    order = np.argsort(-row if larger_is_better else row, kind="stable")
    best = int(order[0])
    second = float(row[order[1]]) if len(row) > 1 and np.isfinite(row[order[1]]) else None
    return best, float(row[best]), second


def decide_one(dist: np.ndarray, sims: np.ndarray | None, has_sface: np.ndarray, width: float,
               rule: FusionRule, pooled_dist: np.ndarray | None = None,
               pooled_sims: np.ndarray | None = None,
               child: np.ndarray | None = None, second_dist: np.ndarray | None = None,
               second_sims: np.ndarray | None = None,
               soft: bool = False) -> tuple[int | None, float, float | None]:
    """Index of the identified person (or None), dlib's best distance and dlib's gap, for one
    face given its per-person dlib distances and SFace similarities to their nearest templates
    (sims None: no SFace vector; -inf for people without an SFace template) and, optionally,
    the pooled ones (see FusionRule.pool): the candidate must clear the rule on those too.
    `child`: per person, whether they are a child (the child threshold and margin apply);
    `second_dist`, `second_sims`: per person, each model's score at their second-nearest
    template (FusionRule.child_second); `soft`: the face is a little blurred (held to the
    small face's margin)."""
    strict = rule.small_face_factor if soft or width < rule.small_face_px else 1.0
    best, best_d, second_d = _best_two(dist, larger_is_better=False)
    gap = None if second_d is None else second_d - best_d
    own_d = best_d if pooled_dist is None else max(best_d, float(pooled_dist[best]))
    if not has_sface[best]:
        ok = own_d <= rule.legacy_tolerance and (
            second_d is None or second_d - own_d >= rule.legacy_margin * strict)
        return (best if ok else None), best_d, gap
    if sims is None:
        return None, best_d, gap
    s_best = int(np.argmax(sims))
    if s_best != best:  # the two models disagree on who this is
        return None, best_d, gap
    worst_case = np.where(has_sface, sims, sims[s_best])
    fused = rule.fused(dist, worst_case)
    own_s = float(sims[best]) if pooled_sims is None else min(float(sims[best]),
                                                              float(pooled_sims[best]))
    f_best = float(rule.fused(own_d, own_s))  # never more than at the nearest templates
    rivals = np.delete(fused, best)  # every rival at their nearest templates: the worst case
    is_child = child is not None and bool(child[best])
    threshold = rule.child_threshold if is_child else rule.threshold
    margin = rule.child_margin if is_child else rule.margin
    if f_best < threshold or min(rule.dlib_z(own_d), rule.sface_z(own_s)) < rule.min_each:
        return None, best_d, gap
    if (is_child and rule.child_second is not None and second_dist is not None
            and second_sims is not None
            and float(rule.fused(second_dist[best], second_sims[best])) < rule.child_second):
        return None, best_d, gap  # one template alone places the face: not enough for a child
    if len(rivals) and f_best - float(rivals.max()) < margin * strict:
        return None, best_d, gap
    return best, best_d, gap


def identify_fused(
    encodings: np.ndarray,
    sface_encodings: np.ndarray,
    widths: np.ndarray,
    gallery: Gallery,
    rule: FusionRule,
    soft: np.ndarray | None = None,
) -> list[Match]:
    """One Match per face row. `sface_encodings` rows may be NaN (no SFace vector for the face:
    then only legacy persons can be identified). `soft`: per face, whether it is a little
    blurred (the stricter margin applies). Distance and margin reported are dlib's."""
    n = len(encodings)
    if n == 0:
        return []
    if len(gallery) == 0:
        return [UNKNOWN] * n
    ids = gallery.person_ids
    t_dist = _template_distances(np.asarray(encodings, np.float64), gallery)
    sface = np.asarray(sface_encodings, np.float64)
    t_sims = _template_similarities(sface, gallery)
    people, dist = _per_person(t_dist, ids, np.minimum)
    _, sims = _per_person(t_sims, ids, np.maximum)
    pooled_dist = _pooled(t_dist, ids, rule.pool, rule.pool_from)
    pooled_sims = -_pooled(-t_sims, ids, rule.pool, rule.pool_from)
    second_dist = _second(t_dist, ids)
    second_sims = -_second(-t_sims, ids)
    has_sface = np.isfinite(sims[0]) if len(sims) else np.zeros(len(people), bool)
    child = None if gallery.children is None else _per_person(
        np.asarray(gallery.children, np.float64)[None], ids, np.maximum)[1][0] > 0
    results: list[Match] = []
    for i in range(n):
        row_sims = None if np.isnan(sface[i]).any() else sims[i]
        chosen, best_d, gap = decide_one(dist[i], row_sims, has_sface, float(widths[i]), rule,
                                         pooled_dist[i], None if row_sims is None else pooled_sims[i],
                                         child, second_dist[i],
                                         None if row_sims is None else second_sims[i],
                                         soft=soft is not None and bool(soft[i]))
        # Anyone either model alone (or the fused score) places near: safeguarding blocks on them.
        near = dist[i] <= rule.legacy_tolerance
        room = (float(dist[i].min()) - rule.legacy_tolerance) / rule.dlib_impostor_sd
        if row_sims is not None:
            known = np.where(has_sface, row_sims, -np.inf)
            s_z, f_z = rule.sface_z(known), rule.fused(dist[i], known)
            near |= (s_z >= rule.threshold) | (f_z >= rule.threshold)
            room = min(room, min(rule.threshold, rule.child_threshold)
                       - float(max(s_z.max(), f_z.max())))
        results.append(Match(None if chosen is None else int(people[chosen]), best_d, gap,
                             frozenset(int(p) for p in people[near]), room))
    return one_face_each(results)
