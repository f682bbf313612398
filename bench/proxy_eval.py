"""Scoring the children's proxy (bench/children_proxy.py) under one route: which reference
encodings, which SFace alignment, which references are refused, which rule for which face, and
whether a face an editor confirmed this school year is a template.

Counts per part: enrolled faces of 60 px or more recognised (of those boxed), wrong person (any
size), un-enrolled shown (any size: strangers, group-photo faces, each enrolled person left out,
look-alike pairs), faces with no box, references refused.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from gatekeeper.adapters.engine.options import EngineOptions
from gatekeeper.domain.fusion import FusionRule, Gallery, identify_fused

from .children_proxy import N_REFS, Photo, Rec, lookalike_pairs

NAN = np.full(128, np.nan, dtype=np.float32)
FLOOR, SHARP_FROM = EngineOptions().min_sharpness, EngineOptions().sharp_from


@dataclass(frozen=True)
class Route:
    """One way of identifying: the references' encodings ("ref" or "ref_flip"), SFace's vectors
    ("sface" or "sface_fine", the latter on landmarks found again at the best scale), which
    reference photos are accepted, the rule for each probe, a confirmed template."""

    references: str = "ref_flip"
    sface: str = "sface"
    accept_reference: Callable[[Rec], bool] = lambda rec: True
    rule_for: Callable[[Rec], FusionRule] = lambda rec: FusionRule()
    confirmed: bool = False
    # Reference photos per person: up to `n_refs` where the person has a photo left to probe
    # with (never fewer than N_REFS); `probes_after`: the person's first photos kept out of the
    # probes besides the references (always one left), so that routes with 2 and 3 references
    # meet the same probes.
    n_refs: int = N_REFS
    probes_after: int | None = None
    # The blur gate: probes under `floor` are too blurred (never identified); from there to
    # SHARP_FROM they are soft (the stricter margin). `soft_faces` False: the gate before
    # issue 29's change, every face under SHARP_FROM too blurred.
    soft_faces: bool = True
    floor: float = FLOOR


def gated(rec: Rec, route: Route) -> bool:
    """Whether the engine would give this face no encoding under the route's blur gate."""
    return rec.dlib is None or rec.sharp < (route.floor if route.soft_faces else SHARP_FROM)


def _sf(rec: Rec, key: str) -> np.ndarray:
    v = getattr(rec, key)
    return NAN if v is None else np.asarray(v, np.float32)


def _gallery(rows: list[tuple[int, Rec]], key: str) -> Gallery:
    if not rows:
        return Gallery.empty()
    return Gallery(np.stack([r.dlib for _, r in rows]),
                   np.stack([_sf(r, key) for _, r in rows]),
                   np.array([i for i, _ in rows], dtype=np.int64),
                   np.ones(len(rows), dtype=bool))  # every enrolled person is a child


def _who(g: Gallery, rec: Rec, route: Route) -> int | None:
    if gated(rec, route) or len(g) == 0:
        return None
    assert rec.dlib is not None
    return identify_fused(rec.dlib[None], _sf(rec, route.sface)[None],
                          np.array([rec.width]), g, route.rule_for(rec),
                          soft=np.array([rec.sharp < SHARP_FROM]))[0].person_id


def _confirmed_for(photos: list[Photo], j: int, gap: int) -> Rec | None:
    """A face an editor confirmed this school year: one showing of another probe photo of the
    person (the same age as the probe, so the showing with the nearest gap), usable as a
    template (boxed at 40 px or more with both embeddings, and sharp: a soft face is never a
    template)."""
    best: tuple[int, Rec] | None = None
    for k, other in enumerate(photos):
        if k == j:
            continue
        for rec, meta in zip(other.probes, other.probe_meta, strict=True):
            if rec is None or rec.dlib is None or rec.sface is None or rec.sharp < SHARP_FROM:
                continue
            d = abs(meta["gap"] - gap)
            if best is None or d < best[0]:
                best = (d, rec)
    return None if best is None else best[1]


