"""Identification scenarios on the shared people photos: false shows and false covers over a grid
of tolerance x margin, faces at native size and pasted at class-photo sizes."""

from __future__ import annotations

import itertools
from collections import defaultdict
from dataclasses import asdict, replace

import numpy as np
from PIL import Image

from gatekeeper.adapters.engine.found import FaceQuality
from gatekeeper.domain.fusion import FusionRule, Gallery, identify_fused
from gatekeeper.domain.images import decode
from gatekeeper.domain.matching import identify
from gatekeeper.errors import InvalidImage

from .common import require_faces, write

PASTE_SIZES = (30, 45, 60, 90, 120, 160)
TOLERANCES = tuple(round(x, 3) for x in np.arange(0.35, 0.625, 0.025))
MARGINS = (0.0, 0.02, 0.04, 0.06, 0.08, 0.1, 0.12, 0.15)


def main_face(faces):
    return max(faces, key=lambda f: f.box.width) if faces else None


def pasted(img: Image.Image, box, face_px: int, rng) -> tuple[Image.Image, tuple[int, int, int, int]]:
    """The photo scaled so its face is `face_px` wide, pasted on a 1600x1200 crowd-like canvas."""
    scale = face_px / max(1, box.width)
    small = img.resize((max(1, round(img.width * scale)), max(1, round(img.height * scale))),
                       Image.Resampling.LANCZOS)
    canvas = Image.new("RGB", (1600, 1200), tuple(int(v) for v in rng.integers(60, 200, 3)))
    x = int(rng.integers(0, max(1, 1600 - small.width)))
    y = int(rng.integers(0, max(1, 1200 - small.height)))
    canvas.paste(small, (x, y))
    fx, fy = x + box.left * scale, y + box.top * scale
    return canvas, (fx, fy, fx + box.width * scale, fy + box.height * scale)


def encode_probe(engine, img, where=None):
    faces = [f for f in engine.find_faces(img, look_sideways=False)]
    if where is not None:
        x0, y0, x1, y1 = where
        faces = [f for f in faces if x0 - 10 <= (f.box.left + f.box.right) / 2 <= x1 + 10
                 and y0 - 10 <= (f.box.top + f.box.bottom) / 2 <= y1 + 10]
    face = main_face(faces)
    if face is None:
        return (None, 0, None, False)
    return (face.encoding, face.box.width, face.sface_encoding, face.quality is FaceQuality.SOFT)


def collect(engine):
    """Encodings of every usable single-face photo, per identity, at native and pasted sizes."""
    faces_dir = require_faces()
    rng = np.random.default_rng(7)
    by_identity: dict[str, list[dict]] = defaultdict(list)
    for folder in sorted((faces_dir / "people").iterdir()):
        if folder.name == "unnamed":
            continue
        for path in sorted(folder.iterdir()):
            try:
                img = decode(path.read_bytes(), 200_000_000).pixels
            except InvalidImage:
                continue
            found = engine.find_faces(img, look_sideways=False)
            face = main_face(found)
            # a reference must be sharp: enrolment refuses a soft face as too blurred
            if face is None or face.encoding is None or face.quality is not FaceQuality.OK:
                continue
            sizes = {"native": (face.encoding, face.box.width, face.sface_encoding, False)}
            for px in PASTE_SIZES:
                canvas, where = pasted(img, face.box, px, rng)
                sizes[px] = encode_probe(engine, canvas, where)
            by_identity[folder.name].append({"file": path.name, "sizes": sizes})
    return by_identity


def lookalike_pairs(faces_dir) -> list[tuple[str, str, str, str]]:
    """Different-person pairs from PAIRS.csv: (identity_a, file_a, identity_b, file_b)."""
    import csv

    rows = csv.DictReader((faces_dir / "PAIRS.csv").open())
    return [(r["identity_a"], r["path_a"].rsplit("/", 1)[1], r["identity_b"],
             r["path_b"].rsplit("/", 1)[1]) for r in rows if r["same_identity"] == "0"]


def _gallery(rows: list[tuple[int, tuple]]) -> Gallery:
    """A Gallery of (person index, (dlib, width, sface)) rows."""
    if not rows:
        return Gallery.empty()
    nan = np.full(128, np.nan, dtype=np.float32)
    return Gallery(np.stack([r[1][0] for r in rows]),
                   np.stack([nan if r[1][2] is None else r[1][2] for r in rows]).astype(np.float32),
                   np.array([r[0] for r in rows], dtype=np.int64))


def dlib_decider(tolerance: float, margin: float):
    """dlib alone, today's rule (gatekeeper.domain.matching.identify)."""
    def decide(g: Gallery, probe) -> int | None:
        return identify(probe[0][None], g.dlib, g.person_ids, tolerance, margin)[0].person_id
    decide.setting = {"model": "dlib", "tolerance": tolerance, "margin": margin}
    return decide


