"""Issue 29's routes to recall, each measured on its own on the children's proxy, then together.

The threshold grid runs on the child threshold and margin (every enrolled person of the proxy is
a child); its pick became FusionRule's child_threshold and child_margin. A second grid, on the
tuning parts of both levels, runs on child_second (a child must be placed by their second-nearest
template too); its pick became FusionRule's child_second. A third, on the same parts, runs on
the blur floor (faces between it and sharp_from are soft: identified under the stricter margin);
its pick became EngineOptions.min_sharpness.

Every route is scored on both parts; only the tuning part chose anything (the grid's pick is the
setting with the most tuning faces recognised among those with no wrong person and no
un-enrolled face shown on the tuning part, and with a step of headroom: the next step looser on
the threshold also shows no one there). The held-back part is reported as it comes.
"""

from __future__ import annotations

import itertools
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from gatekeeper.domain.fusion import FusionRule

from .children_proxy import (
    CANVAS,
    GAP_YEARS,
    HARD,
    LEVELS,
    MORPH_SHARE,
    PARTS,
    SALT,
    SHOWINGS,
    SIBLING_SHARE,
    SIZES,
    SOFT_JPEG,
    cached,
)
from .common import write
from .proxy_eval import FLOOR, SHARP_FROM, Route, evaluate

NOW = FusionRule()
# The rule before issue 29's change: children held to the adults' threshold and margin
RULE = replace(NOW, child_threshold=NOW.threshold, child_margin=NOW.margin, child_second=None)
# The child rule before the second-template requirement (child_second)
NO_SECOND = replace(NOW, child_second=None)
SECONDS = (2.0, 2.25, 2.5, 2.75, 3.0, 3.25, 3.5, 3.75)
THRESHOLDS = (3.5, 3.75, 4.0, 4.25, 4.5)
MARGINS = (0.75, 1.0, 1.25)
MIN_EACH = (1.5, 2.0)
# Blur floors measured (faces under the floor too blurred, from it to SHARP_FROM soft)
FLOORS = (3.0, 4.0, 5.0, 6.0)
# References refused when their sharpness (Laplacian SD of the 64x64 crop) is under this
REFERENCE_SHARPNESS = (18.0, 22.0)


@dataclass(frozen=True)
class Weighted(FusionRule):
    """The fused score with SFace weighed `sface_weight` (the rule's own: a half)."""

    sface_weight: float = 0.5

    def fused(self, dist: Any, sims: Any) -> Any:
        return ((1 - self.sface_weight) * self.dlib_z(dist)
                + self.sface_weight * self.sface_z(sims))


def both(photos, route: Route) -> dict:
    return {part: evaluate(photos, part, route) for part in PARTS}


def safe(r: dict) -> bool:
    return r["wrong_person"] == 0 and r["unenrolled_shown"] == 0


def pick(photos, base: Route) -> tuple[FusionRule, list[dict]]:
    """The grid of one threshold, margin and each model's minimum for every face, on the tuning
    part, and its pick (see the module's doc)."""
    rows = []
    for t, m, e in itertools.product(THRESHOLDS, MARGINS, MIN_EACH):
        rule = replace(RULE, child_threshold=t, child_margin=m, min_each=e)
        r = evaluate(photos, "tuning", replace(base, rule_for=lambda rec, rule=rule: rule))
        rows.append({"threshold": t, "margin": m, "min_each": e, **r})
    by_key = {(x["threshold"], x["margin"], x["min_each"]): x for x in rows}

    def headroom(x: dict) -> bool:
        lower = [t for t in THRESHOLDS if t < x["threshold"]]
        return bool(lower) and safe(by_key[(max(lower), x["margin"], x["min_each"])])

    ok = [x for x in rows if safe(x) and headroom(x)] or [x for x in rows if safe(x)]
    best = max(ok, key=lambda x: (x["recognised_60px"], x["threshold"], x["margin"],
                                  x["min_each"]))
    return replace(RULE, child_threshold=best["threshold"], child_margin=best["margin"],
                   min_each=best["min_each"]), rows