def evaluate(photos: list[Photo], part: str, route: Route) -> dict:
    people: dict[str, list[Photo]] = {}
    for p in photos:
        if p.part == part and ":" not in p.identity:
            people.setdefault(p.identity, []).append(p)
    every: dict[tuple[str, str], Photo] = {(p.identity, p.file): p for p in photos}
    refs: dict[str, list[Photo]] = {}
    probes: dict[str, list[Photo]] = {}
    refused = 0
    for name, mine in people.items():
        if len(mine) <= N_REFS:
            continue
        ok = [p for p in mine if route.accept_reference(getattr(p, route.references))]
        n = max(N_REFS, min(route.n_refs, len(ok) - 1))
        refused += sum(1 for p in mine[:n] if p not in ok[:n])
        # a refused reference photo is replaced by the person's next photo (the DPO enrols
        # another), as long as one is left to probe with
        chosen = ok[:n] if len(ok) > n else []
        if chosen:
            refs[name] = chosen
            held = mine[:min(len(mine) - 1, route.probes_after or 0)]
            probes[name] = [p for p in mine if p not in chosen and p not in held]
    names = sorted(refs)
    rows = [(i, getattr(p, route.references)) for i, n in enumerate(names) for p in refs[n]]
    full = _gallery(rows, route.sface)
    c = dict.fromkeys(("genuine_60px", "recognised_60px", "wrong_person", "unenrolled_shown",
                       "unenrolled_probes", "no_box", "gated_60px"), 0)
    for i, name in enumerate(names):
        without = _gallery([r for r in rows if r[0] != i], route.sface)
        for j, photo in enumerate(probes[name]):
            for rec, meta in zip(photo.probes, photo.probe_meta, strict=True):
                if rec is None:
                    c["no_box"] += 1
                    continue
                g = full
                if route.confirmed:
                    extra = _confirmed_for(probes[name], j, meta["gap"])
                    if extra is not None:
                        g = _gallery(rows + [(i, extra)], route.sface)
                got = _who(g, rec, route)
                c["wrong_person"] += got is not None and got != i
                if rec.width >= 60:
                    c["genuine_60px"] += 1
                    c["recognised_60px"] += got == i
                    c["gated_60px"] += gated(rec, route)
                c["unenrolled_probes"] += 1
                c["unenrolled_shown"] += _who(without, rec, route) is not None
    strangers = [p for p in photos if p.part == part and not p.identity.startswith("morph:")
                 and (":" in p.identity or p.identity not in refs)]
    c |= {"sibling_probes": 0, "sibling_shown": 0, "morph_probes": 0, "morph_shown": 0}
    for p in strangers:
        for rec in p.probes:
            if rec is None:
                c["no_box"] += 1
                continue
            shown = _who(full, rec, route) is not None
            c["unenrolled_probes"] += 1
            c["unenrolled_shown"] += shown
            if p.identity.startswith("sibling:"):
                c["sibling_probes"] += 1
                c["sibling_shown"] += shown
    for p in photos:  # half-and-half morphs: closer than siblings, reported apart
        if p.part == part and p.identity.startswith("morph:"):
            for rec in p.probes:
                if rec is not None:
                    c["morph_probes"] += 1
                    c["morph_shown"] += _who(full, rec, route) is not None
    lookalikes = 0
    for ida, fa, idb, fb in lookalike_pairs():
        a, b = every.get((ida, fa)), every.get((idb, fb))
        if a is None or b is None or b.part != part:
            continue
        keep = [r for r in rows if names[r[0]] != idb] if idb in refs else rows
        g = _gallery(keep + [(-1, getattr(a, route.references))], route.sface)
        for rec in b.probes:
            if rec is None:
                continue
            lookalikes += 1
            c["unenrolled_probes"] += 1
            c["unenrolled_shown"] += _who(g, rec, route) is not None
    return {**c, "recall_60px": round(c["recognised_60px"] / max(1, c["genuine_60px"]), 4),
            "enrolled_people": len(names), "references_refused": refused,
            "references_enrolled": len(rows),
            "stranger_faces": sum(len(p.probes) for p in strangers),
            "lookalike_probes": lookalikes}