def fused_decider(rule: FusionRule):
    """dlib and SFace fused (gatekeeper.domain.fusion.identify_fused)."""
    def decide(g: Gallery, probe) -> int | None:
        nan = np.full(128, np.nan, dtype=np.float32)
        sf = nan if probe[2] is None else probe[2]
        soft = np.array([len(probe) > 3 and bool(probe[3])])  # held to the stricter margin
        return identify_fused(probe[0][None], sf[None], np.array([probe[1]], float), g,
                              rule, soft=soft)[0].person_id
    decide.setting = {"model": "dlib+sface", **asdict(rule)}
    return decide


def evaluate(by_identity, decide, n_refs: int = 2, pairs: list | None = None,
             probe_sizes: tuple | None = None, lookalikes_from: dict | None = None) -> dict:
    """Leave-one-out identification on the shared people photos: the first `n_refs` photos of
    each person with more are enrolled, the rest are genuine probes (native size and pasted at
    class-photo sizes); each probe is also tried with its own person left out (an un-enrolled
    child), every photo of a person with too few photos is a stranger, and each look-alike pair
    of PAIRS.csv enrols A from one photo and shows B. `probe_sizes`: the keys of each photo's
    "sizes" shown as probes (default: every one); references are always the "native" ones.
    `lookalikes_from`: where the enrolled A of a look-alike pair may also come from (B is
    always one of `by_identity`)."""

    def shown_sizes(sizes: dict) -> list:
        return [r for k, r in sizes.items() if probe_sizes is None or k in probe_sizes]

    enrolled = {k: v for k, v in by_identity.items() if len(v) > n_refs}
    names = sorted(enrolled)
    rows = [(i, p["sizes"]["native"]) for i, n in enumerate(names) for p in enrolled[n][:n_refs]]
    full = _gallery(rows)
    without = {i: _gallery([r for r in rows if r[0] != i]) for i in range(len(names))}
    wrong_person, unenrolled_shown, genuine_60, recognised_60, probes = 0, 0, 0, 0, 0
    unenrolled_60, wrong_60 = 0, 0
    for i, name in enumerate(names):
        for probe in enrolled[name][n_refs:]:
            for rec in shown_sizes(probe["sizes"]):
                if rec[0] is None:
                    continue
                big = rec[1] >= 60
                probes += 1
                got = decide(full, rec)
                if got is not None and got != i:
                    wrong_person += 1
                    wrong_60 += big
                if big:
                    genuine_60 += 1
                    recognised_60 += got == i
                shown = decide(without[i], rec) is not None
                unenrolled_shown += shown
                unenrolled_60 += shown and big
    files = {(k, p["file"]): p["sizes"] for k, v in by_identity.items() for p in v}
    extra = {(k, p["file"]): p["sizes"] for k, v in (lookalikes_from or {}).items() for p in v}
    lookalike_probes = 0
    for ida, fa, idb, fb in pairs or []:
        a = files.get((ida, fa)) or extra.get((ida, fa))
        if a is None or (idb, fb) not in files:
            continue
        keep = [r for r in rows if names[r[0]] != idb]
        g = _gallery(keep + [(-1, a["native"])])
        for rec in shown_sizes(files[(idb, fb)]):
            if rec[0] is None:
                continue
            lookalike_probes += 1
            shown = decide(g, rec) is not None
            unenrolled_shown += shown
            unenrolled_60 += shown and rec[1] >= 60
    strangers = {k: v for k, v in by_identity.items() if k not in enrolled}
    for probe in itertools.chain.from_iterable(strangers.values()):
        for rec in shown_sizes(probe["sizes"]):
            if rec[0] is None:
                continue
            probes += 1
            shown = decide(full, rec) is not None
            unenrolled_shown += shown
            unenrolled_60 += shown and rec[1] >= 60
    return {**decide.setting, "wrong_person": int(wrong_person),
            "unenrolled_shown": int(unenrolled_shown), "false_shows": int(wrong_person + unenrolled_shown),
            "wrong_person_60px": int(wrong_60), "unenrolled_shown_60px": int(unenrolled_60),
            "recognised_60px": round(recognised_60 / max(1, genuine_60), 4),
            "false_cover_rate_60px": round(1 - recognised_60 / max(1, genuine_60), 4),
            "genuine_faces_60px": genuine_60, "probes": probes,
            "enrolled_people": len(names), "strangers": len(strangers),
            "lookalike_probes": lookalike_probes}


FUSED_GRID = {
    "threshold": tuple(round(x, 2) for x in np.arange(3.0, 5.01, 0.25)),
    "margin": (0.0, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5),
}