def pick_second(levels: dict) -> tuple[float, list[dict]]:
    """child_second over SECONDS on the tuning part of every level (the default route
    otherwise), and its pick: the most children recognised (all levels together) among the
    settings with no wrong person and no un-enrolled face shown at any level, the next step
    lower also showing no one (headroom); ties to the larger value."""
    rows = []
    for v in SECONDS:
        rule = replace(NOW, child_second=v)
        per = {level: evaluate(photos, "tuning", Route(rule_for=lambda rec, rule=rule: rule))
               for level, photos in levels.items()}
        rows.append({"child_second": v, "safe": all(safe(r) for r in per.values()),
                     "recognised_60px": sum(r["recognised_60px"] for r in per.values()),
                     **{level: r for level, r in per.items()}})
    ok = [x for n, x in enumerate(rows) if x["safe"] and n > 0 and rows[n - 1]["safe"]]
    best = max(ok or [x for x in rows if x["safe"]] or rows,
               key=lambda x: (x["recognised_60px"], x["child_second"]))
    return best["child_second"], rows


def pick_floor(levels: dict) -> tuple[float, list[dict]]:
    """The blur floor over FLOORS on the tuning part of every level (soft faces between the
    floor and SHARP_FROM identified under the stricter margin, the default route otherwise), and
    its pick: the most children recognised among the settings with no wrong person and no
    un-enrolled face shown at any level; ties to the higher (stricter) floor."""
    rows = []
    for floor in FLOORS:
        per = {level: evaluate(photos, "tuning", Route(rule_for=lambda rec: NOW, floor=floor))
               for level, photos in levels.items()}
        rows.append({"floor": floor, "safe": all(safe(r) for r in per.values()),
                     "recognised_60px": sum(r["recognised_60px"] for r in per.values()),
                     **{level: r for level, r in per.items()}})
    best = max([x for x in rows if x["safe"]] or rows,
               key=lambda x: (x["recognised_60px"], x["floor"]))
    return best["floor"], rows


