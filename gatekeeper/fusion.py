"""Identification with two embeddings (dlib and SFace) that fails closed.

A face is identified as person P only when BOTH models, each on its own, pick P with a margin:
  dlib:  P's nearest template within `dlib_tolerance` (Euclidean), and every other person at
         least `dlib_margin` farther;
  SFace: P's most similar template at least `sface_threshold` (cosine), and every other person
         at least `sface_margin` less similar.
Two independently trained networks rarely make the same mistake, so each rule can be looser than
either model would need alone; their agreement is what is trusted. Quality-aware: a face narrower
than `small_face_px` must clear stricter margins (`small_face_factor` times larger), and faces the
engine gated as too small, blurred or turned carry no encoding and are never identified.
A person matched by two faces of the same photo is ambiguous: both are covered.

Templates enrolled before the second model existed (no SFace vector) still count for dlib's
margin; a person with no SFace template at all can only be identified by dlib's rule at the
legacy setting (`legacy_tolerance`, `legacy_margin`), exactly as before fusion.

Pure functions on numpy arrays: no database, no model, nothing logged.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .matching import UNKNOWN, Match


@dataclass(frozen=True)
class FusionRule:
    dlib_tolerance: float = 0.55
    dlib_margin: float = 0.04
    sface_threshold: float = 0.40
    sface_margin: float = 0.08
    small_face_px: int = 60
    small_face_factor: float = 1.5
    legacy_tolerance: float = 0.5
    legacy_margin: float = 0.08


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


def _per_person(scores: np.ndarray, ids: np.ndarray, reduce) -> tuple[np.ndarray, np.ndarray]:
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
    face given its per-person dlib distances and SFace similarities (None: no SFace vector)."""
    strict = rule.small_face_factor if width < rule.small_face_px else 1.0
    best, best_d, second_d = _best_two(dist, larger_is_better=False)
    gap = None if second_d is None else second_d - best_d
    if not has_sface[best]:
        ok = best_d <= rule.legacy_tolerance and (gap is None or gap >= rule.legacy_margin * strict)
        return (best if ok else None), best_d, gap
    if sims is None or not np.isfinite(sims).any():
        return None, best_d, gap
    if best_d > rule.dlib_tolerance or (gap is not None and gap < rule.dlib_margin * strict):
        return None, best_d, gap
    s_best, s_val, s_second = _best_two(sims, larger_is_better=True)
    if s_best != best or s_val < rule.sface_threshold:
        return None, best_d, gap
    if s_second is not None and s_val - s_second < rule.sface_margin * strict:
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
        near = dist[i] <= max(rule.dlib_tolerance, rule.legacy_tolerance)
        if row_sims is not None:
            near |= row_sims >= rule.sface_threshold
        results.append(Match(None if chosen is None else int(people[chosen]), best_d, gap,
                             frozenset(int(p) for p in people[near])))
    seen: dict[int, int] = {}
    for m in results:
        if m.person_id is not None:
            seen[m.person_id] = seen.get(m.person_id, 0) + 1
    return [
        Match(None, m.distance, m.margin, m.near_person_ids)
        if m.person_id is not None and seen[m.person_id] > 1 else m
        for m in results
    ]