def encode_timing(engine, n_faces: int = 40) -> dict:
    """Milliseconds per face for dlib's encoding alone and for SFace's on top (aligned crop +
    network), on faces of the shared photos, one thread."""
    import time

    faces_dir = require_faces()
    samples = []
    for folder in sorted((faces_dir / "people").iterdir()):
        for path in sorted(folder.iterdir())[:2]:
            try:
                img = decode(path.read_bytes(), 200_000_000).pixels
            except InvalidImage:
                continue
            found = [f for f in engine.find_faces(img, look_sideways=False) if f.encoding is not None]
            if found:
                samples.append((np.ascontiguousarray(np.asarray(img.convert("RGB"))), found))
            if len(samples) >= n_faces:
                break
        if len(samples) >= n_faces:
            break
    faces = sum(len(f) for _, f in samples)
    # Alternate the two encoders on each photo and keep each one's fastest of three runs, so
    # that other work on the machine does not land on one model only.
    dlib_s = sface_s = 0.0
    for full, found in samples:
        best_d = best_s = float("inf")
        for _ in range(3):
            start = time.perf_counter()
            engine._encode_dlib(full, found)
            best_d = min(best_d, time.perf_counter() - start)
            start = time.perf_counter()
            engine._encode_sface(full, found)
            best_s = min(best_s, time.perf_counter() - start)
        dlib_s += best_d
        sface_s += best_s
    return {"faces": faces, "dlib_ms_per_face": round(1000 * dlib_s / faces, 2),
            "sface_ms_per_face": round(1000 * sface_s / faces, 2),
            "fused_over_dlib": round((dlib_s + sface_s) / dlib_s, 2)}


def impostor_stats(by_identity) -> dict:
    """Mean and standard deviation of each model's score over different-person pairs (probes at
    every size against native-size photos): the calibration of gatekeeper.domain.fusion.FusionRule."""
    recs = [(name, rec) for name, photos in by_identity.items() for p in photos
            for rec in p["sizes"].values() if rec[0] is not None and rec[2] is not None]
    natives = [(name, p["sizes"]["native"]) for name, photos in by_identity.items() for p in photos
               if p["sizes"]["native"][2] is not None]
    names = np.array([n for n, _ in recs])
    gnames = np.array([n for n, _ in natives])
    d = np.linalg.norm(np.stack([r[0] for _, r in recs])[:, None]
                       - np.stack([r[0] for _, r in natives])[None], axis=2)
    s = np.stack([r[2] for _, r in recs]).astype(np.float64) @ np.stack(
        [r[2] for _, r in natives]).astype(np.float64).T
    other = names[:, None] != gnames[None, :]
    return {"pairs": int(other.sum()),
            "dlib_mean": round(float(d[other].mean()), 4), "dlib_sd": round(float(d[other].std()), 4),
            "sface_mean": round(float(s[other].mean()), 4), "sface_sd": round(float(s[other].std()), 4)}


def run(engine_factory, chosen: tuple[float, float]) -> dict:
    """dlib alone (today's rule, grid) vs the fused rule (gatekeeper.domain.fusion, grid), enrolling two
    reference photos per person and, harder and closer to a school's one photo per pupil, one."""
    engine = engine_factory()
    by_identity = collect(engine)
    pairs = lookalike_pairs(require_faces())
    grid = [evaluate(by_identity, dlib_decider(t, m), pairs=pairs) for t in TOLERANCES for m in MARGINS]
    safe = [g for g in grid if g["false_shows"] == 0]
    best = min(safe, key=lambda g: (g["false_cover_rate_60px"], -g["margin"])) if safe else None
    rule = FusionRule(legacy_tolerance=chosen[0], legacy_margin=chosen[1])
    side_by_side = {}
    for n_refs in (2, 1):
        side_by_side[f"{n_refs}_reference_photos"] = {
            "dlib": evaluate(by_identity, dlib_decider(*chosen), n_refs=n_refs, pairs=pairs),
            "fused": evaluate(by_identity, fused_decider(rule), n_refs=n_refs, pairs=pairs)}
    fused_grid = [evaluate(by_identity, fused_decider(replace(rule, threshold=t, margin=m)),
                           n_refs=1, pairs=pairs)
                  for t, m in itertools.product(FUSED_GRID["threshold"], FUSED_GRID["margin"])]
    dlib_grid_1 = [evaluate(by_identity, dlib_decider(t, m), n_refs=1, pairs=pairs)
                   for t in TOLERANCES for m in MARGINS]
    timing = encode_timing(engine)
    result = {"chosen": side_by_side["2_reference_photos"]["dlib"], "best_zero_false_shows": best,
              "side_by_side": side_by_side, "impostor_stats": impostor_stats(by_identity),
              "encode_timing": timing}
    write("identification", {**result, "grid": grid, "grid_1_reference": dlib_grid_1,
                             "fused_grid_1_reference": fused_grid})
    return result