def routes_at(photos) -> tuple[dict[str, dict], list[dict]]:
    """Each route on its own against the issue's setting (plain references, the rule as it
    is, no confirmed face), then the two kept together."""
    before = Route(references="ref", rule_for=lambda rec: RULE, soft_faces=False)
    out: dict[str, dict] = {"before (plain references, as in the issue)": both(photos, before)}
    out["flip-averaged references (on)"] = both(photos, replace(before, references="ref_flip"))
    out["SFace aligned on landmarks found again"] = both(photos, replace(
        before, sface="sface_fine"))
    for s in REFERENCE_SHARPNESS:
        out[f"references refused under sharpness {s:g}"] = both(photos, replace(
            before, accept_reference=lambda rec, s=s: rec.sharp >= s))
    out["references refused under 150 px"] = both(photos, replace(
        before, accept_reference=lambda rec: rec.width >= 150))
    chosen, grid = pick(photos, before)
    out[f"one threshold tuned: {chosen.child_threshold}, margin {chosen.child_margin}, each "
        f"{chosen.min_each}"] = both(photos, replace(before, rule_for=lambda rec: chosen))
    lower = replace(RULE, child_threshold=4.0)
    out["threshold 4.0 for every face"] = both(photos, replace(
        before, rule_for=lambda rec: lower))
    out["threshold 4.0 for faces of 80 px or more (size-aware)"] = both(photos, replace(
        before, rule_for=lambda rec: lower if rec.width >= 80 else RULE))
    out["threshold 4.0 for sharp faces, sharpness 10 or more (quality-aware)"] = both(
        photos, replace(before, rule_for=lambda rec: lower if rec.sharp >= 10 else RULE))
    weighed = Weighted(sface_weight=0.65, child_threshold=4.5, child_margin=NOW.margin)
    out["SFace weighed 0.65 in the fused score, threshold 4.5"] = both(photos, replace(
        before, rule_for=lambda rec: weighed))
    out["a confirmed face of this school year as a template (DPO option)"] = both(
        photos, replace(before, confirmed=True))
    out["soft faces identified under the stricter margin (blur floor "
        f"{FLOOR:g}, sharp from {SHARP_FROM:g})"] = both(photos, replace(before, soft_faces=True))
    kept = Route(references="ref_flip", confirmed=True, rule_for=lambda rec: RULE,
                 soft_faces=False)
    out["flip-averaged references + confirmed faces of this school year"] = both(photos, kept)
    out[f"flip-averaged + confirmed + the tuned threshold ({chosen.child_threshold}, margin "
        f"{chosen.child_margin})"] = both(photos, replace(kept, rule_for=lambda rec: chosen))
    out["the child rule without the second-template requirement (before it)"] = both(
        photos, Route(rule_for=lambda rec: NO_SECOND, soft_faces=False))
    out["now without soft faces (the blur gate at sharp_from, before it)"] = both(
        photos, Route(rule_for=lambda rec: NOW, soft_faces=False))
    out["now, by default: flip-averaged references + the child rule"] = both(
        photos, Route(rule_for=lambda rec: NOW))
    out["now with the DPO's option: + confirmed faces of this school year"] = both(
        photos, Route(confirmed=True, rule_for=lambda rec: NOW))
    # Guidance to enrol three or more recent photos: three references where the person has a
    # fourth photo to probe with (else two, as before), against two on the very same probes
    three = Route(n_refs=3, rule_for=lambda rec: NOW)
    out["now, on the probes of the three-photo route (2 references, 4th photo on)"] = both(
        photos, Route(probes_after=3, rule_for=lambda rec: NOW))
    out["now + three reference photos where a person has four or more"] = both(photos, three)
    out["now + confirmed faces, on the probes of the three-photo route (2 references)"] = both(
        photos, Route(probes_after=3, confirmed=True, rule_for=lambda rec: NOW))
    out["now + three reference photos + confirmed faces of this school year"] = both(
        photos, replace(three, confirmed=True))
    # what the pooled rule (FusionRule.pool: the mean of the two nearest of 3+ templates) costs
    # there; measured only, the rule keeps it (it guards against a wrong confirmed template)
    nearest = replace(NOW, pool=1)
    out["now + three reference photos, nearest template alone (pooled rule off; not adopted)"] = (
        both(photos, replace(three, rule_for=lambda rec: nearest)))
    return out, grid


def run(engine_factory, cache: Path) -> dict:
    result: dict[str, object] = {"setting": {
        "salt": SALT, "sizes": SIZES, "gap_years": GAP_YEARS, "levels": LEVELS,
        "showings": SHOWINGS, "canvas": CANVAS, "hard": HARD, "soft_jpeg": SOFT_JPEG,
        "references": 2, "references_three_route": 3, "sibling_share": SIBLING_SHARE,
        "morph_share": MORPH_SHARE,
        "rule_before": asdict(RULE), "rule_now": asdict(NOW)}}
    levels = {}
    for level in LEVELS:
        photos, unusable = cached(engine_factory, cache, level)
        levels[level] = photos
        routes, grid = routes_at(photos)
        result[level] = {"routes": routes, "threshold_grid_tuning": grid,
                         "photos_without_usable_face": unusable}
    chosen, grid = pick_second(levels)
    result["child_second_grid_tuning"] = {"chosen": chosen, "rule_default": NOW.child_second,
                                          "grid": grid}
    floor, grid = pick_floor(levels)
    result["blur_floor_grid_tuning"] = {"chosen": floor, "engine_default": FLOOR,
                                        "sharp_from": SHARP_FROM, "grid": grid}
    write("children_proxy", result)
    return result
