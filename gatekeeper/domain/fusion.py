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
alone (bench/identification.py). Quality-aware: a face narrower than `small_face_px` must clear a
margin `small_face_factor` times larger; faces the engine gated as too small, blurred or turned
carry no encoding and are never identified. A person matched by two faces of one photo is
ambiguous: both are covered.

Templates enrolled before the second model existed (no SFace vector): a person with none at all
is identified by dlib alone at the legacy setting (`legacy_tolerance`, `legacy_margin`), exactly
as before fusion; as a rival of someone else they are assumed to look to SFace as much like the
face as the most similar person does (the worst case), so only dlib can separate them.

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
    template has none, and the person id of each row."""

    dlib: np.ndarray
    sface: np.ndarray
    person_ids: np.ndarray

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


def person_distances(encodings: np.ndarray, gallery: Gallery) -> tuple[np.ndarray, np.ndarray]:
    """dlib: people and (faces, people) Euclidean distance to each person's nearest template."""
    d = np.linalg.norm(encodings[:, None, :] - gallery.dlib[None, :, :], axis=2)
    return _per_person(d, gallery.person_ids, np.minimum)


def person_similarities(vectors: np.ndarray, gallery: Gallery) -> tuple[np.ndarray, np.ndarray]:
    """SFace: people and (faces, people) cosine similarity to each person's most similar template;
    -inf for a person without any SFace template. Rows are unit vectors."""
    missing = np.isnan(gallery.sface).any(axis=1)
    sims = np.nan_to_num(vectors, nan=0.0) @ np.nan_to_num(gallery.sface, nan=0.0).T.astype(np.float64)
    sims[:, missing] = -np.inf
    return _per_person(sims, gallery.person_ids, np.maximum)


def _best_two(row: np.ndarray, larger_is_better: bool) -> tuple[int, float, float | None]:
    order = np.argsort(-row if larger_is_better else row, kind="stable")
    best = int(order[0])
    second = float(row[order[1]]) if len(row) > 1 and np.isfinite(row[order[1]]) else None
    return best, float(row[best]), second


def decide_one(dist: np.ndarray, sims: np.ndarray | None, has_sface: np.ndarray, width: float,
               rule: FusionRule) -> tuple[int | None, float, float | None]:
    """Index of the identified person (or None), dlib's best distance and dlib's gap, for one
    face given its per-person dlib distances and SFace similarities (None: no SFace vector;
    -inf for people without an SFace template)."""
    strict = rule.small_face_factor if width < rule.small_face_px else 1.0
    best, best_d, second_d = _best_two(dist, larger_is_better=False)
    gap = None if second_d is None else second_d - best_d
    if not has_sface[best]:
        ok = best_d <= rule.legacy_tolerance and (gap is None or gap >= rule.legacy_margin * strict)
        return (best if ok else None), best_d, gap
    if sims is None:
        return None, best_d, gap
    s_best = int(np.argmax(sims))
    if s_best != best:  # the two models disagree on who this is
        return None, best_d, gap
    worst_case = np.where(has_sface, sims, sims[s_best])
    fused = rule.fused(dist, worst_case)
    f_best = float(fused[best])
    rivals = np.delete(fused, best)
    if f_best < rule.threshold or min(rule.dlib_z(best_d), rule.sface_z(sims[best])) < rule.min_each:
        return None, best_d, gap
    if len(rivals) and f_best - float(rivals.max()) < rule.margin * strict:
        return None, best_d, gap
    return best, best_d, gap


def identify_fused(
    encodings: np.ndarray,
    sface_encodings: np.ndarray,
    widths: np.ndarray,
    gallery: Gallery,
    rule: FusionRule,
) -> list[Match]:
    """One Match per face row. `sface_encodings` rows may be NaN (no SFace vector for the face:
    then only legacy persons can be identified). Distance and margin reported are dlib's."""
    n = len(encodings)
    if n == 0:
        return []
    if len(gallery) == 0:
        return [UNKNOWN] * n
    people, dist = person_distances(np.asarray(encodings, np.float64), gallery)
    sface = np.asarray(sface_encodings, np.float64)
    _, sims = person_similarities(sface, gallery)
    has_sface = np.isfinite(sims[0]) if len(sims) else np.zeros(len(people), bool)
    results: list[Match] = []
    for i in range(n):
        row_sims = None if np.isnan(sface[i]).any() else sims[i]
        chosen, best_d, gap = decide_one(dist[i], row_sims, has_sface, float(widths[i]), rule)
        # Anyone either model alone (or the fused score) places near: safeguarding blocks on them.
        near = dist[i] <= rule.legacy_tolerance
        if row_sims is not None:
            known = np.where(has_sface, row_sims, -np.inf)
            near |= (rule.sface_z(known) >= rule.threshold) | (rule.fused(dist[i], known) >= rule.threshold)
        results.append(Match(None if chosen is None else int(people[chosen]), best_d, gap,
                             frozenset(int(p) for p in people[near])))
    return one_face_each(results)
