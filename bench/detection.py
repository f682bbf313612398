"""Detection on the hand-checked truth (bench/labels/detection_truth.json): group photos, crowd
photos rescaled, and generated 2/12/24 MP scenes with real faces pasted at 8-60 px. Gatekeeper's
scan against face_recognition's default `face_locations(img)` in the same run.

A face counts as found when the areas the publisher would cover (redact.head_region of every
box) hide at least 80% of its truth box: what matters is the pixels, not box overlap. Sizes are
bucketed at publication scale (the largest published side, 4096 px), where the targets are
recall >= 0.995 for faces of 10 px or more and 1.000 for 20 px or more. A box hiding no face is
a false box; covered area is the share of the photo the covers take.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from gatekeeper.domain.redact import head_region

from .common import require_faces, write
from .composites import clutter_images, composite, load_crops
from .label_detection import TRUTH, load_image, size_of
from .whole_scan import save_photo, timed_scans

PUBLISH_SIDE = 4096
BUCKETS = [(0, 10, "<10"), (10, 20, "10-20"), (20, 40, "20-40"), (40, 80, "40-80"),
           (80, 10**6, ">=80")]


def _mask(dets, size: tuple[int, int]) -> np.ndarray:
    w, h = size
    mask = np.zeros((h, w), dtype=bool)
    for t, r, b, left in dets:
        reg = head_region(int(t), int(r), int(b), int(left), w, h)
        mask[reg.y0 : reg.y1, reg.x0 : reg.x1] = True
    return mask


def covered_fraction(truth, dets, size, mask: np.ndarray | None = None) -> float:
    """Share of the truth box (top, right, bottom, left) that the covers of `dets` hide."""
    mask = _mask(dets, size) if mask is None else mask
    t, r, b, left = (int(round(v)) for v in truth)
    patch = mask[max(0, t) : max(0, b), max(0, left) : max(0, r)]
    return float(patch.mean()) if patch.size else 1.0


def _inside(box, region) -> bool:
    t, r, b, left = box
    rt, rr, rb, rl = region
    cx, cy = (left + r) / 2, (t + b) / 2
    return rl <= cx <= rr and rt <= cy <= rb


def score(faces, ignore, dets, size) -> tuple[list[bool], list, float]:
    """Which truth faces are hidden, the boxes that hide no face, and the covered share."""
    mask = _mask(dets, size)
    hit = [covered_fraction(f, dets, size, mask) >= 0.8 for f in faces]
    grown = [(t - 0.5 * (b - t), r + 0.5 * (r - left), b + 0.5 * (b - t), left - 0.5 * (r - left))
             for t, r, b, left in faces]
    false = [d for d in dets if not any(_inside(d, g) for g in list(ignore) + grown)
             and not any(_inside(f, d) for f in faces)]
    return hit, false, float(mask.mean())


def photo_set(faces_dir, truth):
    """(name, image, faces, ignore, kind) for every labelled photo, rescaled crowd and scene."""
    for rel, entry in truth["photos"].items():
        kind = "crowd" if len(entry["faces"]) >= 25 else "group"
        yield rel, load_image(faces_dir, rel), entry["faces"], entry["ignore"], kind
    for r in truth["rescaled"]:
        entry = truth["photos"][r["file"]]
        k = r["scale"]
        img = load_image(faces_dir, r["file"], k)
        yield (f"{r['file']}@{k}", img, [[v * k for v in f] for f in entry["faces"]],
               [[v * k for v in g] for g in entry["ignore"]], "crowd rescaled")
    crops = load_crops(faces_dir, truth["crops"])
    clutter = clutter_images(faces_dir)
    for c in truth["composites"]:
        img, pasted = composite(c["width"], c["height"], crops, c["sizes"], c["seed"], clutter)
        kind = f"scene {round(c['width'] * c['height'] / 1e6)} MP"
        yield c["name"], img, [list(p.box) for p in pasted], [], kind


def _bucket(size_pub: float) -> str:
    return next(b[2] for b in BUCKETS if b[0] <= size_pub < b[1])


def run(engine_factory, with_hog: bool = True) -> dict:
    """Without `with_hog` (a quick look while tuning): recall and engine time only."""
    faces_dir = require_faces()
    truth = json.loads(TRUTH.read_text())
    start = time.perf_counter()
    cpu0 = time.process_time()
    engine = engine_factory()
    load_s, load_cpu = time.perf_counter() - start, time.process_time() - cpu0
    encoding = _time_encodings(engine)
    systems = ["gatekeeper"] + (["face_recognition_default"] if with_hog else [])
    per_bucket = {k: {b[2]: [0, 0] for b in BUCKETS} for k in systems}
    totals = {k: {"seconds": 0.0, "cpu_seconds": 0.0, "false": 0, "covered": 0.0,
                  "false_covered": 0.0} for k in systems}
    by_kind: dict[str, dict] = {}
    photos, missed = [], []
    jpegs = Path(tempfile.mkdtemp(prefix="gk-bench-photos-"))
    for n, (name, img, faces, ignore, kind) in enumerate(photo_set(faces_dir, truth)):
        save_photo(img, jpegs, f"photo{n:03d}")
        mp = img.width * img.height / 1e6
        pub = min(1.0, PUBLISH_SIDE / max(img.size))
        arr = np.asarray(img)
        runs = {}
        t0, c0 = time.perf_counter(), time.process_time()
        found = engine.find_faces(img, look_sideways=True)  # as for photos without EXIF turn
        runs["gatekeeper"] = ([(f.box.top, f.box.right, f.box.bottom, f.box.left) for f in found],
                              time.perf_counter() - t0, time.process_time() - c0)
        if with_hog:
            import face_recognition

            t0, c0 = time.perf_counter(), time.process_time()
            fr = face_recognition.face_locations(arr)
            runs["face_recognition_default"] = (fr, time.perf_counter() - t0,
                                                time.process_time() - c0)
        row = {"photo": name, "kind": kind, "faces": len(faces), "megapixels": round(mp, 2)}
        for system, (dets, secs, cpu) in runs.items():
            hit, false_dets, covered = score(faces, ignore, dets, img.size)
            false = len(false_dets)
            tot = totals[system]
            tot["seconds"] += secs
            tot["cpu_seconds"] += cpu
            tot["false"] += false
            tot["covered"] += covered
            tot["false_covered"] += float(_mask(false_dets, img.size).mean()) if false else 0.0
            for f, h in zip(faces, hit, strict=True):
                b = per_bucket[system][_bucket(size_of(f) * pub)]
                b[0] += h
                b[1] += 1
                if system == "gatekeeper" and not h and size_of(f) * pub >= 10:
                    missed.append({"photo": name, "box": [round(v, 1) for v in f],
                                   "size_pub_px": round(size_of(f) * pub, 1)})
            k = by_kind.setdefault(f"{kind} / {system}", {"seconds": 0.0, "megapixels": 0.0})
            k["seconds"] += secs
            k["megapixels"] += mp
            row[system] = {"recall": round(sum(hit) / max(1, len(faces)), 3), "false": false,
                           "covered_share": round(covered, 4), "seconds": round(secs, 3)}
        photos.append(row)
        print(f"  {name}: " + ", ".join(f"{s} {row[s]['recall']} ({row[s]['seconds']} s)"
                                        for s in runs), flush=True)
    summary = {}
    for system in systems:
        b = per_bucket[system]
        n10 = sum(v[1] for k, v in b.items() if k != "<10")
        h10 = sum(v[0] for k, v in b.items() if k != "<10")
        n20 = sum(v[1] for k, v in b.items() if k not in ("<10", "10-20"))
        h20 = sum(v[0] for k, v in b.items() if k not in ("<10", "10-20"))
        summary[system] = {
            "recall_ge10": round(h10 / n10, 4), "faces_ge10": n10,
            "recall_ge20": round(h20 / n20, 4), "faces_ge20": n20,
            "recall_by_size": {k: (round(v[0] / v[1], 4) if v[1] else None, v[1]) for k, v in b.items()},
            "false_boxes_per_photo": round(totals[system]["false"] / len(photos), 2),
            "covered_share_per_photo": round(totals[system]["covered"] / len(photos), 4),
            "false_covered_share_per_photo": round(totals[system]["false_covered"] / len(photos), 5),
            "seconds": round(totals[system]["seconds"], 2),
            "cpu_seconds": round(totals[system]["cpu_seconds"], 2),
        }
    gk = summary["gatekeeper"]
    whole = timed_scans(faces_dir, jpegs) if with_hog else {}
    shutil.rmtree(jpegs)
    gk["model_loading_s"] = round(load_s, 2)
    gk["encoding_s"] = round(encoding["s"], 2)  # included in seconds: both embeddings
    gk["encoding_cpu_s"] = round(encoding["cpu"], 2)
    if with_hog:
        fr = summary["face_recognition_default"]
        # the target: the real `gatekeeper scan` command against face_recognition's detection
        whole["ratio_to_face_recognition"] = round(whole["seconds"] / fr["seconds"], 3)
        whole["cpu_ratio_to_face_recognition"] = round(whole["cpu_seconds"] / fr["cpu_seconds"], 3)
        # the engine alone, in this process, one core
        gk["engine_ratio"] = round((gk["seconds"] + load_s) / fr["seconds"], 3)
        gk["engine_cpu_ratio"] = round((gk["cpu_seconds"] + load_cpu) / fr["cpu_seconds"], 3)
        # what a scan costs while nobody has a template (scan.py then asks for no encodings)
        gk["engine_ratio_without_encodings"] = round(
            (gk["seconds"] - encoding["s"] + load_s) / fr["seconds"], 3)
    s_per_mp = {k: round(v["seconds"] / v["megapixels"], 3) for k, v in by_kind.items()}
    result = {"summary": summary, "whole_scan": whole, "seconds_per_megapixel": s_per_mp,
              "missed_ge10": missed,
              "publish_side": PUBLISH_SIDE, "photos": photos,
              "peak_rss_mb_24mp": peak_memory_mb(faces_dir, truth) if with_hog else None}
    if with_hog:
        write("detection", result)
    return result


def _time_encodings(engine) -> dict[str, float]:
    """Wrap the engine's encoding step to add up its wall and CPU time (part of the scan's)."""
    spent = {"s": 0.0, "cpu": 0.0}
    inner = getattr(engine, "_encode", None)
    if inner is None:
        return spent

    def timed(*args, **kwargs):
        t0, c0 = time.perf_counter(), time.process_time()
        try:
            return inner(*args, **kwargs)
        finally:
            spent["s"] += time.perf_counter() - t0
            spent["cpu"] += time.process_time() - c0

    engine._encode = timed
    return spent


def peak_memory_mb(faces_dir, truth) -> float:
    """Peak RSS of a fresh worker process that loads the engine and scans the 24 MP scene (a
    JPEG with tiny faces, so the enlarged second look runs too)."""
    spec = next(c for c in truth["composites"] if c["width"] * c["height"] >= 20e6)
    crops = load_crops(faces_dir, truth["crops"])
    img, _ = composite(spec["width"], spec["height"], crops, spec["sizes"], spec["seed"],
                       clutter_images(faces_dir))
    with tempfile.NamedTemporaryFile(suffix=".jpg", delete=False) as fh:
        img.save(fh, "JPEG", quality=90)
    del img
    code = ("import re,sys;from gatekeeper.adapters.faces import FaceEngine;"
            "from gatekeeper.domain.images import decode;e=FaceEngine();"
            "d=decode(open(sys.argv[1],'rb').read(),200_000_000);"
            "e.find_faces(d.pixels, look_sideways=d.orientation_tag is None);"
            "print(int(re.search(r'VmHWM:\\s+(\\d+)',open('/proc/self/status').read())[1])/1024)")
    out = subprocess.run([sys.executable, "-c", code, fh.name], capture_output=True, text=True,
                         check=True)
    Path(fh.name).unlink()
    return round(float(out.stdout.strip().splitlines()[-1]), 1)
