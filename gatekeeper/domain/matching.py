"""Identification that fails closed: best person within tolerance AND every other person farther
by a margin; one vectorised distance computation against every template of every person."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np


@dataclass(frozen=True)
class Match:
    person_id: int | None  # None = unknown (covered)
    distance: float | None  # distance to the best person
    margin: float | None  # next-best person's distance minus best (None: nobody else enrolled)
    near_person_ids: frozenset[int]  # everyone within tolerance (used to block on safeguarding)
    # How far the face is from being named or placed near anybody, in impostor standard
    # deviations (domain.fusion: the least room left by dlib, SFace and their fused score);
    # None: not measured. Not part of the match's identity.
    headroom: float | None = field(default=None, compare=False)


UNKNOWN = Match(None, None, None, frozenset())


def identify(
    encodings: np.ndarray,
    templates: np.ndarray,
    template_person_ids: np.ndarray,
    tolerance: float,
    margin: float,
) -> list[Match]:
    """One Match per encoding row; a person seen twice in the same photo counts as ambiguous."""
    n = len(encodings)
    if n == 0:
        return []
    if len(templates) == 0:
        return [UNKNOWN] * n
    order = np.argsort(template_person_ids, kind="stable")
    ids_sorted = template_person_ids[order]
    people, starts = np.unique(ids_sorted, return_index=True)
    dist = np.linalg.norm(encodings[:, None, :] - templates[order][None, :, :], axis=2)
    per_person = np.minimum.reduceat(dist, starts, axis=1)  # (faces, people)
    ranked = np.argsort(per_person, axis=1)
    results: list[Match] = []
    for i in range(n):
        best = ranked[i, 0]
        best_d = float(per_person[i, best])
        second_d = float(per_person[i, ranked[i, 1]]) if len(people) > 1 else None
        gap = None if second_d is None else second_d - best_d
        near = frozenset(int(p) for p in people[per_person[i] <= tolerance])
        ok = best_d <= tolerance and (gap is None or gap >= margin)
        results.append(Match(int(people[best]) if ok else None, best_d, gap, near))
    return one_face_each(results)


def one_face_each(results: list[Match]) -> list[Match]:
    """A person matched to two faces of one photo is ambiguous for both (fail closed)."""
    seen: dict[int, int] = {}
    for m in results:
        if m.person_id is not None:
            seen[m.person_id] = seen.get(m.person_id, 0) + 1
    return [
        replace(m, person_id=None)
        if m.person_id is not None and seen[m.person_id] > 1 else m
        for m in results
    ]
